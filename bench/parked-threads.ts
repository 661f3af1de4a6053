/** Phase 2: many threads waiting for approval at once, then all approved. */
import { nowMs } from './clock';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import type { Memory } from './memory';
import { startCpuMeter, type CpuUse } from './proc-stats';
import { distribution, type Distribution } from './stats';
import { approve, awaitAnswer, endThreads, parkThread } from './thread-steps';

export interface ParkedResult {
  threads: number;
  concurrency: number;
  /** Before the first thread is parked (after the round trips). */
  memoryBefore: Memory;
  park: { seconds: number; threadsPerSecond: number; cpu: CpuUse };
  /** Threads the server's visibility lists as `AirlockStatus = "awaiting_approval"`, and how long it took to see them all. */
  visibleWaiting: { count: number; seconds: number };
  memoryWhileParked: Memory;
  approve: {
    seconds: number;
    threadsPerSecond: number;
    decisionToToolStart: Distribution;
    decisionToAnswer: Distribution;
    cpu: CpuUse;
  };
  memoryAfterApprovals: Memory;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  end: { seconds: number };
}

const VISIBILITY_WAIT_MS = 60_000;

export async function runParkedThreads(ctx: BenchContext, count: number, concurrency: number): Promise<ParkedResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-parked-${index}`);
  const memoryBefore = await ctx.measureMemory();
  const park = await parkAll(ctx, threadIds, concurrency);
  const memoryWhileParked = await ctx.measureMemory();
  const visibleWaiting = await countVisibleWaiting(ctx, count);
  const approved = await approveAll(ctx, threadIds, park.interruptIds, concurrency);
  const memoryAfterApprovals = await ctx.measureMemory();
  const toolRanOnce = count - ctx.tools.notRunOnce(threadIds).length;
  const endStarted = nowMs();
  await endThreads(ctx.airlock, threadIds, concurrency, 'ending parked threads');
  return {
    threads: count,
    concurrency,
    memoryBefore,
    park: park.figures,
    visibleWaiting,
    memoryWhileParked,
    approve: approved,
    memoryAfterApprovals,
    toolRanOnce,
    end: { seconds: (nowMs() - endStarted) / 1000 },
  };
}

async function parkAll(ctx: BenchContext, threadIds: string[], concurrency: number) {
  const interruptIds: string[] = [];
  const cpu = startCpuMeter(ctx.pids);
  const tick = progress('parking threads', threadIds.length);
  const started = nowMs();
  await forEachLimited(threadIds, concurrency, async (threadId, index) => {
    interruptIds[index] = await parkThread(ctx.airlock, threadId, index);
    tick();
  });
  const seconds = (nowMs() - started) / 1000;
  return { interruptIds, figures: { seconds, threadsPerSecond: threadIds.length / seconds, cpu: cpu() } };
}

async function approveAll(ctx: BenchContext, threadIds: string[], interruptIds: string[], concurrency: number): Promise<ParkedResult['approve']> {
  const toToolStart: number[] = [];
  const toAnswer: number[] = [];
  const cpu = startCpuMeter(ctx.pids);
  const tick = progress('approving threads', threadIds.length);
  const started = nowMs();
  await forEachLimited(threadIds, concurrency, async (threadId, index) => {
    const decisionSent = nowMs();
    await approve(ctx.airlock, threadId, interruptIds[index]);
    await awaitAnswer(ctx.airlock, threadId);
    toAnswer.push(nowMs() - decisionSent);
    toToolStart.push((await ctx.tools.firstStart(threadId)) - decisionSent);
    tick();
  });
  const seconds = (nowMs() - started) / 1000;
  return {
    seconds,
    threadsPerSecond: threadIds.length / seconds,
    decisionToToolStart: distribution(toToolStart),
    decisionToAnswer: distribution(toAnswer),
    cpu: cpu(),
  };
}

/** Polls visibility (eventually consistent) until it lists `expected` waiting threads, or gives up. */
async function countVisibleWaiting(ctx: BenchContext, expected: number): Promise<ParkedResult['visibleWaiting']> {
  const query = 'ExecutionStatus = "Running" AND AirlockStatus = "awaiting_approval"';
  const started = nowMs();
  for (;;) {
    const { count } = await ctx.airlock.client.workflow.count(query);
    const seconds = (nowMs() - started) / 1000;
    if (count >= expected || seconds * 1000 > VISIBILITY_WAIT_MS) return { count, seconds };
    await new Promise((resolve) => setTimeout(resolve, 500));
  }
}
