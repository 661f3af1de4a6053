/** The bench's summary: targets, a table on stdout, JSON in bench/out/. */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchOptions } from './options';
import type { Memory } from './memory';
import type { ParkedResult } from './parked-threads';
import type { CpuUse } from './proc-stats';
import type { RoundTripResult } from './round-trip';
import type { Distribution } from './stats';
import type { ThroughputResult } from './throughput';
import type { GrowthResult } from './growth';
import type { LateDecisionResult } from './late-decisions';

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
  /** Figures of the same run that bear on this one (the floor's, other processes' CPU): printed under a miss. */
  context?: string;
}

export interface BenchReport {
  date: string;
  machine: Machine;
  options: BenchOptions;
  /** Right after the worker process got ready. */
  memoryAtStart: Memory;
  roundTrip: RoundTripResult;
  /** The same round trips on the bare workflow (the floor). */
  bareRoundTrip: RoundTripResult;
  throughput: ThroughputResult;
  bareThroughput: ThroughputResult;
  /** Airlock's, then the floor's. */
  lateDecisions: LateDecisionResult[];
  growth: GrowthResult[];
  parked: ParkedResult;
  targets: Target[];
  /** Anything the bench saw go wrong (wrong counts); the run exits non-zero when there is one. */
  problems: string[];
}

const RSS_TARGET_MIB = 512;
const PARKED_TARGET = 10_000;
const RATIO_TARGET = 1.1;

type Results = Pick<BenchReport, 'roundTrip' | 'bareRoundTrip' | 'throughput' | 'bareThroughput' | 'lateDecisions' | 'growth' | 'parked'>;

const ratio = (value: number, floor: number) => Math.round((value / floor) * 100) / 100;

/** Each figure of Airlock's over the bare workflow's (latencies: Airlock / bare; throughput: bare / Airlock, so ≤ 1 is as good). */
export function ratios({ roundTrip, bareRoundTrip, throughput, bareThroughput }: Results) {
  return {
    messageToInterruptP50: ratio(roundTrip.messageToInterrupt.p50, bareRoundTrip.messageToInterrupt.p50),
    decisionToToolStartP50: ratio(roundTrip.decisionToToolStart.p50, bareRoundTrip.decisionToToolStart.p50),
    decisionToToolStartP95: ratio(roundTrip.decisionToToolStart.p95, bareRoundTrip.decisionToToolStart.p95),
    decisionToAnswerP50: ratio(roundTrip.decisionToAnswer.p50, bareRoundTrip.decisionToAnswer.p50),
    throughput: ratio(bareThroughput.approvalsPerSecond, throughput.approvalsPerSecond),
    historyEvents: ratio(roundTrip.history.events, bareRoundTrip.history.events),
    historyBytes: ratio(roundTrip.history.bytes, bareRoundTrip.history.bytes),
    serverCpuPerThread: ratio(throughput.cpuMsPerThread.server, bareThroughput.cpuMsPerThread.server),
    workerCpuPerThread: ratio(throughput.cpuMsPerThread.worker, bareThroughput.cpuMsPerThread.worker),
  };
}

/** History bytes per model turn between the first two checkpoints (early) and the last two (late). */
function bytesPerTurn(thread: GrowthResult): { early: number; late: number; turns: [number, number, number] } | undefined {
  const [first, second, last] = thread.points;
  if (!first || !second || !last) return undefined;
  return {
    early: (second.bytes - first.bytes) / (second.turns - first.turns),
    late: (last.bytes - second.bytes) / (last.turns - second.turns),
    turns: [first.turns, second.turns, last.turns],
  };
}

function longThreadContext(lean: GrowthResult | undefined): string {
  if (!lean) return 'the long thread was not run (--growth-messages=0)';
  const perTurn = bytesPerTurn(lean);
  if (!perTurn) return `the long thread stopped at turn ${lean.points.at(-1)?.turns ?? 0}, before the last checkpoint (--growth-messages)`;
  const [first, second, last] = perTurn.turns;
  return `bytes per turn: ${Math.round(perTurn.early)} from turn ${first} to ${second}, ${Math.round(perTurn.late)} from ${second} to ${last}`;
}

