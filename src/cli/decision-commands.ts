/**
 * Commands that decide interrupts (approve, reject, edit, respond) and manage the grants an
 * approval can carry (grants, revoke-grant). Every decision names the call it was made on (its
 * `callDigest`) and offers only what the interrupt's policy allows.
 */
import type { Client } from '@temporalio/client';
import { AirlockError, ErrorType, PENDING_MEMO_KEY, canonicalJson, checkGrantShape, checkGrantTtl } from '../core';
import type { Decision, DecisionAction, DecisionOutcome, GrantRequest, PendingSummary, SigningKey } from '../core';
import { readPendingMemo } from '../core/wire-schemas';
import { AirlockClient } from '../client/airlock-client';
import { loadSigningKey } from '../client/signing-keys';
import { withWorkerDeadline } from '../client/worker-deadline';
import { UsageError, type ParsedArgs } from './args';
import type { Command } from './command';
import type { Settings } from './config';
import { CliError, EXIT, cliName, onThread, positionals, withConnection } from './context';
import { describeMatch, formatGrants } from './format';
import { terminalSafe } from './terminal-text';

/** How long a decision (an Update) waits for a worker to answer. */
const DECISION_WAIT_MS = 30_000;

const out = (text: string) => process.stdout.write(`${text}\n`);
const err = (text: string) => process.stderr.write(`${text}\n`);

/** The command that sends each action. */
const VERB: Record<DecisionAction, string> = { accept: 'approve', reject: 'reject', edit: 'edit', respond: 'respond' };

const APPROVER_USAGE = '  --as <approver> (or --approver; default AIRLOCK_APPROVER, else the OS user): who decides, as history records it';
const DIGEST_USAGE =
  '  --call-digest <digest>: the callDigest of the call you looked at (airlock pending --json); the thread refuses the decision\n' +
  '    (exit 3) if the call changed since. Default: the one its pending summary shows now.';
const KEY_USAGE = '  --key <file> (or AIRLOCK_SIGNING_KEY): sign the decision with your key from `airlock keys create`; the approver is its owner.';
const SIGNAL_USAGE = '  --signal: send it durably without waiting for the outcome (works while no worker runs); the thread applies it, or refuses it on record.';
const GRANT_USAGE =
  '  --grant <argument>=<pattern>: also let later calls of the tool in this thread whose argument matches run without asking\n' +
  "    (`*` within a path segment, `**` across segments; repeat it for more arguments: all must match), e.g. --grant 'path=scratch/**'.\n" +
  "  --grant-ttl <duration>: how long the grant lasts (30s, 15m, 8h, 2d); default until revoked (or the policy's cap).";

interface DecisionCommandSpec {
  action: DecisionAction;
  /** The usage's first line after the thread and interrupt. */
  required?: string;
  summary: string;
  /** Lines that explain the command's own options. */
  explain: string[];
  options: string[];
  lists?: string[];
}

const SPECS: DecisionCommandSpec[] = [
  {
    action: 'accept',
    summary: 'Approve an interrupt (optionally granting later matching calls); exit code 3 with the reason when the thread refuses it',
    explain: [GRANT_USAGE],
    options: ['grant-ttl'],
    lists: ['grant'],
  },
  {
    action: 'reject',
    summary: 'Reject an interrupt: the tool does not run and the model reads why; exit code 3 when the thread refuses it',
    explain: [],
    options: [],
  },
  {
    action: 'edit',
    required: "--args '<json object>'",
    summary: 'Run an interrupt with other arguments (checked by the worker; a stricter policy on them escalates it); exit code 3 when refused',
    explain: [
      '  --args \'<json object>\': the arguments to run instead, all of them, e.g. --args \'{"amount": 50, "to": "acme"}\'. The worker checks\n' +
        "    them against the tool's schema and evaluates the policy on them: if they need a stricter approver, the call waits for one.",
      GRANT_USAGE,
    ],
    options: ['args', 'grant-ttl'],
    lists: ['grant'],
  },
  {
    action: 'respond',
    required: '--message <text>',
    summary: "Answer an interrupt in the tool's place: the tool does not run, the model reads your message as its result",
    explain: ["  --message <text>: what the model reads instead of the tool's result."],
    options: ['message'],
  },
];

