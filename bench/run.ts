/**
 * `npm run bench`: approval latency and parked-thread capacity, on a local dev server the bench
 * starts itself (SQLite file in a fresh temp dir, WAL), with the offline model and a worker in a
 * child process. Prints a summary, writes it as JSON to bench/out/, exits non-zero on any error.
 */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { startDevServer } from '../src/devtools/dev-server';
import { AirlockClient } from '../src/client';
import { BENCH_AGENT } from './bench-agent';
import { Cleanup } from './cleanup';
import type { BenchContext } from './context';
import { measureMemory } from './memory';
import { parseOptions, USAGE, UsageError, type BenchOptions } from './options';
import { runParkedThreads } from './parked-threads';
import { findPidByArgument, resetPeakMemory } from './proc-stats';
import { evaluateTargets, printReport, writeReport, type BenchReport } from './report';
import { runRoundTrips } from './round-trip';
import { describeMachine } from './machine';
import { writeBareBundle, writeWorkflowBundle } from './workflow-bundle';
import { airlockDriver, bareDriver } from './drivers';
import { runThroughput, type ThroughputResult } from './throughput';
import { runGrowth, type GrowthResult } from './growth';
import { runLateDecisions } from './late-decisions';
import { startWorkerProcess } from './worker-link';
import { runCrashBench } from './crash/crash-bench';

async function main(): Promise<number> {
  const options = parseOptions(process.argv.slice(2));
  if (!options) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (options.crash) return runCrashBench(options);
  const cleanup = new Cleanup();
  cleanup.onSignals();
  const workDir = mkdtempSync(path.join(os.tmpdir(), 'airlock-bench-'));
  let finished = false;
  cleanup.add(async () => {
    if (finished) rmSync(workDir, { recursive: true, force: true });
    else process.stderr.write(`The dev server's state and log are kept in ${workDir}\n`);
  });
  try {
    const startedAt = new Date().toISOString();
    const loadAverageAtStart = os.loadavg();
    const { ctx, workerDied, memoryAtStart } = await setUp(options, workDir, cleanup);
    const results = await runPhases(ctx, options, workerDied);
    const report: BenchReport = {
      date: startedAt,
      machine: describeMachine(loadAverageAtStart),
      options,
      memoryAtStart,
      ...results,
      targets: evaluateTargets(results, options.maxCachedWorkflows),
      problems: findProblems(ctx, options, results),
    };
    printReport(report);
    process.stdout.write(`Report written to ${path.relative(process.cwd(), writeReport(report))}\n`);
    finished = true;
    return report.problems.length === 0 ? 0 : 1;
  } finally {
    await cleanup.run();
  }
}

async function setUp(options: BenchOptions, workDir: string, cleanup: Cleanup) {
  const dbFile = path.join(workDir, 'bench.db');
  step(`Starting a dev server (SQLite ${dbFile}, WAL, synchronous=${options.sqliteSynchronous})`);
  const server = await startDevServer({
    port: 0,
    uiPort: false,
    dbFilename: dbFile,
    sqliteSynchronous: options.sqliteSynchronous,
    logFile: path.join(workDir, 'dev-server.log'),
    extraArgs: options.dynamicConfig.flatMap((pair) => ['--dynamic-config-value', pair]),
  });
  cleanup.add(() => server.stop());
  if (!existsSync(`${dbFile}-wal`)) throw new Error(`The dev server's store is not in WAL mode (no ${dbFile}-wal)`);
  const serverPid = findPidByArgument(dbFile);

  const runId = Date.now().toString(36);
  const taskQueue = `bench-${runId}`;
  const workflowBundlePath = path.join(workDir, 'workflow-bundle.js');
  const bareBundlePath = path.join(workDir, 'bare-bundle.js');
  step('Bundling the workflow code (Airlock and the bare workflow)');
  await writeWorkflowBundle(workflowBundlePath);
  await writeBareBundle(bareBundlePath);
  step(`Starting the worker process (maxCachedWorkflows ${options.maxCachedWorkflows})`);
  const worker = await startWorkerProcess({
    address: server.address,
    namespace: server.namespace,
    taskQueue,
    maxCachedWorkflows: options.maxCachedWorkflows,
    workflowBundlePath,
    bareTaskQueue: `${taskQueue}-bare`,
    bareBundlePath,
  });
  cleanup.add(() => worker.stop());
  const pids = { server: serverPid, worker: worker.pid };
  const measure = () => measureMemory(pids, worker.memoryUsage);
  const memoryAtStart = await measure();

  // Not closed: the process exits right after the run, and closing it under calls still retrying
  // (after a failure or a signal) would throw from a timer.
  const connection = await Connection.connect({ address: server.address });
  const airlock = new AirlockClient({ connection, namespace: server.namespace, taskQueue, defaultAgent: BENCH_AGENT });
  const ctx: BenchContext = {
    airlock,
    driver: airlockDriver(airlock),
    bare: bareDriver(airlock.client, `${taskQueue}-bare`),
    tools: worker.tools,
    pids,
    measureMemory: measure,
    resetPeakMemory: () => {
      resetPeakMemory(pids.worker);
      resetPeakMemory(pids.server);
    },
    runId,
  };
  return { ctx, workerDied: worker.died, memoryAtStart };
}