/** Bytes per turn between the last two checkpoints over that between the first two: about 1 when growth is linear. */
function growthFactor(thread: GrowthResult): number {
  const perTurn = bytesPerTurn(thread);
  return perTurn ? Math.round((perTurn.late / perTurn.early) * 100) / 100 : NaN;
}

const signedMs = (value: number) => `${value >= 0 ? '+' : '−'}${Math.abs(Math.round(value * 10) / 10)} ms`;

/** A round-trip figure of Airlock's beside the floor's, and the CPU other processes took during each one's turns. */
function besideFloor(airlock: number, floor: number, airlockPart: RoundTripResult, floorPart: RoundTripResult): string {
  const others = (part: RoundTripResult) => `${part.cpu.others} s of ${secs(part.seconds)}`;
  return `Airlock ${airlock} ms, the floor ${floor} ms (${signedMs(airlock - floor)}); other processes' CPU: ${others(airlockPart)} in Airlock's turns, ${others(floorPart)} in the floor's`;
}

/** Whether the oldest parked threads had left the worker's cache, which keeps the most recently used, when they were approved. */
const oldestEvicted = (parked: ParkedResult, maxCachedWorkflows: number) => parked.threads - parked.coldApprovals.threads >= maxCachedWorkflows;

/** A late-decision phase's evicted decision → tool start p50 over its cached one. */
const lateRatio = (phase: LateDecisionResult) => ratio(phase.evicted.decisionToToolStart.p50, phase.cached.decisionToToolStart.p50);

const plural = (count: number, one: string, many: string) => `${count} ${count === 1 ? one : many}`;