function decisionCommand(spec: DecisionCommandSpec): Command {
  const verb = VERB[spec.action];
  const grants = spec.lists?.includes('grant') ? ' [--grant <argument>=<pattern>]... [--grant-ttl <duration>]' : '';
  const usage =
    `airlock ${verb} <thread> <interrupt>${spec.required ? ` ${spec.required}` : ''} [--as <approver>] [--reason <text>]${grants} [--call-digest <digest>] [--key <file>] [--signal]\n` +
    [...spec.explain, APPROVER_USAGE, DIGEST_USAGE, KEY_USAGE, SIGNAL_USAGE].join('\n');
  return {
    name: verb,
    usage,
    summary: spec.summary,
    spec: { options: ['as', 'approver', 'reason', 'key', 'call-digest', ...spec.options], switches: ['signal'], lists: spec.lists },
    run: (args, settings) => {
      // What the command line says is checked before connecting: a malformed decision needs no server to be refused.
      const [threadId, interruptId] = positionals(args, ['thread', 'interrupt']);
      const input = readDecisionInput(spec.action, args);
      const signingKey = readSigningKey(settings.signingKeyFile);
      const approver = chooseApprover(args, settings, signingKey);
      return withConnection(settings, async ({ client }, target) => {
        const airlock = new AirlockClient({ client, taskQueue: target.taskQueue, signingKey });
        const summary = await onThread(threadId, target.namespace, () => pendingSummary(client, threadId, interruptId));
        if (summary) offeredByPolicy(summary, spec.action, input.grant);
        const callDigest = args.options['call-digest'] ?? summary?.callDigest;
        const decision: Decision = {
          interruptId,
          action: spec.action,
          approver,
          ...(args.options.reason !== undefined && { reason: args.options.reason }),
          ...input,
          ...(callDigest !== undefined && { callDigest }),
        };
        if (args.switches.has('signal')) {
          await onThread(threadId, target.namespace, () => airlock.sendDecision(threadId, decision));
          out(terminalSafe(`Sent (signal): ${spec.action} ${interruptId} on ${threadId} as ${approver}; the thread applies it when a worker runs, or refuses it (on record) if it does not fit.`));
          return EXIT.ok;
        }
        const outcome = await onThread(threadId, target.namespace, () =>
          withWorkerDeadline(client, threadId, DECISION_WAIT_MS, () => airlock.decide(threadId, decision)).catch((error: Error) => {
            if (AirlockError.isType(error, ErrorType.WorkerUnavailable)) throw new CliError(`${error.message}, or send the decision durably with --signal.`);
            throw error;
          }),
        );
        return reportOutcome(threadId, interruptId, approver, outcome);
      });
    },
  };
}

/** The action's own parts of the decision: an edit's arguments, a response's message, a grant. */
function readDecisionInput(action: DecisionAction, args: ParsedArgs): Pick<Decision, 'args' | 'message' | 'grant'> {
  const grant = readGrant(args.lists.grant, args.options['grant-ttl']);
  const digest = args.options['call-digest'];
  if (digest !== undefined && !/^[0-9a-f]{64}$/.test(digest)) throw new UsageError('--call-digest takes the 64-character hex callDigest that airlock pending --json shows');
  if (action === 'edit') return { args: readEditArguments(args.options.args), ...(grant && { grant }) };
  if (action === 'respond') {
    const message = args.options.message;
    if (message === undefined || message.trim() === '') throw new UsageError("--message <text> is required: what the model reads instead of the tool's result");
    return { message };
  }
  return grant ? { grant } : {};
}

/**
 * `--args`: a JSON object.
 * @throws UsageError for text that is not JSON, or JSON that is not an object
 */
function readEditArguments(text: string | undefined): Record<string, unknown> {
  if (text === undefined) throw new UsageError("--args '<json object>' is required: the arguments to run instead");
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`--args is not valid JSON (${(error as Error).message}); give a JSON object such as '{"path": "notes.txt"}'`);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    throw new UsageError(`--args must be a JSON object such as '{"path": "notes.txt"}', not ${Array.isArray(value) ? 'an array' : typeof value === 'object' ? 'null' : `a ${typeof value}`}`);
  return value as Record<string, unknown>;
}

