/** Commands that script threads and read them: start, send, pending, show, audit (decisions: decision-commands.ts). */
import type { Client, WorkflowExecutionDescription } from '@temporalio/client';
import { AirlockAgent, AirlockError, AirlockStatus, ErrorType, canonicalJson, isToolName } from '../core';
import { readConversationFromHistory } from '../client/thread-history';
import { withWorkerDeadline } from '../client/worker-deadline';
import { listPendingApprovals } from '../client/pending-approvals';
import { readAuditTrail } from '../client/audit-trail';
import { UsageError } from './args';
import { EXIT, cliName, onThread, positionals, withConnection } from './context';
import { WAIT_USAGE, hasWorker, waitForThread, waitForWorker, waitMs } from './waiting';
import { formatAudit, formatConversation, formatPending, formatResponse } from './format';
import { terminalSafe } from './terminal-text';
import type { AirlockClient } from '../client/airlock-client';
import type { ThreadState } from '../core';
import type { Command } from './command';

const out = (text: string) => process.stdout.write(`${text}\n`);
const jsonLines = (items: unknown[]) => items.forEach((item) => out(JSON.stringify(item)));

export const startCommand: Command = {
  name: 'start',
  usage: `airlock start --thread <id> [--agent <name>] [--json] [--wait <seconds>] "<message>"\n${WAIT_USAGE}`,
  summary: 'Start a thread (or use the existing one) and send it a message',
  spec: { options: ['thread', 'agent', 'wait'], switches: ['json'] },
  run: (args, settings) => {
    const threadId = args.options.thread;
    if (!threadId) throw new UsageError('--thread <id> is required');
    const [message] = positionals(args, ['message']);
    const wait = waitMs(args);
    return withConnection(settings, async ({ airlock, client }, target) => {
      const deadline = Date.now() + wait;
      await waitForWorker(client, target.namespace, target.taskQueue, deadline);
      const response = await onThread(threadId, target.namespace, () =>
        waitForThread(client, threadId, deadline, () => airlock.handleMessage(threadId, message, { agent: args.options.agent ?? 'assistant' })),
      );
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    });
  },
};

export const sendCommand: Command = {
  name: 'send',
  usage: `airlock send <thread> [--json] [--wait <seconds>] "<message>"\n${WAIT_USAGE}`,
  summary: 'Send a message to an existing thread and print the answer or what waits for approval',
  spec: { options: ['wait'], switches: ['json'] },
  run: (args, settings) => {
    const [threadId, message] = positionals(args, ['thread', 'message']);
    const wait = waitMs(args);
    return withConnection(settings, async ({ airlock, client }, target) => {
      const deadline = Date.now() + wait;
      await waitForWorker(client, target.namespace, target.taskQueue, deadline);
      const response = await onThread(threadId, target.namespace, () => waitForThread(client, threadId, deadline, () => airlock.handleMessage(threadId, message)));
      out(args.switches.has('json') ? JSON.stringify(response) : formatResponse(threadId, response));
      return EXIT.ok;
    });
  },
};

export const pendingCommand: Command = {
  name: 'pending',
  usage: 'airlock pending [--tool <name>] [--json]',
  summary: 'List every interrupt waiting for a decision, across threads, oldest first (from visibility)',
  spec: { options: ['tool'], switches: ['json'] },
  run: (args, settings) => {
    positionals(args, []);
    if (args.options.tool !== undefined && !isToolName(args.options.tool)) throw new UsageError('--tool takes a tool name: 1-64 letters, digits, _ or -');
    return withConnection(settings, async ({ client }) => {
      let unreadable = 0;
      const approvals = await listPendingApprovals(client, { tool: args.options.tool, onUnreadable: () => unreadable++ });
      if (unreadable) process.stderr.write(`${unreadable} waiting thread(s) left out: their history is encrypted with keys this client does not have (AIRLOCK_CODEC_KEYS).\n`);
      if (args.switches.has('json')) jsonLines(approvals);
      else out(formatPending(approvals));
      return EXIT.ok;
    });
  },
};

export const showCommand: Command = {
  name: 'show',
  usage:
    'airlock show <thread> [--json]\n' +
    "  With a worker: the live state (--json: the thread's state). Without one (or none answers within 5 s): the conversation\n" +
    "  and pending approvals rebuilt from history, the status from visibility (--json: { source: 'history', status, messages, pending, ... }).",
  summary: "Show a thread's conversation and state (live with a worker; rebuilt from history and visibility without one)",
  spec: { switches: ['json'] },
  run: (args, settings) => {
    const [threadId] = positionals(args, ['thread']);
    return withConnection(settings, async ({ airlock, client }, target) => {
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
    });
  },
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
      out(terminalSafe(`  ${entry.interruptId}  ${entry.toolName} ${canonicalJson(entry.toolArgs)}${entry.policyNote ? `  — ${entry.policyNote}` : ''}${entry.askReason ? ` (asks because ${entry.askReason})` : ''}`));
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
  run: (args, settings) => {
    const [threadId] = positionals(args, ['thread']);
    return withConnection(settings, async ({ client }, target) => {
      const entries = await onThread(threadId, target.namespace, () => readAuditTrail(client, threadId));
      if (args.switches.has('json')) jsonLines(entries);
      else out(formatAudit(entries));
      return EXIT.ok;
    });
  },
};
