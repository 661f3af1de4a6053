/**
 * The crash matrix's kill points and how a thread carries its part in the matrix: the point where
 * its worker is killed and the decision it gets are written into its thread id, so that every
 * worker process, the first and the ones after a kill, knows them without being told.
 */

/** Where a thread is when its worker process is SIGKILLed. */
export const KILL_POINTS = ['model-call', 'awaiting-approval', 'after-decision', 'tool-running', 'after-effect'] as const;
export type KillPoint = (typeof KILL_POINTS)[number];

/** What the matrix decides for a thread. */
export type Verdict = 'accept' | 'reject';

/** What a point means, for reports. */
export const KILL_POINT_TEXT: Record<KillPoint, string> = {
  'model-call': 'during a model call',
  'awaiting-approval': 'while waiting for approval',
  'after-decision': 'right after the decision was accepted',
  'tool-running': "during the tool's execution (before its effect)",
  'after-effect': "after the tool's effect, before its completion was recorded",
};

/** The points where a rejected call makes sense: the tool of a rejected call never starts. */
export const pointsFor = (verdict: Verdict): readonly KillPoint[] => (verdict === 'accept' ? KILL_POINTS : KILL_POINTS.slice(0, 3));

export interface ThreadPlan {
  threadId: string;
  point: KillPoint;
  verdict: Verdict;
  /** The matrix round (worker generation) the thread started in. */
  round: number;
}

const PLAN = /^crash-([a-z0-9]+)-r(\d+)-(model-call|awaiting-approval|after-decision|tool-running|after-effect)-(accept|reject)-(\d+)$/;

/** The thread id that carries a plan: `crash-<run>-r<round>-<point>-<verdict>-<n>`. */
export function planThreadId(runId: string, round: number, point: KillPoint, verdict: Verdict, index: number): string {
  return `crash-${runId}-r${round}-${point}-${verdict}-${index}`;
}

/** The plan a thread id carries; `undefined` for a thread outside the matrix. */
export function planOf(threadId: string): ThreadPlan | undefined {
  const match = PLAN.exec(threadId);
  if (!match) return undefined;
  return { threadId, round: Number(match[2]), point: match[3] as KillPoint, verdict: match[4] as Verdict };
}

/** The interrupt the matrix's one protected call opens (the offline model's first call of turn 1). */
export const FIRST_INTERRUPT_ID = 't1-call_1_1';