/**
 * `--grant <argument>=<pattern>` (repeatable) and `--grant-ttl <duration>`, as a grant request.
 * @throws UsageError for a malformed pattern, a repeated argument, or a time to live without a grant
 */
function readGrant(patterns: string[] | undefined, ttl: string | undefined): GrantRequest | undefined {
  if (!patterns?.length) {
    if (ttl !== undefined) throw new UsageError('--grant-ttl goes with --grant <argument>=<pattern>');
    return undefined;
  }
  const entries: [string, string][] = [];
  for (const item of patterns) {
    const at = item.indexOf('=');
    if (at <= 0) throw new UsageError(`--grant takes <argument>=<pattern>, e.g. --grant 'path=scratch/**' (got ${JSON.stringify(item)})`);
    const name = item.slice(0, at);
    if (entries.some(([seen]) => seen === name)) throw new UsageError(`--grant names the argument ${JSON.stringify(name)} twice`);
    entries.push([name, item.slice(at + 1)]);
  }
  const grant: GrantRequest = { match: Object.fromEntries(entries), ...(ttl !== undefined && { ttl }) };
  const problem = checkGrantShape(grant) ?? checkGrantTtl(grant);
  if (problem) throw new UsageError(`--grant${ttl !== undefined ? '/--grant-ttl' : ''}: ${problem}`);
  return grant;
}

function chooseApprover(args: ParsedArgs, settings: Settings, signingKey: SigningKey | undefined): string {
  const named = args.options.as ?? args.options.approver;
  if (args.options.as !== undefined && args.options.approver !== undefined && args.options.as !== args.options.approver) {
    throw new UsageError('--as and --approver name the same thing: give one');
  }
  const approver = signingKey?.kind === 'approver' && named === undefined ? signingKey.owner : settings.approver;
  if (signingKey?.kind === 'approver' && approver !== signingKey.owner) {
    throw new UsageError(`Key '${signingKey.keyId}' signs for ${signingKey.owner} only; leave out --as or use another key`);
  }
  return approver;
}

function readSigningKey(file: string | undefined): SigningKey | undefined {
  if (!file) return undefined;
  try {
    return loadSigningKey(file);
  } catch (error) {
    throw new CliError((error as Error).message);
  }
}

/**
 * The pending summary of one interrupt, as the thread keeps it in its memo (read from the
 * execution itself, not the visibility index, so it is current); `undefined` when it does not wait
 * (decided, unknown) or the memo cannot be read.
 */
async function pendingSummary(client: Client, threadId: string, interruptId: string): Promise<PendingSummary | undefined> {
  const description = await client.workflow.getHandle(threadId).describe();
  try {
    return readPendingMemo(description.memo?.[PENDING_MEMO_KEY]).find((summary) => summary.id === interruptId);
  } catch {
    // A memo this release cannot read: the thread itself judges the decision.
    return undefined;
  }
}

/**
 * Fails early (exit 3, nothing sent) for what the interrupt's policy does not offer: a decision it
 * does not allow, or a grant it forbids. The thread would refuse either.
 */
function offeredByPolicy(summary: PendingSummary, action: DecisionAction, grant: GrantRequest | undefined): void {
  const tool = summary.toolName;
  if (summary.allowedDecisions && !summary.allowedDecisions.includes(action)) {
    const offered = summary.allowedDecisions.map((allowed) => VERB[allowed]).join(', ');
    throw new CliError(`Not sent: the policy of '${tool}' does not allow '${action}' decisions on ${summary.id} (allowed: ${offered}); the thread would refuse it.`, EXIT.refused);
  }
  // Summaries that carry a callDigest say whether grants are allowed (older ones do not).
  if (grant && summary.callDigest !== undefined && !summary.grants) {
    throw new CliError(`Not sent: the policy of '${tool}' does not allow grants; decide without --grant.`, EXIT.refused);
  }
}