/** `maxCachedWorkflows`: the worker's cache, to tell whether the oldest parked threads were evicted from it. */
export function evaluateTargets(results: Results, maxCachedWorkflows: number): Target[] {
  const { roundTrip, bareRoundTrip, throughput, bareThroughput, lateDecisions, parked, growth } = results;
  const r = ratios(results);
  const peakRss = parked.memoryWhileParked.worker.peakRssMb;
  const lean = growth.find((thread) => thread.inputVersion === 6);
  const coldP50 = parked.coldApprovals.decisionToToolStart.p50;
  const evicted = oldestEvicted(parked, maxCachedWorkflows);
  const warmP50 = parked.warmApprovals.decisionToToolStart.p50;
  const ratioTarget = (name: string, value: number, context: string, over = 'Airlock / bare'): Target => ({ name: `${name} (${over})`, target: `≤ ${RATIO_TARGET}`, actual: `${value}`, pass: value <= RATIO_TARGET, context });
  const roundTripTarget = (name: string, value: number, pick: (result: RoundTripResult) => number) =>
    ratioTarget(name, value, besideFloor(pick(roundTrip), pick(bareRoundTrip), roundTrip, bareRoundTrip));
  const lateRatios = lateDecisions.map((phase) => `${phase.driver} ${lateRatio(phase)}`);
  return [
    roundTripTarget('decision → tool start, p50', r.decisionToToolStartP50, (result) => result.decisionToToolStart.p50),
    roundTripTarget('decision → tool start, p95', r.decisionToToolStartP95, (result) => result.decisionToToolStart.p95),
    roundTripTarget('decision → final answer, p50', r.decisionToAnswerP50, (result) => result.decisionToAnswer.p50),
    ratioTarget(
      'approvals per second, 100 in flight',
      r.throughput,
      `Airlock ${throughput.approvalsPerSecond.toFixed(1)}/s, the floor ${bareThroughput.approvalsPerSecond.toFixed(1)}/s`,
      'bare / Airlock',
    ),
    {
      name: 'message → interrupt, p50',
      target: '≤ 30 ms',
      actual: `${roundTrip.messageToInterrupt.p50} ms`,
      pass: roundTrip.messageToInterrupt.p50 <= 30,
      context: `an absolute figure: the floor's own p50 in this run was ${bareRoundTrip.messageToInterrupt.p50} ms (Airlock / floor ${r.messageToInterruptP50})`,
    },
    {
      name: 'history of a one-call thread, events',
      target: '≤ 30',
      actual: `${roundTrip.history.events}`,
      pass: roundTrip.history.events <= 30,
      context: `the floor's: ${bareRoundTrip.history.events}`,
    },
    {
      name: 'history of a one-call thread, bytes',
      target: '≤ 6 KiB',
      actual: `${(roundTrip.history.bytes / 1024).toFixed(1)} KiB`,
      pass: roundTrip.history.bytes <= 6 * 1024,
      context: `bytes for: ${bytesFor(roundTrip.history.bytesFor)}`,
    },
    {
      name: 'long thread: bytes per turn, turns 50-200 over 10-50',
      target: '≈ 1 (linear)',
      actual: lean ? `${growthFactor(lean)}` : 'not run',
      pass: lean !== undefined && growthFactor(lean) <= 1.5,
      context: longThreadContext(lean),
    },
    {
      name: 'threads waiting at once',
      target: `≥ ${PARKED_TARGET}`,
      actual: `${parked.threads} (visibility: ${parked.visibleWaiting.count})`,
      pass: parked.threads >= PARKED_TARGET && parked.visibleWaiting.count >= parked.threads,
      context: parked.threads < PARKED_TARGET ? `this run parked ${parked.threads} (--parked)` : `visibility listed ${parked.visibleWaiting.count} as waiting after ${parked.visibleWaiting.seconds} s`,
    },
    {
      name: 'worker peak RSS with all waiting',
      target: `≤ ${RSS_TARGET_MIB} MiB`,
      actual: `${peakRss} MiB`,
      pass: peakRss <= RSS_TARGET_MIB,
      context: `main JS heap ${parked.memoryWhileParked.worker.heapUsedMb} MiB with ${parked.threads} waiting`,
    },
    {
      name: 'evicted decision → tool start p50, over cached (both among the parked)',
      target: '≤ 2',
      actual: `${ratio(coldP50, warmP50)} (${coldP50} / ${warmP50} ms; over the round trip's: ${ratio(coldP50, roundTrip.decisionToToolStart.p50)})${evicted ? '' : ', none evicted'}`,
      pass: evicted && coldP50 <= 2 * warmP50,
      context: evicted
        ? `the same ratio in the late-decision phase: ${lateRatios.length ? lateRatios.join(', ') : 'not run'}`
        : `none of the oldest was evicted: ${parked.threads} parked, a cache of ${maxCachedWorkflows} (--parked, --max-cached-workflows)`,
    },
    {
      name: 'all approved and answered, tool ran once each',
      target: `${parked.threads}/${parked.threads}`,
      actual: `${parked.toolRanOnce}/${parked.threads}`,
      pass: parked.toolRanOnce === parked.threads,
      context: plural(parked.threads - parked.toolRanOnce, 'thread did not run its tool exactly once', 'threads did not run their tool exactly once'),
    },
  ];
}

/** A history's bytes by what they are for, largest first: each event's own encoded size (older reports have no breakdown). */
function bytesFor(groups: Record<string, number> | undefined): string {
  if (!groups) return 'not measured';
  return Object.entries(groups)
    .sort(([, a], [, b]) => b - a)
    .map(([group, bytes]) => `${group} ${bytes}`)
    .join(', ');
}

