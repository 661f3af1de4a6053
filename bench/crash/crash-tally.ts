/**
 * The crash matrix's verdict: every thread's audit trail (its decision, from history alone) and
 * the side-effect ledger, checked against what the matrix decided. Any difference is a problem.
 */
import { temporal } from '@temporalio/proto';
import type { AirlockClient } from '../../src/client';
import type { AuditEntry } from '../../src/core';
import { forEachLimited } from '../concurrency';
import { FIRST_INTERRUPT_ID, KILL_POINTS, type KillPoint } from './kill-points';
import type { MatrixThread } from './matrix-thread';
import { SideEffectLedger, threadOfKey } from './side-effect-ledger';

export interface CrashMatrixResult {
  threads: number;
  finished: number;
  kills: number;
  serverRestarts: number;
  /**
   * Per kill point: threads held there at a kill, the kills that hit it, the tool's runs, the runs
   * that found the effect already there, and the longest time from a kill to a thread held there ending.
   */
  points: Record<KillPoint, { threads: number; kills: number; toolRuns: number; foundAlreadyApplied: number; slowestRecoveryMs: number }>;
  decisions: {
    /** One decision per thread. */
    sent: number;
    bySignal: number;
    /** Sends in all (an Update sent again after an error counts again). */
    sends: number;
    /** What senders saw when a send got no outcome, by error type, and one message of each type. */
    senderErrors: Record<string, number>;
    senderErrorSamples: Record<string, string>;
    /** Updates answered "already decided": an earlier send had landed. */
    answeredAlreadyDecided: number;
    /** Decisions found in their thread's history, as sent. */
    kept: number;
    /** Decisions missing from history, or recorded otherwise than sent. */
    lost: number;
  };
  effects: {
    /** Approved calls: each must have taken effect once. */
    expected: number;
    /** Approved calls with exactly one effect. */
    actual: number;
    /** Approved calls with no effect. */
    missing: number;
    /** Threads with more than one effect (idempotency keys). */
    duplicated: number;
    /** Rejected calls with an effect. */
    rejectedWithEffect: number;
  };
  retries: {
    /** Runs of the tool in all, and runs beyond the first per call. */
    toolRuns: number;
    toolRetries: number;
    /** Tool runs that found their effect already written (a retry after the effect). */
    foundAlreadyApplied: number;
    /** Client steps retried after an error (waiting for a worker, a restarting server). */
    clientSteps: number;
    /**
     * Activity attempts beyond the first, as the threads' histories record them (the attempt of
     * each activity's last start); for model turns run as local activities, the workflow tasks
     * that timed out while one ran (the turn ran again in the next).
     */
    inHistory: { callModel: number; executeTool: number };
  };
  /** Per round: from the kill to the last of that round's threads ended. */
  recoveryMs: number[];
  durationMs: number;
  problems: string[];
}

export interface TallyInput {
  threads: MatrixThread[];
  airlock: AirlockClient;
  ledgerDir: string;
  kills: Array<{ round: number; at: number; pid: number }>;
  serverRestarts: number;
  /** Threads that did not finish, with why. */
  failures: string[];
  startedAt: number;
  allFinishedAt: number;
}

