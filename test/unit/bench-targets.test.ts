/**
 * The bench's targets: each is judged on the run's own figures, and a miss carries the figures of
 * the same run that bear on it (the floor's, other processes' CPU), which the report prints under it.
 */
import { evaluateTargets, printReport, type BenchReport } from '../../bench/report';
import { parseOptions } from '../../bench/options';
import type { Distribution } from '../../bench/stats';
import type { CpuUse } from '../../bench/proc-stats';
import type { Memory } from '../../bench/memory';

type Results = Parameters<typeof evaluateTargets>[0];

const dist = (p50: number, p95 = p50 * 1.5): Distribution => ({ count: 300, p50, p95, p99: p95, max: p95, mean: p50 });
const cpu = (others: number): CpuUse => ({ server: 20, worker: 15, bench: 3, others });
const memory = (peakRssMb: number): Memory => ({
  worker: { rssMb: peakRssMb - 10, peakRssMb, heapUsedMb: 43.1, heapTotalMb: 60, externalMb: 5 },
  server: { rssMb: 490, peakRssMb: 500 },
});
const approvals = (toolStart: number, threads: number) => ({ threads, decisionToToolStart: dist(toolStart), decisionToAnswer: dist(toolStart * 3) });
const history = (events: number, bytes: number) => ({ events, bytes, bytesFor: { visibility: 1126, 'local activities': 1303 } });
const roundTripOf = (messageToInterrupt: number, toolStart: [number, number], answer: number, others: number, seconds: number, events: number, bytes: number) => ({
  threads: 300,
  messageToInterrupt: dist(messageToInterrupt),
  decisionToToolStart: dist(...toolStart),
  decisionToAnswer: dist(answer),
  toolRanOnce: 300,
  seconds,
  cpu: cpu(others),
  history: history(events, bytes),
});

function results(overrides: Partial<Results> = {}): Results {
  const throughput = { driver: 'airlock' as const, threads: 3000, concurrency: 100, approvalsPerSecond: 32, cpuMsPerThread: { server: 30, worker: 20 }, cpu: cpu(1.2), toolRanOnce: 3000 };
  return {
    roundTrip: roundTripOf(24.5, [14.4, 20.4], 50, 0.7, 43.9, 26.6, 6040),
    bareRoundTrip: roundTripOf(32.6, [12.8, 17], 57.5, 0.6, 52.4, 32.5, 5325),
    throughput,
    bareThroughput: { ...throughput, driver: 'bare', approvalsPerSecond: 34.8, cpu: cpu(0.4) },
    lateDecisions: [
      { driver: 'airlock', threads: 500, cached: approvals(15.8, 250), evicted: approvals(28.5, 250), toolRanOnce: 500 },
      { driver: 'bare', threads: 500, cached: approvals(11.4, 250), evicted: approvals(24.6, 250), toolRanOnce: 500 },
    ],
    growth: [{ inputVersion: 6, approvals: 20, points: [{ turns: 10, events: 80, bytes: 30_000, runs: 1 }, { turns: 50, events: 400, bytes: 128_000, runs: 1 }, { turns: 200, events: 1600, bytes: 500_000, runs: 1 }] }],
    parked: {
      threads: 10_000,
      concurrency: 100,
      memoryBefore: memory(400),
      park: { seconds: 300, threadsPerSecond: 33, cpu: cpu(1) },
      visibleWaiting: { count: 10_000, seconds: 2.5 },
      memoryWhileParked: memory(452.5),
      warmApprovals: approvals(14.7, 125),
      coldApprovals: approvals(31.9, 125),
      bulkApprovals: { ...approvals(100, 9750), seconds: 300, threadsPerSecond: 32, cpu: cpu(2) },
      memoryAfterApprovals: memory(452.5),
      toolRanOnce: 10_000,
      end: { seconds: 60 },
    },
    ...overrides,
  };
}

const CACHE = 250;

const byName = (targets: BenchReport['targets'], start: string) => {
  const target = targets.find((candidate) => candidate.name.startsWith(start));
  if (!target) throw new Error(`no target named ${start}`);
  return target;
};

