/** The bench's summary: targets, a table on stdout, JSON in bench/out/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchOptions } from './options';
import type { Memory } from './memory';
import type { ParkedResult } from './parked-threads';
import type { CpuUse } from './proc-stats';
import type { RoundTripResult } from './round-trip';
import type { Distribution } from './stats';

export interface Machine {
  cpus: number;
  memoryGiB: number;
  node: string;
  temporal: string;
  /** 1, 5 and 15 minute load averages: other work on the machine shows here. */
  loadAverage: { atStart: number[]; atEnd: number[] };
}

export interface Target {
  name: string;
  target: string;
  actual: string;
  pass: boolean;
}

export interface BenchReport {
  date: string;
  machine: Machine;
  options: BenchOptions;
  /** Right after the worker process got ready. */
  memoryAtStart: Memory;
  roundTrip: RoundTripResult;
  parked: ParkedResult;
  targets: Target[];
  /** Anything the bench saw go wrong (wrong counts); the run exits non-zero when there is one. */
  problems: string[];
}

const RSS_TARGET_MIB = 512;
const PARKED_TARGET = 5000;

export function evaluateTargets(roundTrip: RoundTripResult, parked: ParkedResult): Target[] {
  const { p50, p95 } = roundTrip.decisionToToolStart;
  const peakRss = parked.memoryWhileParked.worker.peakRssMb;
  return [
    { name: 'decision → tool start, p50', target: '≤ 20 ms', actual: `${p50} ms`, pass: p50 <= 20 },
    { name: 'decision → tool start, p95', target: '≤ 60 ms', actual: `${p95} ms`, pass: p95 <= 60 },
    {
      name: 'threads waiting at once',
      target: `≥ ${PARKED_TARGET}`,
      actual: `${parked.threads} (visibility: ${parked.visibleWaiting.count})`,
      pass: parked.threads >= PARKED_TARGET && parked.visibleWaiting.count >= parked.threads,
    },
    { name: 'worker peak RSS with all waiting', target: `≤ ${RSS_TARGET_MIB} MiB`, actual: `${peakRss} MiB`, pass: peakRss <= RSS_TARGET_MIB },
    {
      name: 'all approved and answered, tool ran once each',
      target: `${parked.threads}/${parked.threads}`,
      actual: `${parked.toolRanOnce}/${parked.threads}`,
      pass: parked.toolRanOnce === parked.threads,
    },
  ];
}

export function printReport(report: BenchReport): void {
  const { machine, options, roundTrip, parked } = report;
  const { coldApprovals: cold, bulkApprovals: bulk } = parked;
  // The cache keeps the most recently used threads: the oldest are out once enough others came after them.
  const evicted = bulk.threads >= options.maxCachedWorkflows;
  const lines = [
    '',
    `Airlock bench, ${report.date}: ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.temporal}`,
    `Load average at start ${machine.loadAverage.atStart.join(' ')}, at end ${machine.loadAverage.atEnd.join(' ')}`,
    `Dev server dynamic config: ${options.dynamicConfig.length ? options.dynamicConfig.join(', ') : "Airlock's dev-server defaults"}`,
    '',
    `Approval round trip: ${roundTrip.threads} threads one at a time, thread in the worker's cache (after ${options.warmup} warm-up), ${secs(roundTrip.seconds)}`,
    distributionHeader(),
    distributionRow('message → interrupt', roundTrip.messageToInterrupt),
    distributionRow('decision → tool start', roundTrip.decisionToToolStart),
    distributionRow('decision → final answer', roundTrip.decisionToAnswer),
    `  CPU: ${cpu(roundTrip.cpu)}`,
    '',
    `Parked threads: ${parked.threads}, ${parked.concurrency} in flight, maxCachedWorkflows ${options.maxCachedWorkflows}`,
    `  park all: ${secs(parked.park.seconds)} (${rate(parked.park.threadsPerSecond)}); CPU: ${cpu(parked.park.cpu)}`,
    `  visibility: ${parked.visibleWaiting.count} listed as awaiting_approval (seen after ${secs(parked.visibleWaiting.seconds)})`,
    `  oldest ${cold.threads} approved one at a time${evicted ? ", evicted from the worker's cache" : ''}, the others still waiting:`,
    distributionHeader(),
    distributionRow('decision → tool start', cold.decisionToToolStart),
    distributionRow('decision → final answer', cold.decisionToAnswer),
    `  other ${bulk.threads} approved, ${parked.concurrency} in flight: ${secs(bulk.seconds)} (${rate(bulk.threadsPerSecond)}); CPU: ${cpu(bulk.cpu)}`,
    distributionHeader(),
    distributionRow('decision → tool start', bulk.decisionToToolStart),
    distributionRow('decision → final answer', bulk.decisionToAnswer),
    `  tool ran once: ${parked.toolRanOnce}/${parked.threads} threads`,
    `  end all: ${secs(parked.end.seconds)}`,
    '',
    'Memory (MiB)                 worker RSS  worker peak  main JS heap   server RSS  server peak',
    memoryRow('worker ready', report.memoryAtStart),
    memoryRow('after round trips', parked.memoryBefore),
    memoryRow(`${parked.threads} waiting`, parked.memoryWhileParked),
    memoryRow('all approved', parked.memoryAfterApprovals),
    '',
    'Targets',
    ...report.targets.map((t) => `  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(46)} ${t.target.padEnd(12)} ${t.actual}`),
    ...(report.problems.length ? ['', 'Problems', ...report.problems.map((problem) => `  ${problem}`)] : []),
    '',
  ];
  process.stdout.write(lines.join('\n'));
}

/** Writes the report as JSON into bench/out/ and returns the file's path. */
export function writeReport(report: BenchReport): string {
  const dir = path.resolve('bench', 'out');
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `bench-${report.date.replace(/[:.]/g, '-')}.json`);
  writeFileSync(file, `${JSON.stringify(report, null, 2)}\n`);
  return file;
}

const distributionHeader = () => `  ${''.padEnd(26)}${['p50', 'p95', 'p99', 'max', 'mean'].map((h) => h.padStart(12)).join('')}`;
const distributionRow = (label: string, d: Distribution) =>
  `  ${label.padEnd(26)}${[d.p50, d.p95, d.p99, d.max, d.mean].map((v) => `${v.toFixed(1)} ms`.padStart(12)).join('')}`;
const secs = (seconds: number) => `${seconds.toFixed(1)} s`;
const rate = (perSecond: number) => `${perSecond.toFixed(1)} threads/s`;
const cpu = (use: CpuUse) => `server ${use.server} s, worker ${use.worker} s, bench client ${use.bench} s, other processes ${use.others} s`;
const memoryRow = (label: string, m: Memory) =>
  `  ${label.padEnd(25)}${[m.worker.rssMb, m.worker.peakRssMb, m.worker.heapUsedMb, m.server.rssMb, m.server.peakRssMb]
    .map((value) => value.toFixed(1).padStart(13))
    .join('')}`;
