/**
 * The crash matrix: threads are driven to each kill point on a worker process that is then
 * SIGKILLed; while no worker runs, decisions are sent (by Update and by signal) and the dev server
 * is SIGKILLed and started again on its SQLite file; a new worker takes over and the next round
 * starts on it. At the end every thread must have finished, every decision must be in its
 * thread's history, and the side-effect ledger must hold one effect per approved call, none for a
 * rejected one. Used by `npm run bench -- --crash` (large) and test/guarantees/crash-matrix.test.ts (small).
 */
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { AirlockClient } from '../../src/client';
import { forEachLimited } from '../concurrency';
import { writeWorkflowBundle } from '../workflow-bundle';
import { CRASH_AGENT } from './crash-agent';
import { killAllWorkers, startCrashWorker, type CrashWorker } from './crash-worker-link';
import { HoldPoints } from './hold-points';
import { KILL_POINTS, planThreadId, pointsFor, type KillPoint, type ThreadPlan } from './kill-points';
import { MatrixThread } from './matrix-thread';
import { tallyCrashMatrix, type CrashMatrixResult } from './crash-tally';
import { RestartableServer } from './restartable-server';

export interface CrashMatrixOptions {
  /** Work directory: the server's state file and log, the ledger, the workflow bundle. */
  dir: string;
  /** Threads per kill point per round. A third of those at the first three points are rejected. */
  threadsPerPoint: number;
  /** Rounds: each one's worker is killed with its threads at their points. */
  rounds: number;
  /** The dev server is crashed and restarted after every `restartServerEvery`-th kill (1: after each). */
  restartServerEvery: number;
  /** The dev server's SQLite `synchronous` setting. */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** A workflow bundle already built; otherwise one is built into `dir`. */
  workflowBundlePath?: string;
  /** Threads driven at once. Default 50. */
  concurrency?: number;
  /** The whole run gives up after this long. */
  timeoutMs: number;
  /** Progress lines. */
  log?: (line: string) => void;
}

/** How long a decision sent while no worker runs waits for one (the caller sees `WorkerUnavailable` then). */
const WHILE_DOWN_DEADLINE_MS = 2_000;
/** How long the senders that keep waiting (across the server's restart, until a worker runs) wait. */
const PATIENT_DEADLINE_MS = 60_000;

export class CrashMatrix {
  private readonly server: RestartableServer;
  private readonly holds: HoldPoints;
  private readonly log: (line: string) => void;
  private readonly ledgerDir: string;
  private connection?: Connection;
  private worker?: CrashWorker;
  private readonly threads: MatrixThread[] = [];
  private readonly kills: Array<{ round: number; at: number; pid: number }> = [];

  constructor(private readonly options: CrashMatrixOptions) {
    this.ledgerDir = path.join(options.dir, 'ledger');
    this.holds = new HoldPoints(this.ledgerDir);
    this.server = new RestartableServer({
      dbFile: path.join(options.dir, 'crash-matrix.db'),
      logFile: path.join(options.dir, 'dev-server.log'),
      sqliteSynchronous: options.sqliteSynchronous,
    });
    this.log = options.log ?? (() => undefined);
  }

  /** Runs every round, then waits until every thread has finished; returns the tally. */
  async run(): Promise<CrashMatrixResult> {
    const { options } = this;
    const startedAt = Date.now();
    const deadline = startedAt + options.timeoutMs;
    this.log(`Starting a dev server (SQLite ${path.join(options.dir, 'crash-matrix.db')}, WAL, synchronous=${options.sqliteSynchronous})`);
    await this.server.start();
    const bundlePath = options.workflowBundlePath ?? path.join(options.dir, 'workflow-bundle.js');
    if (!options.workflowBundlePath) await writeWorkflowBundle(bundlePath);
    this.connection = await Connection.connect({ address: this.server.address });
    const runId = Date.now().toString(36);
    const taskQueue = `crash-${runId}`;
    const airlock = new AirlockClient({ connection: this.connection, namespace: this.server.namespace, taskQueue, defaultAgent: CRASH_AGENT });
    const startWorker = () => startCrashWorker({ address: this.server.address, namespace: this.server.namespace, taskQueue, workflowBundlePath: bundlePath, dir: this.ledgerDir });

    this.worker = await startWorker();
    // Each thread's recovery, settled to its failure (if any) at once: a failure in an early round is not left unhandled while later rounds run.
    const finishing: Array<Promise<string | undefined>> = [];
    for (let round = 0; round < options.rounds; round++) {
      const threads = this.plan(runId, round).map((plan) => new MatrixThread(plan, airlock, deadline));
      this.threads.push(...threads);
      this.log(`Round ${round + 1}/${options.rounds}: ${threads.length} threads to their kill points`);
      await this.driveToKillPoints(threads, deadline);
      await this.killWorker(round);
      await this.decideWhileDown(threads);
      if ((round + 1) % options.restartServerEvery === 0) {
        this.log('  SIGKILL the dev server while threads wait, start it again on the same file');
        await this.server.crashAndRestart();
      }
      this.worker = await startWorker();
      finishing.push(...threads.map((thread) => this.recover(thread).then(() => undefined, (err: unknown) => String(err))));
    }
    this.log(`All rounds done: waiting for ${this.threads.length} threads to finish`);
    const failures = (await Promise.all(finishing)).filter((failure): failure is string => failure !== undefined);
    const allFinishedAt = Date.now();
    this.log('Reading the audit trails and the ledger');
    return tallyCrashMatrix({
      threads: this.threads,
      airlock,
      ledgerDir: this.ledgerDir,
      kills: this.kills,
      serverRestarts: this.server.restarts,
      failures,
      startedAt,
      allFinishedAt,
    });
  }

