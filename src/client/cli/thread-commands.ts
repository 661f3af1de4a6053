/** Commands that script threads, decide interrupts and read the audit trail. */
import { AirlockError, ErrorType } from '../../core';
import { withWorkerDeadline } from '../worker-deadline';
import { listPendingApprovals } from '../pending-approvals';
import { readAuditTrail } from '../audit-trail';
import { UsageError, type ParsedArgs } from './args';
import { CliError, EXIT, approverName, connect, onThread, resolveTarget } from './context';
import { formatAudit, formatConversation, formatPending, formatResponse } from './format';
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

async function withConnection<T>(args: ParsedArgs, fn: (connected: Awaited<ReturnType<typeof connect>>, target: ReturnType<typeof resolveTarget>) => Promise<T>): Promise<T> {
  const target = resolveTarget(args, process.env);
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
  run: (args) =>
    withConnection(args, async ({ airlock }) => {
      const threadId = args.options.thread;
      if (!threadId) throw new UsageError('--thread <id> is required');
      const [message] = positionals(args, ['message']);
      const response = await sendOrExplain(() => airlock.handleMessage(threadId, message, { agent: args.options.agent ?? 'assistant' }));
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    }),
};

export const sendCommand: Command = {
  name: 'send',
  usage: 'airlock send <thread> [--json] "<message>"',
  summary: 'Send a message to an existing thread and print the answer or what waits for approval',
  spec: { switches: ['json'] },
  run: (args) =>
    withConnection(args, async ({ airlock }, target) => {
      const [threadId, message] = positionals(args, ['thread', 'message']);
      const response = await onThread(threadId, target.namespace, () => sendOrExplain(() => airlock.handleMessage(threadId, message)));
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    }),
};

export const pendingCommand: Command = {
  name: 'pending',
  usage: 'airlock pending [--tool <name>] [--json]',
  summary: 'List every interrupt waiting for a decision, across threads, oldest first (from visibility)',
  spec: { options: ['tool'], switches: ['json'] },
  run: (args) =>
    withConnection(args, async ({ client }) => {
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
    usage: `airlock ${verb} <thread> <interrupt> [--as <approver>] [--reason <text>] [--signal]`,
    summary: `${verb === 'approve' ? 'Approve' : 'Reject'} an interrupt; exit code 3 with the reason when the thread refuses it`,
    spec: { options: ['as', 'reason'], switches: ['signal'] },
    run: (args) =>
      withConnection(args, async ({ client, airlock }, target) => {
        const [threadId, interruptId] = positionals(args, ['thread', 'interrupt']);
        const decision = { interruptId, action, approver: approverName(args, process.env), reason: args.options.reason };
        if (args.switches.has('signal')) {
          await onThread(threadId, target.namespace, () => airlock.sendDecision(threadId, decision));
          out(`Sent (signal): ${action} ${interruptId} on ${threadId} as ${decision.approver}; the thread applies it when a worker runs, or ignores it if it does not fit.`);
          return EXIT.ok;
        }
        const outcome = await onThread(threadId, target.namespace, () =>
          withWorkerDeadline(client, threadId, DECISION_WAIT_MS, () => airlock.decide(threadId, decision)).catch((err: Error) => {
            if (AirlockError.isType(err, ErrorType.WorkerUnavailable)) throw new CliError(`${err.message}, or send the decision durably with --signal.`);
            throw err;
          }),
        );
        if (outcome.type === 'refused') {
          process.stderr.write(`Refused (${outcome.errorType}): ${outcome.reason}\n`);
          return EXIT.refused;
        }
        out(`Applied: ${outcome.resolution.type} ${interruptId} on ${threadId} by ${decision.approver}`);
        return EXIT.ok;
      }),
  };
}

export const approveCommand = decisionCommand('accept');
export const rejectCommand = decisionCommand('reject');

export const showCommand: Command = {
  name: 'show',
  usage: 'airlock show <thread> [--json]',
  summary: "Show a thread's conversation and state (needs a running worker)",
  spec: { switches: ['json'] },
  run: (args) =>
    withConnection(args, async ({ airlock }, target) => {
      const [threadId] = positionals(args, ['thread']);
      const state = await onThread(threadId, target.namespace, () => airlock.getState(threadId));
      if (args.switches.has('json')) {
        out(JSON.stringify(state));
        return EXIT.ok;
      }
      out(`Thread ${threadId} — agent ${state.agent}, ${state.status}, ${state.turn} model turns`);
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
  run: (args) =>
    withConnection(args, async ({ client }, target) => {
      const [threadId] = positionals(args, ['thread']);
      const entries = await onThread(threadId, target.namespace, () => readAuditTrail(client, threadId));
      if (args.switches.has('json')) jsonLines(entries);
      else out(formatAudit(entries));
      return EXIT.ok;
    }),
};

async function sendOrExplain<T>(send: () => Promise<T>): Promise<T> {
  try {
    return await send();
  } catch (err) {
    if (err instanceof AirlockError) throw new CliError(err.message);
    const cause = (err as { cause?: { message?: string; type?: string } }).cause;
    if (cause?.type) throw new CliError(`${cause.type}: ${cause.message}`);
    throw err;
  }
}
