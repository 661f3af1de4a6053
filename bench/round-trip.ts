/** Phase 1: approval round trips, one thread at a time on a warm worker (the thread is in its cache). */
import { approvalDistributions, timeApproval, type ApprovalDistributions, type ApprovalTiming } from './approval-timing';
import { nowMs } from './clock';
import type { BenchContext } from './context';
import { startCpuMeter, type CpuUse } from './proc-stats';
import { historySize, type HistorySize, type ThreadDriver } from './drivers';
import { distribution, type Distribution } from './stats';

export interface RoundTripResult extends ApprovalDistributions {
  threads: number;
  /** `handleMessage` (update-with-start) sent → returned with the interrupt. */
  messageToInterrupt: Distribution;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  seconds: number;
  cpu: CpuUse;
  /** The history of a finished one-call thread (before it is ended), averaged over a few. */
  history: HistorySize;
}

/** Threads whose history is measured. */
const HISTORY_SAMPLE = 20;

/** Runs `count` round trips one after another, then ends those threads. */
export async function runRoundTrips(ctx: BenchContext, label: string, count: number, driver: ThreadDriver = ctx.driver): Promise<RoundTripResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${driver.name}-${label}-${index}`);
  const cpu = startCpuMeter(ctx.pids);
  const started = nowMs();
  const toInterrupt: number[] = [];
  const approvals: ApprovalTiming[] = [];
  for (const [index, threadId] of threadIds.entries()) {
    const messageSent = nowMs();
    const interruptId = await driver.park(threadId, index);
    toInterrupt.push(nowMs() - messageSent);
    approvals.push(await timeApproval(ctx, threadId, interruptId, driver));
  }
  const sample = await Promise.all(threadIds.slice(0, HISTORY_SAMPLE).map((threadId) => historySize(ctx.airlock.client, threadId)));
  const mean = (of: (size: HistorySize) => number) => Math.round(sample.reduce((sum, size) => sum + of(size), 0) / sample.length);
  const groups = [...new Set(sample.flatMap((size) => Object.keys(size.bytesFor)))];
  const history = {
    events: sample.reduce((sum, h) => sum + h.events, 0) / sample.length,
    bytes: mean((size) => size.bytes),
    bytesFor: Object.fromEntries(groups.map((group) => [group, mean((size) => size.bytesFor[group] ?? 0)])),
  };
  const result: RoundTripResult = {
    threads: count,
    messageToInterrupt: distribution(toInterrupt),
    ...approvalDistributions(approvals),
    toolRanOnce: count - ctx.tools.notRunOnce(threadIds).length,
    seconds: (nowMs() - started) / 1000,
    cpu: cpu(),
    history,
  };
  await driver.end(threadIds, 20, `ending ${driver.name} ${label} threads`);
  return result;
}