export function printReport(report: BenchReport): void {
  const { machine, options, roundTrip, parked } = report;
  const { warmApprovals: warm, coldApprovals: cold, bulkApprovals: bulk } = parked;
  const evicted = oldestEvicted(parked, options.maxCachedWorkflows);
  const lines = [
    '',
    `Airlock bench, ${report.date}: ${machine.cpus} cores, ${machine.memoryGiB} GiB, Node ${machine.node}, ${machine.temporal}`,
    `Load average at start ${machine.loadAverage.atStart.join(' ')}, at end ${machine.loadAverage.atEnd.join(' ')}`,
    `Dev server dynamic config: ${options.dynamicConfig.length ? options.dynamicConfig.join(', ') : "Airlock's dev-server defaults"}`,
    '',
    `SQLite: WAL, synchronous=${options.sqliteSynchronous}`,
    '',
    `Approval round trip: ${roundTrip.threads} threads one at a time, thread in the worker's cache (after ${options.warmup} warm-up), taking turns with the floor's; Airlock's: ${secs(roundTrip.seconds)}`,
    distributionHeader(),
    distributionRow('message → interrupt', roundTrip.messageToInterrupt),
    distributionRow('decision → tool start', roundTrip.decisionToToolStart),
    distributionRow('decision → final answer', roundTrip.decisionToAnswer),
    `  CPU: ${cpu(roundTrip.cpu)}`,
    `  history of one thread: ${roundTrip.history.events} events, ${(roundTrip.history.bytes / 1024).toFixed(1)} KiB`,
    `    bytes for: ${bytesFor(roundTrip.history.bytesFor)}`,
    `The same on the bare workflow (the floor), in the turns between: ${secs(report.bareRoundTrip.seconds)}`,
    distributionHeader(),
    distributionRow('message → interrupt', report.bareRoundTrip.messageToInterrupt),
    distributionRow('decision → tool start', report.bareRoundTrip.decisionToToolStart),
    distributionRow('decision → final answer', report.bareRoundTrip.decisionToAnswer),
    `  CPU: ${cpu(report.bareRoundTrip.cpu)}`,
    `  history of one thread: ${report.bareRoundTrip.history.events} events, ${(report.bareRoundTrip.history.bytes / 1024).toFixed(1)} KiB`,
    `    bytes for: ${bytesFor(report.bareRoundTrip.history.bytesFor)}`,
    '',
    `Throughput: ${report.throughput.threads} threads each, ${report.throughput.concurrency} in flight`,
    ...[report.throughput, report.bareThroughput].map(
      (t) => `  ${t.driver.padEnd(8)} ${t.approvalsPerSecond.toFixed(1)} approvals/s; CPU per thread: server ${t.cpuMsPerThread.server} ms, worker ${t.cpuMsPerThread.worker} ms; other processes ${t.cpu.others} s`,
    ),
    '',
    'Airlock over the floor (latency: Airlock / bare; throughput: bare / Airlock)',
    ...Object.entries(ratios(report)).map(([name, value]) => `  ${name.padEnd(26)} ${value}`),
    '',
    `Late decisions: ${report.lateDecisions[0]?.threads ?? 0} threads each, maxCachedWorkflows ${options.maxCachedWorkflows}; decision → tool start, one at a time`,
    ...report.lateDecisions.flatMap((phase) => [
      `  ${phase.driver}: cached p50 ${phase.cached.decisionToToolStart.p50} ms (p95 ${phase.cached.decisionToToolStart.p95}), evicted p50 ${phase.evicted.decisionToToolStart.p50} ms (p95 ${phase.evicted.decisionToToolStart.p95}): ${lateRatio(phase)}×`,
    ]),
    '',
    'Long threads: history of every run so far (events, KiB) at model turn',
    ...report.growth.map((thread) => `  input version ${thread.inputVersion}: ${thread.points.map((p) => `turn ${p.turns}: ${p.events} events, ${(p.bytes / 1024).toFixed(1)} KiB${p.runs > 1 ? ` (${p.runs} runs)` : ''}`).join('; ')}`),
    '',
    `Parked threads: ${parked.threads}, ${parked.concurrency} in flight, maxCachedWorkflows ${options.maxCachedWorkflows}`,
    `  park all: ${secs(parked.park.seconds)} (${rate(parked.park.threadsPerSecond)}); CPU: ${cpu(parked.park.cpu)}`,
    `  visibility: ${parked.visibleWaiting.count} listed as awaiting_approval (seen after ${secs(parked.visibleWaiting.seconds)})`,
    `  newest ${warm.threads} approved one at a time, in the worker's cache, the others still waiting:`,
    distributionHeader(),
    distributionRow('decision → tool start', warm.decisionToToolStart),
    distributionRow('decision → final answer', warm.decisionToAnswer),
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
    memoryRow('before parking', parked.memoryBefore),
    '  (peaks reset: from here on a peak is the parked phase\'s own)',
    memoryRow(`${parked.threads} waiting`, parked.memoryWhileParked),
    memoryRow('all approved', parked.memoryAfterApprovals),
    '',
    'Targets',
    ...report.targets.flatMap((t) => [`  ${t.pass ? 'PASS' : 'MISS'}  ${t.name.padEnd(46)} ${t.target.padEnd(12)} ${t.actual}`, ...(!t.pass && t.context ? [`          ${t.context}`] : [])]),
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