export async function tallyCrashMatrix(input: TallyInput): Promise<CrashMatrixResult> {
  const { threads, kills } = input;
  const problems = [...input.failures];
  const ledger = new SideEffectLedger(input.ledgerDir).read();
  if (ledger.tornLines > 0) problems.push(`${ledger.tornLines} attempt lines were cut short by a kill`);
  const effectsByThread = new Map<string, string[]>();
  for (const key of ledger.effects.keys()) effectsByThread.set(threadOfKey(key), [...(effectsByThread.get(threadOfKey(key)) ?? []), key]);

  const { decisionEntries, inHistory } = await readHistories(input.airlock, threads);
  let kept = 0;
  let actual = 0;
  let missing = 0;
  let duplicated = 0;
  let rejectedWithEffect = 0;
  for (const thread of threads) {
    const { threadId, verdict, point } = thread.plan;
    const entries = decisionEntries.get(threadId) ?? [];
    const decided = entries.filter((entry) => entry.decision === 'accepted' || entry.decision === 'rejected');
    const asSent = decided.length === 1 && decided[0].decision === (verdict === 'accept' ? 'accepted' : 'rejected') && decided[0].via === thread.decision.via;
    if (asSent) kept++;
    else problems.push(`${threadId} (${point}): the decision in history is ${JSON.stringify(decided.map((entry) => [entry.decision, entry.via]))}, sent ${verdict} by ${thread.decision.via}`);
    const effects = effectsByThread.get(threadId) ?? [];
    if (effects.length > 1) {
      duplicated++;
      problems.push(`${threadId} (${point}): ${effects.length} effects: ${effects.join(', ')}`);
    }
    if (verdict === 'reject' && effects.length > 0) {
      rejectedWithEffect++;
      problems.push(`${threadId} (${point}): rejected, yet its tool took effect`);
    }
    if (verdict === 'accept' && effects.length === 1) {
      actual++;
      const problem = effectTimingProblem(thread, ledger.effects.get(effects[0]), kills.find((kill) => kill.round === thread.plan.round)?.pid);
      if (problem) problems.push(`${threadId} (${point}): ${problem}`);
    }
    if (verdict === 'accept' && effects.length === 0) {
      missing++;
      problems.push(`${threadId} (${point}): approved, but its tool never took effect`);
    }
    if (thread.summary && thread.summary.interrupts !== 1) problems.push(`${threadId}: ended with ${thread.summary.interrupts} interrupts, expected 1`);
  }

  const sumFor = (counts: Map<string, number>, point: KillPoint) =>
    [...counts].filter(([key]) => threads.some((thread) => thread.plan.point === point && thread.threadId === threadOfKey(key))).reduce((sum, [, count]) => sum + count, 0);
  const points = Object.fromEntries(
    KILL_POINTS.map((point) => [
      point,
      {
        threads: threads.filter((thread) => thread.plan.point === point).length,
        kills: kills.length,
        toolRuns: sumFor(ledger.attempts, point),
        foundAlreadyApplied: sumFor(ledger.alreadyApplied, point),
        slowestRecoveryMs: Math.max(...threads.filter((thread) => thread.plan.point === point).map((thread) => recoveryOf(thread, kills))),
      },
    ]),
  ) as CrashMatrixResult['points'];
  const toolRuns = [...ledger.attempts.values()].reduce((sum, runs) => sum + runs, 0);
  const senderErrors: Record<string, number> = {};
  const senderErrorSamples: Record<string, string> = {};
  for (const thread of threads) {
    for (const [kind, count] of Object.entries(thread.decision.failures)) senderErrors[kind] = (senderErrors[kind] ?? 0) + count;
    Object.entries(thread.decision.samples).forEach(([kind, message]) => (senderErrorSamples[kind] ??= message));
  }
  const finished = threads.filter((thread) => thread.finishedAt !== undefined).length;
  if (finished !== threads.length) problems.push(`${threads.length - finished} of ${threads.length} threads did not finish`);
  return {
    threads: threads.length,
    finished,
    kills: kills.length,
    serverRestarts: input.serverRestarts,
    points,
    decisions: {
      sent: threads.length,
      bySignal: threads.filter((thread) => thread.decision.via === 'signal').length,
      sends: threads.reduce((sum, thread) => sum + thread.decision.sends, 0),
      senderErrors,
      senderErrorSamples,
      answeredAlreadyDecided: threads.filter((thread) => thread.decision.outcome === 'already-decided').length,
      kept,
      lost: threads.length - kept,
    },
    effects: { expected: threads.filter((thread) => thread.plan.verdict === 'accept').length, actual, missing, duplicated, rejectedWithEffect },
    retries: {
      toolRuns,
      toolRetries: toolRuns - ledger.attempts.size,
      foundAlreadyApplied: [...ledger.alreadyApplied.values()].reduce((sum, runs) => sum + runs, 0),
      clientSteps: threads.reduce((sum, thread) => sum + thread.retries, 0),
      inHistory,
    },
    recoveryMs: kills.map(({ round }) => Math.max(...threads.filter((thread) => thread.plan.round === round).map((thread) => recoveryOf(thread, kills)))),
    durationMs: input.allFinishedAt - input.startedAt,
    problems,
  };
}

/** From the kill of the thread's round to the thread's end. */
const recoveryOf = (thread: MatrixThread, kills: TallyInput['kills']): number => (thread.finishedAt ?? NaN) - (kills.find((kill) => kill.round === thread.plan.round)?.at ?? NaN);

/**
 * Where the effect was made: a call held before its effect (after the decision, during the tool)
 * took effect in a later worker than the killed one; a call held after its effect, in the killed one.
 */
function effectTimingProblem(thread: MatrixThread, effectPid: number | undefined, killedPid: number | undefined): string | undefined {
  if (effectPid === undefined || killedPid === undefined) return undefined;
  const { point } = thread.plan;
  if ((point === 'after-decision' || point === 'tool-running') && effectPid === killedPid) return `took effect in the worker killed before its effect (pid ${killedPid})`;
  if (point === 'after-effect' && effectPid !== killedPid) return `took effect in pid ${effectPid}, not in the worker killed after its effect (pid ${killedPid})`;
  return undefined;
}

/** Each thread's audit entries about its one interrupt, and the activity retries its history records (works for ended threads). */
async function readHistories(airlock: AirlockClient, threads: MatrixThread[]) {
  const decisionEntries = new Map<string, AuditEntry[]>();
  const inHistory = { callModel: 0, executeTool: 0 };
  await forEachLimited(threads, 20, async (thread) => {
    const trail = await airlock.auditTrail(thread.threadId);
    decisionEntries.set(thread.threadId, trail.filter((entry) => entry.interruptId === FIRST_INTERRUPT_ID));
    const events = (await airlock.handle(thread.threadId).fetchHistory()).events ?? [];
    const typeOf = new Map(events.map((event) => [String(event.eventId), event.activityTaskScheduledEventAttributes?.activityType?.name]));
    for (const event of events) {
      const started = event.activityTaskStartedEventAttributes;
      const type = started && typeOf.get(String(started.scheduledEventId));
      if (started && (type === 'callModel' || type === 'executeTool')) inHistory[type] += (started.attempt ?? 1) - 1;
      // A model turn that runs as a local activity lives inside its workflow task: killed with its
      // worker, that task times out (start to close) and the next worker runs the turn again.
      if (event.workflowTaskTimedOutEventAttributes?.timeoutType === temporal.api.enums.v1.TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE) inHistory.callModel++;
    }
  });
  return { decisionEntries, inHistory };
}