describe('bench targets', () => {
  it('judges each figure against its target, and a missed ratio carries both sides and the other processes’ CPU', () => {
    const targets = evaluateTargets(results(), CACHE);
    const toolStart = byName(targets, 'decision → tool start, p50');
    expect(toolStart).toMatchObject({ actual: '1.13', pass: false });
    expect(toolStart.context).toBe("Airlock 14.4 ms, the floor 12.8 ms (+1.6 ms); other processes' CPU: 0.7 s of 43.9 s in Airlock's turns, 0.6 s of 52.4 s in the floor's");
    expect(byName(targets, 'decision → tool start, p95')).toMatchObject({ actual: '1.2', pass: false, context: expect.stringMatching(/^Airlock 20.4 ms, the floor 17 ms \(\+3.4 ms\);/) });
    expect(byName(targets, 'decision → final answer')).toMatchObject({ actual: '0.87', pass: true, context: expect.stringMatching(/^Airlock 50 ms, the floor 57.5 ms \(−7.5 ms\);/) });
    expect(byName(targets, 'message → interrupt')).toMatchObject({ actual: '24.5 ms', pass: true });
    expect(byName(targets, 'evicted decision')).toMatchObject({ pass: false, context: 'the same ratio in the late-decision phase: airlock 1.8, bare 2.16' });
    expect(byName(targets, 'long thread')).toMatchObject({ pass: true, context: 'bytes per turn: 2450 from turn 10 to 50, 2480 from 50 to 200' });
    expect(targets.filter((target) => !target.pass).map((target) => target.name.split(',')[0])).toEqual([
      'decision → tool start',
      'decision → tool start',
      'evicted decision → tool start p50',
    ]);
  });

  it('names throughput by the way its ratio is taken, once', () => {
    const throughput = byName(evaluateTargets(results(), CACHE), 'approvals per second');
    expect(throughput).toEqual({ name: 'approvals per second, 100 in flight (bare / Airlock)', target: '≤ 1.1', actual: '1.09', pass: true, context: 'Airlock 32.0/s, the floor 34.8/s' });
  });

  it("puts an absolute figure that misses beside the floor's own, which shows a slow machine", () => {
    const slow = results();
    slow.roundTrip.messageToInterrupt = dist(53.2);
    slow.bareRoundTrip.messageToInterrupt = dist(74.1);
    expect(byName(evaluateTargets(slow, CACHE), 'message → interrupt')).toMatchObject({
      actual: '53.2 ms',
      pass: false,
      context: "an absolute figure: the floor's own p50 in this run was 74.1 ms (Airlock / floor 0.72)",
    });
  });

  it('misses, and says why, what a short run did not measure', () => {
    const short = results();
    const parked = { ...short.parked, threads: 20, toolRanOnce: 19, visibleWaiting: { count: 20, seconds: 0.5 }, warmApprovals: approvals(41.6, 5), coldApprovals: approvals(34.3, 5) };
    const targets = evaluateTargets({ ...short, growth: [], parked }, CACHE);
    expect(byName(targets, 'long thread')).toMatchObject({ actual: 'not run', pass: false, context: 'the long thread was not run (--growth-messages=0)' });
    expect(byName(targets, 'threads waiting')).toMatchObject({ pass: false, context: 'this run parked 20 (--parked)' });
    expect(byName(targets, 'all approved')).toMatchObject({ actual: '19/20', pass: false, context: '1 thread did not run its tool exactly once' });
    // The oldest 5 of 20 parked threads are still in a cache of 250: a ratio under 2 says nothing about eviction.
    expect(byName(targets, 'evicted decision')).toMatchObject({
      actual: "0.82 (34.3 / 41.6 ms; over the round trip's: 2.38), none evicted",
      pass: false,
      context: 'none of the oldest was evicted: 20 parked, a cache of 250 (--parked, --max-cached-workflows)',
    });
    const stopped = { ...short.growth[0], points: short.growth[0].points.slice(0, 2) };
    expect(byName(evaluateTargets({ ...short, growth: [stopped] }, CACHE), 'long thread')).toMatchObject({
      pass: false,
      context: 'the long thread stopped at turn 50, before the last checkpoint (--growth-messages)',
    });
  });
});

describe('the printed report', () => {
  it('prints a target’s figures under it when it misses, not when it passes', () => {
    const written: string[] = [];
    const spy = jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
      written.push(String(chunk));
      return true;
    });
    try {
      const run = results();
      printReport({
        date: '2026-12-02T15:00:00.000Z',
        machine: { cpus: 2, memoryGiB: 23.5, node: 'v20', temporal: 'temporal test', loadAverage: { atStart: [1, 1, 1], atEnd: [1, 1, 1] } },
        options: { ...parseOptions([])!, maxCachedWorkflows: CACHE },
        memoryAtStart: memory(220),
        ...run,
        targets: evaluateTargets(run, CACHE),
        problems: [],
      });
    } finally {
      spy.mockRestore();
    }
    const lines = written.join('').split('\n');
    const at = (start: string) => lines.findIndex((line) => line.includes(start));
    const missed = at('MISS  decision → tool start, p50');
    expect(lines[missed + 1].trim()).toBe("Airlock 14.4 ms, the floor 12.8 ms (+1.6 ms); other processes' CPU: 0.7 s of 43.9 s in Airlock's turns, 0.6 s of 52.4 s in the floor's");
    const passed = at('PASS  decision → final answer');
    expect(lines[passed + 1]).toMatch(/^ {2}PASS {2}approvals per second/);
  });
});
