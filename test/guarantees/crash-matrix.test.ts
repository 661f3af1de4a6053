/**
 * The crash matrix, small (bench/crash/; `npm run bench -- --crash` runs it large): worker
 * processes SIGKILLed with threads during a model call, waiting for approval, right after the
 * decision, during the tool and after the tool's effect; decisions sent while no worker runs (by
 * Update and by signal); the dev server SIGKILLed and restarted on its SQLite file while threads
 * wait. Afterwards every thread has finished, every decision is in its thread's history, and the
 * side-effect ledger holds one effect per approved call (Temporal's at-least-once retries plus
 * the tool's idempotency key) and none for a rejected one. Needs `npm run build` (the worker runs compiled).
 */
import { rmSync } from 'node:fs';
import { CrashMatrix } from '../../bench/crash/crash-matrix';
import { tempDir } from '../helpers';

const ROUNDS = 2;
const THREADS_PER_POINT = 3;

const dir = tempDir();
let matrix: CrashMatrix | undefined;
afterAll(async () => {
  await matrix?.close();
  rmSync(dir, { recursive: true, force: true });
});

test('after worker kills at every point and a server restart, every thread finishes, no decision is lost, and each approved call took effect exactly once', async () => {
  matrix = new CrashMatrix({
    dir,
    threadsPerPoint: THREADS_PER_POINT,
    rounds: ROUNDS,
    restartServerEvery: 2,
    sqliteSynchronous: 'NORMAL',
    workflowBundlePath: process.env.AIRLOCK_TEST_BUNDLE,
    timeoutMs: 220_000,
  });
  const result = await matrix.run();

  const threads = ROUNDS * THREADS_PER_POINT * 5;
  // Per round, one call rejected at each of the first three points (the tool of a rejected call never starts).
  const rejected = ROUNDS * 3;
  // The tally's per-thread checks: each thread ended with one interrupt, its history holds the decision
  // as sent (and by the channel it was sent on), approved calls took effect once and rejected ones never;
  // a call killed right after its decision or during its tool took effect in a later worker, one killed
  // after its effect in the killed worker. Any difference is listed here.
  expect(result.problems).toEqual([]);
  expect(result).toMatchObject({ threads, finished: threads, kills: ROUNDS, serverRestarts: 1 });
  // Every decision is in its thread's history as sent (the tally reads each audit trail).
  expect(result.decisions).toMatchObject({ sent: threads, kept: threads, lost: 0, bySignal: ROUNDS });
  // An Update sent while no worker ran, its sender giving up after 2 s: it saw WorkerUnavailable and sent the same Update again.
  expect(result.decisions.senderErrors.WorkerUnavailable).toBeGreaterThanOrEqual(ROUNDS);
  // Model turns and tool runs killed on a worker were retried, as the threads' histories record (a
  // local model turn: its workflow task timed out and the next worker ran the turn again).
  expect(result.retries.inHistory.callModel).toBeGreaterThanOrEqual(ROUNDS * THREADS_PER_POINT);
  expect(result.retries.inHistory.executeTool).toBeGreaterThanOrEqual(2 * ROUNDS * THREADS_PER_POINT);
  expect(result.effects).toEqual({ expected: threads - rejected, actual: threads - rejected, missing: 0, duplicated: 0, rejectedWithEffect: 0 });
  // Killed after its effect, each such call ran again and found its effect already there.
  expect(result.points['after-effect'].toolRuns).toBeGreaterThanOrEqual(2 * ROUNDS * THREADS_PER_POINT);
  expect(result.points['after-effect'].foundAlreadyApplied).toBeGreaterThanOrEqual(ROUNDS * THREADS_PER_POINT);
  // Killed during the tool (before the effect), each such call ran again.
  expect(result.points['tool-running'].toolRuns).toBeGreaterThanOrEqual(2 * ROUNDS * THREADS_PER_POINT);
  expect(result.retries.toolRetries).toBeGreaterThan(0);
}, 300_000);