  /** Kills every worker process and stops the server (safe to call more than once). */
  async close(): Promise<void> {
    await killAllWorkers();
    await this.connection?.close().catch(() => undefined);
    await this.server.stop();
  }

  private plan(runId: string, round: number): ThreadPlan[] {
    const plans: ThreadPlan[] = [];
    for (const point of KILL_POINTS) {
      for (let index = 0; index < this.options.threadsPerPoint; index++) {
        // A third of the threads at the points a rejected call can reach are rejected.
        const verdict = pointsFor('reject').includes(point) && index % 3 === 2 ? 'reject' : 'accept';
        plans.push({ threadId: planThreadId(runId, round, point, verdict, index), point, verdict, round });
      }
    }
    return plans;
  }

  /** Messages, the decisions that come before the kill, and the wait until each thread is at its point. */
  private async driveToKillPoints(threads: MatrixThread[], deadline: number): Promise<void> {
    const at = (point: KillPoint) => threads.filter((thread) => thread.plan.point === point);
    const concurrency = this.options.concurrency ?? 50;
    await forEachLimited(threads, concurrency, (thread) => thread.sendMessage());
    await forEachLimited([...at('tool-running'), ...at('after-effect')], concurrency, (thread) => thread.decide());
    for (const point of ['model-call', 'tool-running', 'after-effect'] as const) {
      const expected = at(point).map((thread) => thread.threadId);
      while (expected.some((threadId) => !this.holds.reached(point).has(threadId))) {
        if (Date.now() > deadline) throw new Error(`Threads did not reach ${point} in time`);
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    // The last step before the kill: decisions, each accepted by the thread; the worker dies right after.
    await Promise.all(at('after-decision').map((thread) => thread.decide()));
  }

  private async killWorker(round: number): Promise<void> {
    const worker = this.worker!;
    this.kills.push({ round, at: Date.now(), pid: worker.pid });
    await worker.kill();
    this.log(`  SIGKILL the worker (pid ${worker.pid})`);
  }

  /**
   * While no worker runs: decisions for the threads that wait, by signal (stored), by an Update whose
   * sender gives up after 2 s, or by an Update whose sender keeps waiting (through the server's
   * restart, until a worker runs or a minute passes).
   */
  private async decideWhileDown(threads: MatrixThread[]): Promise<void> {
    const waiting = threads.filter((thread) => thread.plan.point === 'awaiting-approval');
    const patient = waiting.filter((thread) => thread.decision.via === 'update' && thread.index % 4 === 2);
    for (const thread of patient) thread.sendInBackground(PATIENT_DEADLINE_MS);
    await Promise.all(waiting.filter((thread) => !patient.includes(thread)).map((thread) => thread.sendDecisionOnce(WHILE_DOWN_DEADLINE_MS)));
  }

  /** After the kill: the interrupt (model-call threads), the decision until it has an outcome, the answer and the end. */
  private async recover(thread: MatrixThread): Promise<void> {
    if (thread.plan.point === 'model-call') {
      await thread.untilWaiting();
      await thread.decide();
    }
    if (thread.plan.point === 'awaiting-approval') await thread.decide();
    await thread.finish();
  }
}
