/** Phase 1: approval round trips, one thread at a time on a warm worker. */
import { nowMs } from './clock';
import type { BenchContext } from './context';
import { startCpuMeter, type CpuUse } from './proc-stats';
import { distribution, type Distribution } from './stats';
import { approve, awaitAnswer, endThreads, parkThread } from './thread-steps';

export interface RoundTripResult {
  threads: number;
  /** `handleMessage` (update-with-start) sent → returned with the interrupt. */
  messageToInterrupt: Distribution;
  /** `decide` sent → the tool's `execute` started (read in the worker process). */
  decisionToToolStart: Distribution;
  /** `decide` sent → `awaitResponse` returned the final answer. */
  decisionToAnswer: Distribution;
  /** Threads whose tool ran exactly once. */
  toolRanOnce: number;
  seconds: number;
  cpu: CpuUse;
}

interface Sample {
  messageToInterrupt: number;
  decisionToToolStart: number;
  decisionToAnswer: number;
}

/** Runs `count` round trips one after another, then ends those threads. */
export async function runRoundTrips(ctx: BenchContext, label: string, count: number): Promise<RoundTripResult> {
  const threadIds = Array.from({ length: count }, (_, index) => `${ctx.runId}-${label}-${index}`);
  const cpu = startCpuMeter(ctx.pids);
  const started = nowMs();
  const samples: Sample[] = [];
  for (const [index, threadId] of threadIds.entries()) samples.push(await roundTrip(ctx, threadId, index));
  const result: RoundTripResult = {
    threads: count,
    messageToInterrupt: distribution(samples.map((sample) => sample.messageToInterrupt)),
    decisionToToolStart: distribution(samples.map((sample) => sample.decisionToToolStart)),
    decisionToAnswer: distribution(samples.map((sample) => sample.decisionToAnswer)),
    toolRanOnce: count - ctx.tools.notRunOnce(threadIds).length,
    seconds: (nowMs() - started) / 1000,
    cpu: cpu(),
  };
  await endThreads(ctx.airlock, threadIds, 20, `ending ${label} threads`);
  return result;
}

async function roundTrip(ctx: BenchContext, threadId: string, index: number): Promise<Sample> {
  const messageSent = nowMs();
  const interruptId = await parkThread(ctx.airlock, threadId, index);
  const decisionSent = nowMs();
  await approve(ctx.airlock, threadId, interruptId);
  await awaitAnswer(ctx.airlock, threadId);
  const answered = nowMs();
  const toolStarted = await ctx.tools.firstStart(threadId);
  return {
    messageToInterrupt: decisionSent - messageSent,
    decisionToToolStart: toolStarted - decisionSent,
    decisionToAnswer: answered - decisionSent,
  };
}
