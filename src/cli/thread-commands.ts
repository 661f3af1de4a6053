/** Commands that script threads, decide interrupts and read the audit trail. */
import { AirlockError, ErrorType } from '../core';
import { withWorkerDeadline } from '../client/worker-deadline';
import { listPendingApprovals } from '../client/pending-approvals';
import { readAuditTrail } from '../client/audit-trail';
import { UsageError, type ParsedArgs } from './args';
import { CliError, EXIT, connect, onThread, resolveTarget } from './context';
import type { Settings } from './config';
import { formatAudit, formatConversation, formatPending, formatResponse } from './format';
import { loadSigningKey } from '../client/signing-keys';
import { terminalSafe } from './terminal-text';
import { AirlockClient } from '../client/airlock-client';
import type { SigningKey } from '../core';
import type { Command } from './command';

const DECISION_WAIT_MS = 30_000;

const out = (text: string) => process.stdout.write(`${text}\n`);
const jsonLines = (items: unknown[]) => items.forEach((item) => out(JSON.stringify(item)));

function positionals(args: ParsedArgs, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    throw new UsageError(`Expected ${names.map((name) => `<${name}>`).join(' ')}, got ${args.positionals.length} argument(s)`);
  }
  return args.positionals;
}

async function withConnection<T>(settings: Settings, fn: (connected: Awaited<ReturnType<typeof connect>>, target: ReturnType<typeof resolveTarget>) => Promise<T>): Promise<T> {
  const target = resolveTarget(settings);
  const connected = await connect(target);
  try {
    return await fn(connected, target);
  } finally {
    await connected.close();
  }
}

export const startCommand: Command = {
  name: 'start',
  usage: 'airlock start --thread <id> [--agent <name>] [--json] "<message>"',
  summary: 'Start a thread (or use the existing one) and send it a message',
  spec: { options: ['thread', 'agent'], switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock }, target) => {
      const threadId = args.options.thread;
      if (!threadId) throw new UsageError('--thread <id> is required');
      const [message] = positionals(args, ['message']);
      const response = await onThread(threadId, target.namespace, () => airlock.handleMessage(threadId, message, { agent: args.options.agent ?? 'assistant' }));
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    }),
};

export const sendCommand: Command = {
  name: 'send',
  usage: 'airlock send <thread> [--json] "<message>"',
  summary: 'Send a message to an existing thread and print the answer or what waits for approval',
  spec: { switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock }, target) => {
      const [threadId, message] = positionals(args, ['thread', 'message']);
      const response = await onThread(threadId, target.namespace, () => airlock.handleMessage(threadId, message));
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    }),
};

export const pendingCommand: Command = {
  name: 'pending',
  usage: 'airlock pending [--tool <name>] [--json]',
  summary: 'List every interrupt waiting for a decision, across threads, oldest first (from visibility)',
  spec: { options: ['tool'], switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ client }) => {
      positionals(args, []);
      const approvals = await listPendingApprovals(client, { tool: args.options.tool }).catch((err: Error) => {
        throw /Invalid tool name/.test(err.message) ? new UsageError(err.message) : err;
      });
      if (args.switches.has('json')) jsonLines(approvals);
      else out(formatPending(approvals));
      return EXIT.ok;
    }),
};

function decisionCommand(action: 'accept' | 'reject'): Command {
  const verb = action === 'accept' ? 'approve' : 'reject';
  return {
    name: verb,
    usage:
      `airlock ${verb} <thread> <interrupt> [--as <approver>] [--key <file>] [--reason <text>] [--signal]\n` +
      '  --key (or AIRLOCK_SIGNING_KEY): sign the decision with your key from `airlock keys create`; the approver is its owner.',
    summary: `${verb === 'approve' ? 'Approve' : 'Reject'} an interrupt; exit code 3 with the reason when the thread refuses it`,
    spec: { options: ['as', 'reason', 'key'], switches: ['signal'] },
    run: (args, settings) =>
      withConnection(settings, async ({ client }, target) => {
        const [threadId, interruptId] = positionals(args, ['thread', 'interrupt']);
        const signingKey = readSigningKey(settings.signingKeyFile);
        const approver = signingKey?.kind === 'approver' && !args.options.as ? signingKey.owner : settings.approver;
        if (signingKey?.kind === 'approver' && approver !== signingKey.owner) {
          throw new UsageError(`Key '${signingKey.keyId}' signs for ${signingKey.owner} only; leave out --as or use another key`);
        }
        const airlock = new AirlockClient({ client, taskQueue: target.taskQueue, signingKey });
        const decision = { interruptId, action, approver, reason: args.options.reason };
        if (args.switches.has('signal')) {
          await onThread(threadId, target.namespace, () => airlock.sendDecision(threadId, decision));
          out(terminalSafe(`Sent (signal): ${action} ${interruptId} on ${threadId} as ${decision.approver}; the thread applies it when a worker runs, or refuses it (on record) if it does not fit.`));
          return EXIT.ok;
        }
        const outcome = await onThread(threadId, target.namespace, () =>
          withWorkerDeadline(client, threadId, DECISION_WAIT_MS, () => airlock.decide(threadId, decision)).catch((err: Error) => {
            if (AirlockError.isType(err, ErrorType.WorkerUnavailable)) throw new CliError(`${err.message}, or send the decision durably with --signal.`);
            throw err;
          }),
        );
        if (outcome.type === 'refused') {
          process.stderr.write(`${terminalSafe(`Refused (${outcome.errorType}): ${outcome.reason}`)}\n`);
          return EXIT.refused;
        }
        const signed = outcome.resolution.type === 'accepted' || outcome.resolution.type === 'rejected' ? outcome.resolution.signedBy : undefined;
        out(terminalSafe(`Applied: ${outcome.resolution.type} ${interruptId} on ${threadId} by ${decision.approver}${signed ? ` (signed with key ${signed.keyId})` : ''}`));
        return EXIT.ok;
      }),
  };
}

function readSigningKey(file: string | undefined): SigningKey | undefined {
  if (!file) return undefined;
  try {
    return loadSigningKey(file);
  } catch (err) {
    throw new CliError((err as Error).message);
  }
}

export const approveCommand = decisionCommand('accept');
export const rejectCommand = decisionCommand('reject');

export const showCommand: Command = {
  name: 'show',
  usage: 'airlock show <thread> [--json]',
  summary: "Show a thread's conversation and state (needs a running worker)",
  spec: { switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock }, target) => {
      const [threadId] = positionals(args, ['thread']);
      const state = await onThread(threadId, target.namespace, () => airlock.getState(threadId));
      if (args.switches.has('json')) {
        out(JSON.stringify(state));
        return EXIT.ok;
      }
      out(terminalSafe(`Thread ${threadId} — agent ${state.agent}, ${state.status}, ${state.turn} model turns`));
      out(formatConversation(state.messages));
      if (state.pendingInterrupts.length) out(`\n${formatResponse(threadId, { content: '', state })}`);
      return EXIT.ok;
    }),
};

export const auditCommand: Command = {
  name: 'audit',
  usage: 'airlock audit <thread> [--json]',
  summary: "The thread's audit trail, rebuilt from its event history (completed threads too)",
  spec: { switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ client }, target) => {
      const [threadId] = positionals(args, ['thread']);
      const entries = await onThread(threadId, target.namespace, () => readAuditTrail(client, threadId));
      if (args.switches.has('json')) jsonLines(entries);
      else out(formatAudit(entries));
      return EXIT.ok;
    }),
};