type PhaseResults = Awaited<ReturnType<typeof runPhases>>;

async function runPhases(ctx: BenchContext, options: BenchOptions, workerDied: Promise<never>) {
  const guard = <T>(phase: Promise<T>) => Promise.race([phase, workerDied]);
  if (options.warmup > 0) {
    step(`Warming up: ${options.warmup} round trips each, Airlock and the bare workflow`);
    await guard(runRoundTrips(ctx, 'warmup', options.warmup, [ctx.driver, ctx.bare]));
  }
  step(`Approval round trips: ${options.roundTrips} each, one at a time, Airlock and the bare workflow taking turns`);
  const [roundTrip, bareRoundTrip] = await guard(runRoundTrips(ctx, 'round-trip', options.roundTrips, [ctx.driver, ctx.bare]));
  step(`Throughput: ${options.throughput} threads each, ${options.concurrency} in flight, in halves: Airlock, the floor, the floor, Airlock`);
  const [throughput, bareThroughput]: ThroughputResult[] = await guard(runThroughput(ctx, [ctx.driver, ctx.bare], options.throughput, options.concurrency));
  const lateSample = lateDecisionSample(options);
  step(`Late decisions: ${options.maxCachedWorkflows + 2 * lateSample} threads each, ${lateSample} cached and ${lateSample} evicted approved one at a time`);
  const lateDecisions = [
    await guard(runLateDecisions(ctx, ctx.driver, options.maxCachedWorkflows, lateSample, options.concurrency)),
    await guard(runLateDecisions(ctx, ctx.bare, options.maxCachedWorkflows, lateSample, options.concurrency)),
  ];
  step(`Long threads: ${options.growthMessages} messages (${options.growthMessages * 2} model turns) each`);
  const growth: GrowthResult[] = options.growthMessages > 0 ? await guard(runGrowth(ctx, options.growthMessages)) : [];
  step(`Parked threads: ${options.parked}, ${options.concurrency} in flight`);
  const parked = await guard(runParkedThreads(ctx, options.parked, options.concurrency, options.coldApprovals, options.maxCachedWorkflows));
  return { roundTrip, bareRoundTrip, throughput, bareThroughput, lateDecisions, growth, parked };
}

/** Wrong counts: the run exits non-zero when there is one. */
function findProblems(ctx: BenchContext, options: BenchOptions, results: PhaseResults): string[] {
  const { roundTrip, bareRoundTrip, throughput, bareThroughput, lateDecisions, growth, parked } = results;
  const problems: string[] = [];
  const growthApprovals = growth.reduce((sum, thread) => sum + thread.approvals, 0);
  const lateThreads = lateDecisions.reduce((sum, phase) => sum + phase.threads, 0);
  const expectedRuns = 2 * (options.warmup + options.roundTrips + options.throughput) + lateThreads + growthApprovals + options.parked;
  for (const phase of lateDecisions) {
    if (phase.toolRanOnce !== phase.threads) problems.push(`${phase.threads - phase.toolRanOnce} ${phase.driver} late-decision threads did not run their tool exactly once`);
  }
  for (const phase of [roundTrip, bareRoundTrip]) {
    if (phase.toolRanOnce !== phase.threads) problems.push(`${phase.threads - phase.toolRanOnce} round-trip threads did not run their tool exactly once`);
  }
  for (const phase of [throughput, bareThroughput]) {
    if (phase.toolRanOnce !== phase.threads) problems.push(`${phase.threads - phase.toolRanOnce} ${phase.driver} throughput threads did not run their tool exactly once`);
  }
  if (growth.some((thread) => thread.approvals !== Math.floor(options.growthMessages / 10))) problems.push('A long thread did not get all its approvals');
  if (parked.toolRanOnce !== parked.threads) problems.push(`${parked.threads - parked.toolRanOnce} parked threads did not run their tool exactly once`);
  if (parked.visibleWaiting.count < parked.threads) problems.push(`Visibility listed only ${parked.visibleWaiting.count} of ${parked.threads} waiting threads`);
  if (ctx.tools.totalRuns() !== expectedRuns) problems.push(`The tool ran ${ctx.tools.totalRuns()} times in all, expected ${expectedRuns}`);
  return problems;
}

/** Threads approved one at a time in each group of the late-decision phase: at most half the cache. */
function lateDecisionSample(options: BenchOptions): number {
  return Math.max(1, Math.min(options.coldApprovals, Math.floor(options.maxCachedWorkflows / 2)));
}

function step(text: string): void {
  process.stderr.write(`${text}\n`);
}

main().then(
  (code) => process.exit(code),
  (err) => {
    if (err instanceof UsageError) {
      process.stderr.write(`${err.message}\n${USAGE}\n`);
      process.exit(2);
    }
    process.stderr.write(`Bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