/** Prints what the decision did and returns the exit code: 0 applied or escalated, 3 refused. */
function reportOutcome(threadId: string, interruptId: string, approver: string, outcome: DecisionOutcome): number {
  if (outcome.type === 'refused') {
    err(terminalSafe(`Refused (${outcome.errorType}): ${outcome.reason}`, { keepNewlines: true }));
    return EXIT.refused;
  }
  if (outcome.type === 'escalated') {
    const waiting = outcome.interrupt;
    const who = waiting.policy.approvers?.length ? waiting.policy.approvers.join(' or ') : 'another approval';
    out(terminalSafe(`Escalated: your edit of ${interruptId} on ${threadId} was kept, but the edited call needs another approver; nothing ran.`));
    out(terminalSafe(`It now waits for ${who}${waiting.askReason ? `: ${waiting.askReason}` : ''}.`));
    out(terminalSafe(`Arguments now: ${canonicalJson(waiting.toolArgs)}`));
    return EXIT.ok;
  }
  const resolution = outcome.resolution;
  const signed = 'signedBy' in resolution ? resolution.signedBy : undefined;
  const what =
    resolution.type === 'edited' ? `: it runs with ${canonicalJson(resolution.args)}` : resolution.type === 'responded' ? ': the tool does not run; the model reads your message as its result' : '';
  out(terminalSafe(`Applied: ${resolution.type} ${interruptId} on ${threadId} by ${approver}${signed ? ` (signed with key ${signed.keyId})` : ''}${what}`));
  const grant = outcome.grant;
  if (grant) {
    out(
      terminalSafe(
        `Granted ${grant.id}: later ${grant.toolName} calls in ${threadId} whose ${describeMatch(grant.match)} run without asking, ` +
          `${grant.expiresAt ? `until ${grant.expiresAt} or ` : ''}until revoked (${cliName()} revoke-grant ${threadId} ${grant.id}).`,
      ),
    );
  }
  return EXIT.ok;
}

export const [approveCommand, rejectCommand, editCommand, respondCommand] = SPECS.map(decisionCommand);

export const grantsCommand: Command = {
  name: 'grants',
  usage: "airlock grants <thread> [--json]\n  Read from the thread's history: works while no worker runs. --json: one grant per line, as the thread recorded it.",
  summary: "A thread's grants (active, revoked, expired): the tool, the patterns, who granted, until when, how often used",
  spec: { switches: ['json'] },
  run: (args, settings) => {
    const [threadId] = positionals(args, ['thread']);
    return withConnection(settings, async ({ airlock }, target) => {
      const grants = await onThread(threadId, target.namespace, () => airlock.grants(threadId));
      if (args.switches.has('json')) grants.forEach((grant) => out(JSON.stringify(grant)));
      else {
        const open = (await airlock.handle(threadId).describe()).status.name === 'RUNNING';
        out(formatGrants(threadId, grants, Date.now(), open));
      }
      return EXIT.ok;
    });
  },
};

export const revokeGrantCommand: Command = {
  name: 'revoke-grant',
  usage:
    'airlock revoke-grant <thread> <grant> [--as <approver>] [--reason <text>]\n' +
    "  The granter, or anyone the tool's policy lets approve, may revoke; later calls it covered are asked about again.\n" +
    APPROVER_USAGE,
  summary: 'Revoke a grant: later matching calls are asked about again; exit code 3 with the reason when the thread refuses',
  spec: { options: ['as', 'approver', 'reason'] },
  run: (args, settings) => {
    const [threadId, grantId] = positionals(args, ['thread', 'grant']);
    const by = chooseApprover(args, settings, undefined);
    return withConnection(settings, async ({ airlock, client }, target) => {
      const outcome = await onThread(threadId, target.namespace, () => withWorkerDeadline(client, threadId, DECISION_WAIT_MS, () => airlock.revokeGrant(threadId, grantId, by, args.options.reason)));
      if (outcome.type === 'refused') {
        err(terminalSafe(`Refused (${outcome.errorType}): ${outcome.reason}`, { keepNewlines: true }));
        return EXIT.refused;
      }
      out(terminalSafe(`Revoked ${outcome.grant.id} on ${threadId} by ${by}: later ${outcome.grant.toolName} calls it covered are asked about again.`));
      return EXIT.ok;
    });
  },
};
