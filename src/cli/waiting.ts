/**
 * Waiting in plain sight: a command that waits for a worker or for a thread says what it waits
 * for within a second (on stderr), prints a progress line every few seconds, and gives up at its
 * deadline (`--wait <seconds>`) with what to do next.
 */
import { isGrpcCancelledError, isGrpcDeadlineError, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import { listPendingApprovals } from '../client/pending-approvals';
import { UsageError, type ParsedArgs } from './args';
import { CliError, cliName } from './context';

/** The default of `--wait`, in seconds. */
export const DEFAULT_WAIT_SECONDS = 60;
const FIRST_NOTICE_MS = 500;
const PROGRESS_EVERY_MS = 5_000;
/** A poller seen more recently than this counts as a running worker (long polls last about a minute). */
const POLLER_FRESH_MS = 75_000;

const log = (text: string) => process.stderr.write(`${text}\n`);

/** The `--wait <seconds>` option, in milliseconds. */
export function waitMs(args: Pick<ParsedArgs, 'options'>): number {
  const raw = args.options.wait;
  if (raw === undefined) return DEFAULT_WAIT_SECONDS * 1000;
  const seconds = Number(raw);
  if (!Number.isFinite(seconds) || seconds <= 0) throw new UsageError('--wait takes a number of seconds greater than 0');
  return seconds * 1000;
}

export const WAIT_USAGE = `  --wait <seconds>: how long to wait for a worker and for the answer before giving up (exit 1), default ${DEFAULT_WAIT_SECONDS}`;

/** True when a worker has polled the task queue for workflow tasks lately. */
export async function hasWorker(client: Client, namespace: string, taskQueue: string): Promise<boolean> {
  const { pollers } = await client.workflowService.describeTaskQueue({
    namespace,
    taskQueue: { name: taskQueue, kind: temporal.api.enums.v1.TaskQueueKind.TASK_QUEUE_KIND_NORMAL },
    taskQueueType: temporal.api.enums.v1.TaskQueueType.TASK_QUEUE_TYPE_WORKFLOW,
  });
  const now = Date.now();
  return (pollers ?? []).some((poller) => {
    const seconds = Number(poller.lastAccessTime?.seconds ?? 0);
    return now - seconds * 1000 < POLLER_FRESH_MS;
  });
}

/**
 * Waits until a worker polls the task queue, saying so, or fails at the deadline.
 * @throws CliError when no worker came before `deadline`
 */
export async function waitForWorker(client: Client, namespace: string, taskQueue: string, deadline: number, nothingSent = 'Nothing was sent'): Promise<void> {
  if (await hasWorker(client, namespace, taskQueue)) return;
  const started = Date.now();
  log(`Waiting for a worker on task queue ${taskQueue}… (start one with: ${cliName()} worker --task-queue ${taskQueue})`);
  let lastProgress = started;
  for (;;) {
    await sleep(1_000);
    if (await hasWorker(client, namespace, taskQueue)) {
      log('A worker is up.');
      return;
    }
    if (Date.now() >= deadline) {
      throw new CliError(`No worker polled task queue ${taskQueue} within ${seconds(Date.now() - started)}s. ${nothingSent}. Start one with: ${cliName()} worker --task-queue ${taskQueue}, then run this again (or wait longer with --wait <seconds>).`);
    }
    if (Date.now() - lastProgress >= PROGRESS_EVERY_MS) {
      lastProgress = Date.now();
      log(`  still waiting for a worker on task queue ${taskQueue} (${seconds(Date.now() - started)}s)…`);
    }
  }
}

/** What a thread waits for, in one line: its pending approvals (from visibility), or its work. */
async function describeThreadWait(client: Client, threadId: string): Promise<{ text: string; interruptIds: string[] }> {
  const pending = (await listPendingApprovals(client).catch(() => [])).filter((approval) => approval.threadId === threadId);
  if (pending.length === 0) return { text: `thread ${threadId} is working on it (the model or a tool runs)`, interruptIds: [] };
  const ids = pending.map((approval) => approval.id);
  return { text: `thread ${threadId} waits for approval ${ids.join(', ')}; your message is queued`, interruptIds: ids };
}

/**
 * Runs a call that waits for a thread's answer: after a moment says what the thread waits for,
 * prints progress, and at the deadline fails with what to do next.
 * @throws CliError at the deadline
 */
export async function waitForThread<T>(client: Client, threadId: string, deadline: number, fn: () => Promise<T>): Promise<T> {
  const started = Date.now();
  let waitingFor: { text: string; interruptIds: string[] } | undefined;
  let done = false;
  const notice = setTimeout(() => {
    void describeThreadWait(client, threadId).then((found) => {
      if (done) return;
      waitingFor = found;
      log(`Waiting: ${found.text}…`);
    });
  }, FIRST_NOTICE_MS);
  const progress = setInterval(() => log(`  still waiting (${seconds(Date.now() - started)}s)${waitingFor ? `: ${waitingFor.text}` : ''}…`), PROGRESS_EVERY_MS);
  try {
    return await client.withDeadline(deadline, fn);
  } catch (err) {
    if (!(isGrpcDeadlineError(err) || (isGrpcCancelledError(err) && Date.now() >= deadline))) throw err;
    const found = await describeThreadWait(client, threadId);
    const next = found.interruptIds.length
      ? `It waits for approval ${found.interruptIds.join(', ')}: decide with ${cliName()} approve ${threadId} ${found.interruptIds[0]} (or reject), then read the answer with ${cliName()} show ${threadId}.`
      : `Check that a worker runs for its task queue, then read the answer with ${cliName()} show ${threadId}.`;
    throw new CliError(`No answer from thread ${threadId} within ${seconds(Date.now() - started)}s (--wait). ${next}`);
  } finally {
    done = true;
    clearTimeout(notice);
    clearInterval(progress);
  }
}

const seconds = (ms: number) => Math.round(ms / 1000);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
