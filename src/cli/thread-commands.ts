/** Commands that script threads, decide interrupts and read the audit trail. */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { AirlockAgent, AirlockError, AirlockStatus, ErrorType, canonicalJson } from '../core';
import { readConversationFromHistory } from '../client/thread-history';
import { withWorkerDeadline } from '../client/worker-deadline';
import { listPendingApprovals } from '../client/pending-approvals';
import { readAuditTrail } from '../client/audit-trail';
import { UsageError, type ParsedArgs } from './args';
import { CliError, EXIT, cliName, connect, onThread, resolveTarget } from './context';
import { WAIT_USAGE, hasWorker, waitForThread, waitForWorker, waitMs } from './waiting';
import type { Settings } from './config';
import { formatAudit, formatConversation, formatPending, formatResponse } from './format';
import { loadSigningKey } from '../client/signing-keys';
import { terminalSafe } from './terminal-text';
import { AirlockClient } from '../client/airlock-client';
import type { SigningKey, ThreadState } from '../core';
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
  usage: `airlock start --thread <id> [--agent <name>] [--json] [--wait <seconds>] "<message>"\n${WAIT_USAGE}`,
  summary: 'Start a thread (or use the existing one) and send it a message',
  spec: { options: ['thread', 'agent', 'wait'], switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock, client }, target) => {
      const threadId = args.options.thread;
      if (!threadId) throw new UsageError('--thread <id> is required');
      const [message] = positionals(args, ['message']);
      const deadline = Date.now() + waitMs(args);
      await waitForWorker(client, target.namespace, target.taskQueue, deadline);
      const response = await onThread(threadId, target.namespace, () =>
        waitForThread(client, threadId, deadline, () => airlock.handleMessage(threadId, message, { agent: args.options.agent ?? 'assistant' })),
      );
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    }),
};

export const sendCommand: Command = {
  name: 'send',
  usage: `airlock send <thread> [--json] [--wait <seconds>] "<message>"\n${WAIT_USAGE}`,
  summary: 'Send a message to an existing thread and print the answer or what waits for approval',
  spec: { options: ['wait'], switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock, client }, target) => {
      const [threadId, message] = positionals(args, ['thread', 'message']);
      const deadline = Date.now() + waitMs(args);
      await waitForWorker(client, target.namespace, target.taskQueue, deadline);
      const response = await onThread(threadId, target.namespace, () => waitForThread(client, threadId, deadline, () => airlock.handleMessage(threadId, message)));
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
        if (outcome.type === 'escalated') {
          const waiting = outcome.interrupt;
          out(terminalSafe(`Edited: ${interruptId} on ${threadId} now waits for ${waiting.policy.approvers?.length ? waiting.policy.approvers.join(' or ') : 'another approval'}${waiting.askReason ? ` (${waiting.askReason})` : ''}; nothing ran.`));
          return EXIT.ok;
        }
        const signed = 'signedBy' in outcome.resolution ? outcome.resolution.signedBy : undefined;
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
  usage:
    'airlock show <thread> [--json]\n' +
    "  With a worker: the live state (--json: the thread's state). Without one (or none answers within 5 s): the conversation\n" +
    "  and pending approvals rebuilt from history, the status from visibility (--json: { source: 'history', status, messages, pending, ... }).",
  summary: "Show a thread's conversation and state (live with a worker; rebuilt from history and visibility without one)",
  spec: { switches: ['json'] },
  run: (args, settings) =>
    withConnection(settings, async ({ airlock, client }, target) => {
      const [threadId] = positionals(args, ['thread']);
      const description = await onThread(threadId, target.namespace, () => client.workflow.getHandle(threadId).describe());
      const live = (await hasWorker(client, target.namespace, description.taskQueue)) ? await liveState(airlock, client, threadId) : undefined;
      if (!live) return showFromHistory(client, threadId, target.namespace, description, args.switches.has('json'));
      const state = live;
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

/** How long `show` waits for a worker to answer the state query before it reads history instead. */
const LIVE_STATE_WAIT_MS = 5_000;

/** The live state from a worker, or undefined when none answers in time (a worker that just stopped still looks present for a while). */
async function liveState(airlock: AirlockClient, client: Client, threadId: string): Promise<ThreadState | undefined> {
  const notice = setTimeout(() => process.stderr.write(`Asking a worker for the live state of ${terminalSafe(threadId)} (up to ${LIVE_STATE_WAIT_MS / 1000}s)…\n`), 500);
  try {
    return await withWorkerDeadline(client, threadId, LIVE_STATE_WAIT_MS, () => airlock.getState(threadId));
  } catch (err) {
    if (AirlockError.isType(err, ErrorType.ThreadNotFound)) throw err;
    return undefined;
  } finally {
    clearTimeout(notice);
  }
}

/** `show` without a worker: the conversation and pending approvals from history, the status from visibility. */
async function showFromHistory(client: Client, threadId: string, namespace: string, description: WorkflowExecutionDescription, json: boolean): Promise<number> {
  const [messages, audit] = await onThread(threadId, namespace, () => Promise.all([readConversationFromHistory(client, threadId), readAuditTrail(client, threadId)]));
  const attributes = description.typedSearchAttributes;
  const status = attributes.get(AirlockStatus) ?? 'unknown';
  const agent = attributes.get(AirlockAgent) ?? 'unknown';
  const pending = audit.filter((entry) => entry.decision === 'pending');
  const running = description.status.name === 'RUNNING';
  const note = running
    ? `No worker answered for task queue ${description.taskQueue}: this is rebuilt from history and visibility; live state needs a worker (${cliName()} worker --task-queue ${description.taskQueue}).`
    : `The thread has ended (${description.status.name.toLowerCase()}): this is rebuilt from its history.`;
  if (json) {
    out(JSON.stringify({ source: 'history', threadId, agent, status, executionStatus: description.status.name, taskQueue: description.taskQueue, messages, pending }));
    process.stderr.write(`${note}\n`);
    return EXIT.ok;
  }
  out(terminalSafe(`Thread ${threadId} — agent ${agent}, ${status} (visibility), execution ${description.status.name.toLowerCase()}`));
  process.stderr.write(`${note}\n`);
  out(formatConversation(messages));
  if (pending.length) {
    out(`\nThread ${terminalSafe(threadId)} waits for approval:`);
    for (const entry of pending) {
      out(terminalSafe(`  ${entry.interruptId}  ${entry.toolName} ${canonicalJson(entry.toolArgs)}${entry.policyNote ? `  — ${entry.policyNote}` : ''}`));
    }
    const first = terminalSafe(pending[0].interruptId);
    out(`    ${cliName()} approve ${terminalSafe(threadId)} ${first}   |   ${cliName()} reject ${terminalSafe(threadId)} ${first} --reason "..."`);
  }
  return EXIT.ok;
}

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
