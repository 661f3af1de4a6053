/** Timing one approval: decision sent → tool started, and → final answer. */
import { nowMs } from './clock';
import { progress } from './concurrency';
import type { BenchContext } from './context';
import type { ThreadDriver } from './drivers';
import { distribution, type Distribution } from './stats';

export interface ApprovalTiming {
  /** `decide` sent → the tool's `execute` started (read in the worker process). */
  decisionToToolStart: number;
  /** `decide` sent → `awaitResponse` returned the final answer. */
  decisionToAnswer: number;
}

export interface ApprovalDistributions {
  decisionToToolStart: Distribution;
  decisionToAnswer: Distribution;
}

/** Accepts the thread's interrupt and waits for its answer, timing both. */
export async function timeApproval(ctx: BenchContext, threadId: string, interruptId: string, driver: ThreadDriver = ctx.driver): Promise<ApprovalTiming> {
  const decisionSent = nowMs();
  await driver.approve(threadId, interruptId);
  await driver.awaitAnswer(threadId);
  const answered = nowMs();
  const toolStarted = await ctx.tools.firstStart(threadId);
  return { decisionToToolStart: toolStarted - decisionSent, decisionToAnswer: answered - decisionSent };
}

export function approvalDistributions(timings: ApprovalTiming[]): ApprovalDistributions {
  return {
    decisionToToolStart: distribution(timings.map((timing) => timing.decisionToToolStart)),
    decisionToAnswer: distribution(timings.map((timing) => timing.decisionToAnswer)),
  };
}

/** Approves the threads one at a time, in the order given, and times each approval. */
export async function approveOneAtATime(ctx: BenchContext, threadIds: string[], interruptIds: string[], label: string, driver: ThreadDriver = ctx.driver): Promise<ApprovalDistributions> {
  const timings: ApprovalTiming[] = [];
  const tick = progress(label, threadIds.length);
  for (const [index, threadId] of threadIds.entries()) {
    timings.push(await timeApproval(ctx, threadId, interruptIds[index], driver));
    tick();
  }
  return approvalDistributions(timings);
}
