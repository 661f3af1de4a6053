/**
 * `npm run bench -- --crash`: the crash matrix at scale (500 threads by default over 5 rounds,
 * the dev server crashed and restarted after every second round), on a dev server of its own.
 * Prints the table, writes the figures to bench/out/, exits non-zero on any problem.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Cleanup } from '../cleanup';
import type { BenchOptions } from '../options';
import { describeMachine } from '../machine';
import { CrashMatrix } from './crash-matrix';
import { formatCrashReport, writeCrashReport, type CrashReport } from './crash-report';
import { KILL_POINTS } from './kill-points';

/** The dev server is crashed and restarted after every this many worker kills. */
const RESTART_SERVER_EVERY = 2;

export async function runCrashBench(options: BenchOptions): Promise<number> {
  const cleanup = new Cleanup();
  cleanup.onSignals();
  const dir = mkdtempSync(path.join(os.tmpdir(), 'airlock-crash-'));
  const threadsPerPoint = Math.ceil(options.crashThreads / (options.crashRounds * KILL_POINTS.length));
  const matrix = new CrashMatrix({
    dir,
    threadsPerPoint,
    rounds: options.crashRounds,
    restartServerEvery: Math.min(RESTART_SERVER_EVERY, options.crashRounds),
    sqliteSynchronous: options.sqliteSynchronous,
    concurrency: options.concurrency,
    timeoutMs: 30 * 60_000,
    log: (line) => process.stderr.write(`${line}\n`),
  });
  let finished = false;
  cleanup.add(async () => {
    await matrix.close();
    if (finished) rmSync(dir, { recursive: true, force: true });
    else process.stderr.write(`The crash matrix's server state, log and ledger are kept in ${dir}\n`);
  });
  try {
    const date = new Date().toISOString();
    const loadAtStart = os.loadavg();
    const result = await matrix.run();
    const report: CrashReport = {
      date,
      machine: describeMachine(loadAtStart),
      settings: { threads: result.threads, rounds: options.crashRounds, threadsPerPoint, restartServerEvery: Math.min(RESTART_SERVER_EVERY, options.crashRounds), sqliteSynchronous: options.sqliteSynchronous },
      result,
    };
    process.stdout.write(`${formatCrashReport(report)}\n`);
    process.stdout.write(`Report written to ${path.relative(process.cwd(), writeCrashReport(report))}\n`);
    finished = result.problems.length === 0;
    return finished ? 0 : 1;
  } finally {
    await cleanup.run();
  }
}
