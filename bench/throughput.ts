/**
 * Approvals per second with many in flight, and the CPU each approved thread costs: the same run
 * for Airlock's threads and for the bare workflow (the floor), on the same server.
 */
import { nowMs } from './clock';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import type { ThreadDriver } from './drivers';
import { startCpuMeter, type CpuUse } from './proc-stats';

export interface ThroughputResult {
  driver: ThreadDriver['name'];
  threads: number;
  concurrency: number;
  /** Approvals finished (decision → answer) per second, `concurrency` in flight. */
  approvalsPerSecond: number;
  /** Server and worker CPU per thread, parking and approving it (ms). */
  cpuMsPerThread: { server: number; worker: number };
  cpu: CpuUse;
  toolRanOnce: number;
}

export async function runThroughput(ctx: BenchContext, driver: ThreadDriver, count: number, concurrency: number): Promise<ThroughputResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${driver.name}-throughput-${index}`);
  const interruptIds: string[] = [];
  const cpu = startCpuMeter(ctx.pids);
  let tick = progress(`${driver.name}: parking`, count);
  await forEachLimited(threadIds, concurrency, async (threadId, index) => {
    interruptIds[index] = await driver.park(threadId, index);
    tick();
  });
  tick = progress(`${driver.name}: approving, ${concurrency} in flight`, count);
  const started = nowMs();
  await forEachLimited(threadIds, concurrency, async (threadId, index) => {
    await driver.approve(threadId, interruptIds[index]);
    await driver.awaitAnswer(threadId);
    tick();
  });
  const seconds = (nowMs() - started) / 1000;
  const used = cpu();
  const toolRanOnce = count - ctx.tools.notRunOnce(threadIds).length;
  await driver.end(threadIds, concurrency, `${driver.name}: ending`);
  return {
    driver: driver.name,
    threads: count,
    concurrency,
    approvalsPerSecond: count / seconds,
    cpuMsPerThread: { server: Math.round((used.server * 1000) / count * 10) / 10, worker: Math.round((used.worker * 1000) / count * 10) / 10 },
    cpu: used,
    toolRanOnce,
  };
}
