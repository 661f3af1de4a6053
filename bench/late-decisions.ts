/**
 * A late decision (the thread evicted from the worker's cache, as after a real wait for a person)
 * against a cached one, for Airlock's threads and for the floor's, each on its own worker with the
 * same cache size, on the same server. `cacheSize + 2 × sample` threads are parked; the newest
 * `sample` are approved one at a time while cached, then the oldest `sample` (evicted: more than a
 * cache's worth of threads came after them), then the rest `concurrency` at a time.
 */
import { approveOneAtATime, type ApprovalDistributions } from './approval-timing';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import type { ThreadDriver } from './drivers';

export interface LateDecisionResult {
  driver: ThreadDriver['name'];
  threads: number;
  cached: ApprovalDistributions;
  evicted: ApprovalDistributions;
  toolRanOnce: number;
}

export async function runLateDecisions(ctx: BenchContext, driver: ThreadDriver, cacheSize: number, sample: number, concurrency: number): Promise<LateDecisionResult> {
  const count = cacheSize + 2 * sample;
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${driver.name}-late-${index}`);
  const interruptIds: string[] = [];
  let tick = progress(`${driver.name}: parking`, count);
  // Fewer in flight than the cache holds: the newest threads are all cached once parking ends.
  await forEachLimited(threadIds, Math.max(1, Math.min(concurrency, Math.floor(cacheSize / 2))), async (threadId, index) => {
    interruptIds[index] = await driver.park(threadId, index);
    tick();
  });
  const oneByOne = (indexes: number[], label: string) =>
    approveOneAtATime(ctx, indexes.map((index) => threadIds[index]), indexes.map((index) => interruptIds[index]), `${driver.name}: ${label}`, driver);
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);
  const cached = await oneByOne(range(count - sample, count), 'approving the newest (cached) one at a time');
  const evicted = await oneByOne(range(0, sample), 'approving the oldest (evicted) one at a time');
  tick = progress(`${driver.name}: approving the others`, count - 2 * sample);
  await forEachLimited(range(sample, count - sample), concurrency, async (index) => {
    await driver.approve(threadIds[index], interruptIds[index]);
    await driver.awaitAnswer(threadIds[index]);
    tick();
  });
  const toolRanOnce = count - ctx.tools.notRunOnce(threadIds).length;
  await driver.end(threadIds, concurrency, `${driver.name}: ending`);
  return { driver: driver.name, threads: count, cached, evicted, toolRanOnce };
}
