/** Phase 1: approval round trips, one thread at a time on a warm worker (the thread is in its cache). */
import { approvalDistributions, timeApproval, type ApprovalDistributions, type ApprovalTiming } from './approval-timing';
import { nowMs } from './clock';
import type { BenchContext } from './context';
import { startCpuMeter, type CpuUse } from './proc-stats';
import { distribution, type Distribution } from './stats';
import { endThreads, parkThread } from './thread-steps';

export interface RoundTripResult extends ApprovalDistributions {
  threads: number;
  /** `handleMessage` (update-with-start) sent → returned with the interrupt. */
  messageToInterrupt: Distribution;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  seconds: number;
  cpu: CpuUse;
}

/** Runs `count` round trips one after another, then ends those threads. */
export async function runRoundTrips(ctx: BenchContext, label: string, count: number): Promise<RoundTripResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${label}-${index}`);
  const cpu = startCpuMeter(ctx.pids);
  const started = nowMs();
  const toInterrupt: number[] = [];
  const approvals: ApprovalTiming[] = [];
  for (const [index, threadId] of threadIds.entries()) {
    const messageSent = nowMs();
    const interruptId = await parkThread(ctx.airlock, threadId, index);
    toInterrupt.push(nowMs() - messageSent);
    approvals.push(await timeApproval(ctx, threadId, interruptId));
  }
  const result: RoundTripResult = {
    threads: count,
    messageToInterrupt: distribution(toInterrupt),
    ...approvalDistributions(approvals),
    toolRanOnce: count - ctx.tools.notRunOnce(threadIds).length,
    seconds: (nowMs() - started) / 1000,
    cpu: cpu(),
  };
  await endThreads(ctx.airlock, threadIds, 20, `ending ${label} threads`);
  return result;
}
