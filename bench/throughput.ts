/**
 * Approvals per second with many in flight, and the CPU each approved thread costs: the same run
 * for Airlock's threads and for the bare workflow (the floor), on the same server. Each driver's
 * threads go in two halves, in the order Airlock, floor, floor, Airlock, so that a drift of the
 * machine over the phase (the dev server's state, other load) weighs on both alike.
 */
import { nowMs } from './clock';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import { DriverShare, type ThreadDriver } from './drivers';
import type { CpuUse } from './proc-stats';

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

/** One driver's blocks: its threads, the seconds spent approving them, the CPU of parking and approving. */
class DriverBlocks extends DriverShare {
  approvingSeconds = 0;

  /** Parks `count` new threads, `concurrency` at a time, then approves them as fast as they go. */
  async block(ctx: BenchContext, count: number, concurrency: number): Promise<void> {
    const first = this.threadIds.length;
    const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${this.driver.name}-throughput-${first + index}`);
    this.threadIds.push(...threadIds);
    const interruptIds: string[] = [];
    await this.cpu.during(async () => {
      let tick = progress(`${this.driver.name}: parking`, count);
      await forEachLimited(threadIds, concurrency, async (threadId, index) => {
        interruptIds[index] = await this.driver.park(threadId, first + index);
        tick();
      });
      tick = progress(`${this.driver.name}: approving, ${concurrency} in flight`, count);
      const started = nowMs();
      await forEachLimited(threadIds, concurrency, async (threadId, index) => {
        await this.driver.approve(threadId, interruptIds[index]);
        await this.driver.awaitAnswer(threadId);
        tick();
      });
      this.approvingSeconds += (nowMs() - started) / 1000;
    });
  }

  result(ctx: BenchContext, concurrency: number): ThroughputResult {
    const count = this.threadIds.length;
    const used = this.cpu.total();
    const perThread = (seconds: number) => Math.round(((seconds * 1000) / count) * 10) / 10;
    return {
      driver: this.driver.name,
      threads: count,
      concurrency,
      approvalsPerSecond: count / this.approvingSeconds,
      cpuMsPerThread: { server: perThread(used.server), worker: perThread(used.worker) },
      cpu: used,
      toolRanOnce: count - ctx.tools.notRunOnce(this.threadIds).length,
    };
  }
}

/** Runs `count` threads of each driver (Airlock and the floor), in halves ABBA; returns one result per driver, in the order given. */
export async function runThroughput(ctx: BenchContext, drivers: readonly [ThreadDriver, ThreadDriver], count: number, concurrency: number): Promise<ThroughputResult[]> {
  const [a, b] = drivers.map((driver) => new DriverBlocks(driver, ctx.pids));
  const firstHalf = Math.ceil(count / 2);
  for (const [blocks, size] of [
    [a, firstHalf],
    [b, firstHalf],
    [b, count - firstHalf],
    [a, count - firstHalf],
  ] as const) {
    if (size > 0) await blocks.block(ctx, size, concurrency);
  }
  const results = [a.result(ctx, concurrency), b.result(ctx, concurrency)];
  for (const blocks of [a, b]) await blocks.driver.end(blocks.threadIds, concurrency, `${blocks.driver.name}: ending`);
  return results;
}
