/**
 * Phase 1: approval round trips, one thread at a time on a warm worker (the thread is in its cache).
 * Airlock and the floor take turns, one round trip each (which goes first alternates), so that both
 * meet the same machine: the dev server's state and other load drift over a run.
 */
import { approvalDistributions, timeApproval, type ApprovalDistributions, type ApprovalTiming } from './approval-timing';
import { nowMs } from './clock';
import type { BenchContext } from './context';
import type { CpuUse } from './proc-stats';
import { DriverShare, historySize, type HistorySize, type ThreadDriver } from './drivers';
import { distribution, type Distribution } from './stats';

export interface RoundTripResult extends ApprovalDistributions {
  threads: number;
  /** `handleMessage` (update-with-start) sent → returned with the interrupt. */
  messageToInterrupt: Distribution;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  /** Time spent in this driver's round trips (the other's turns left out). */
  seconds: number;
  /** CPU used during this driver's round trips. */
  cpu: CpuUse;
  /** The history of a finished one-call thread (before it is ended), averaged over a few. */
  history: HistorySize;
}

/** Threads whose history is measured. */
const HISTORY_SAMPLE = 20;

/** What one driver's turns add up to. */
class DriverRounds extends DriverShare {
  readonly toInterrupt: number[] = [];
  readonly approvals: ApprovalTiming[] = [];
  seconds = 0;

  /** One round trip: the message that parks a new thread, then its approval, timed. */
  async round(ctx: BenchContext, threadId: string, index: number): Promise<void> {
    this.threadIds.push(threadId);
    await this.cpu.during(async () => {
      const messageSent = nowMs();
      const interruptId = await this.driver.park(threadId, index);
      this.toInterrupt.push(nowMs() - messageSent);
      this.approvals.push(await timeApproval(ctx, threadId, interruptId, this.driver));
      this.seconds += (nowMs() - messageSent) / 1000;
    });
  }

  async result(ctx: BenchContext): Promise<RoundTripResult> {
    const sample = await Promise.all(this.threadIds.slice(0, HISTORY_SAMPLE).map((threadId) => historySize(ctx.airlock.client, threadId)));
    const mean = (of: (size: HistorySize) => number) => Math.round(sample.reduce((sum, size) => sum + of(size), 0) / sample.length);
    const groups = [...new Set(sample.flatMap((size) => Object.keys(size.bytesFor)))];
    return {
      threads: this.threadIds.length,
      messageToInterrupt: distribution(this.toInterrupt),
      ...approvalDistributions(this.approvals),
      toolRanOnce: this.threadIds.length - ctx.tools.notRunOnce(this.threadIds).length,
      seconds: this.seconds,
      cpu: this.cpu.total(),
      history: {
        events: sample.reduce((sum, h) => sum + h.events, 0) / sample.length,
        bytes: mean((size) => size.bytes),
        bytesFor: Object.fromEntries(groups.map((group) => [group, mean((size) => size.bytesFor[group] ?? 0)])),
      },
    };
  }
}

/**
 * Runs `count` round trips for each driver, taking turns, then ends those threads. Returns one
 * result per driver, in the order given.
 */
export async function runRoundTrips(ctx: BenchContext, label: string, count: number, drivers: readonly ThreadDriver[]): Promise<RoundTripResult[]> {
  const rounds = drivers.map((driver) => new DriverRounds(driver, ctx.pids));
  for (let index = 0; index < count; index++) {
    const order = index % 2 === 0 ? rounds : [...rounds].reverse();
    for (const turn of order) await turn.round(ctx, `${ctx.runId}-${turn.driver.name}-${label}-${index}`, index);
  }
  const results: RoundTripResult[] = [];
  for (const turn of rounds) results.push(await turn.result(ctx));
  for (const turn of rounds) await turn.driver.end(turn.threadIds, 20, `ending ${turn.driver.name} ${label} threads`);
  return results;
}
