/**
 * Phase 2: many threads waiting for approval at once. The newest are then approved one at a time
 * while still in the worker's cache (the cached case, measured against the same server in the same
 * state), then the oldest one at a time (evicted from the cache once more threads than it holds
 * came after them, as after a real wait for a person), the rest `concurrency` at a time.
 */
import { approvalDistributions, approveOneAtATime, timeApproval, type ApprovalDistributions, type ApprovalTiming } from './approval-timing';
import { nowMs } from './clock';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import type { Memory } from './memory';
import { startCpuMeter, type CpuUse } from './proc-stats';
import { endThreads, parkThread } from './thread-steps';

export interface ParkedResult {
  threads: number;
  concurrency: number;
  /** Before the first thread is parked (after the round trips). */
  memoryBefore: Memory;
  park: { seconds: number; threadsPerSecond: number; cpu: CpuUse };
  /** Threads the server's visibility lists as `AirlockStatus = "awaiting_approval"`, and how long it took to see them all. */
  visibleWaiting: { count: number; seconds: number };
  memoryWhileParked: Memory;
  /**
   * The newest parked threads (up to half the cache, a quarter of the threads) approved one at a
   * time first, while in the cache: the baseline of the late decisions below.
   */
  warmApprovals: ApprovalDistributions & { threads: number };
  /** The oldest parked threads (up to half) approved one at a time while the others still wait. */
  coldApprovals: ApprovalDistributions & { threads: number };
  /** The remaining threads approved `concurrency` at a time. */
  bulkApprovals: ApprovalDistributions & { threads: number; seconds: number; threadsPerSecond: number; cpu: CpuUse };
  memoryAfterApprovals: Memory;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  end: { seconds: number };
}

const VISIBILITY_WAIT_MS = 60_000;

export async function runParkedThreads(ctx: BenchContext, count: number, concurrency: number, coldCount: number, cacheSize: number): Promise<ParkedResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-parked-${index}`);
  // The peaks of the earlier phases (bursts of threads in flight, long threads) are in
  // memoryBefore; from here on the peak is this phase's own.
  const memoryBefore = await ctx.measureMemory();
  ctx.resetPeakMemory();
  const park = await parkAll(ctx, threadIds, concurrency);
  const memoryWhileParked = await ctx.measureMemory();
  const visibleWaiting = await countVisibleWaiting(ctx, count);
  // Each group keeps at least one thread; the newest are cached (the cache keeps the threads used last).
  const cold = Math.min(coldCount, Math.floor(count / 2));
  const warm = Math.max(1, Math.min(coldCount, Math.floor(cacheSize / 2), Math.floor(count / 4)));
  const warmApprovals = await approveOneByOne(ctx, threadIds.slice(count - warm), park.interruptIds.slice(count - warm), 'approving the newest threads (cached) one at a time');
  const coldApprovals = await approveOneByOne(ctx, threadIds.slice(0, cold), park.interruptIds, 'approving the oldest threads one at a time');
  const bulkApprovals = await approveAll(ctx, threadIds.slice(cold, count - warm), park.interruptIds.slice(cold, count - warm), concurrency);
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
    warmApprovals,
    coldApprovals,
    bulkApprovals,
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

async function approveOneByOne(ctx: BenchContext, threadIds: string[], interruptIds: string[], label: string): Promise<ParkedResult['coldApprovals']> {
  return { threads: threadIds.length, ...(await approveOneAtATime(ctx, threadIds, interruptIds, label)) };
}

async function approveAll(ctx: BenchContext, threadIds: string[], interruptIds: string[], concurrency: number): Promise<ParkedResult['bulkApprovals']> {
  const timings: ApprovalTiming[] = [];
  const cpu = startCpuMeter(ctx.pids);
  const tick = progress('approving the others', threadIds.length);
  const started = nowMs();
  await forEachLimited(threadIds, concurrency, async (threadId, index) => {
    timings.push(await timeApproval(ctx, threadId, interruptIds[index]));
    tick();
  });
  const seconds = (nowMs() - started) / 1000;
  return { threads: threadIds.length, seconds, threadsPerSecond: threadIds.length / seconds, ...approvalDistributions(timings), cpu: cpu() };
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
