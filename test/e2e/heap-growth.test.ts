/**
 * The worker's bounded heap growth (`createWorker({ heapGrowthPercent })`, `airlock worker
 * --heap-growth`) and cache size (`--max-cached-threads`): V8 really collects sooner with it, an
 * operator's own `--heap-growing-percent` stands, the CLI refuses values it cannot take, and a
 * worker runs with what it is given. Each case runs in its own process: the
 * setting belongs to the whole process. Uses the built package (dist), as a user's process does.
 */
import path from 'node:path';
import { tempDir, unique } from '../helpers';
import { airlock, runProcess, startBackground } from './cli-process';

const HEAP_GROWTH = path.join(__dirname, '../../dist/src/worker/heap-growth.js');

/**
 * A cache of 1,000 entries, each replaced after its time in the cache (as a worker evicts parked
 * threads): old-generation garbage. Prints the largest heap V8 took, in MiB, and what
 * `limitHeapGrowth` returned.
 */
const CHURN = `
const v8 = require('node:v8');
const { limitHeapGrowth } = require(${JSON.stringify(HEAP_GROWTH)});
const applied = limitHeapGrowth(Number(process.argv[1]));
const again = limitHeapGrowth(Number(process.argv[1]));
const cache = new Map();
let peak = 0;
for (let i = 0; i < 20000; i++) {
  cache.set(i, Array.from({ length: 500 }, (_, j) => ({ i, j, s: 'x' + j })));
  if (cache.size > 1000) cache.delete(i - 1000);
  if (i % 250 === 0) peak = Math.max(peak, v8.getHeapStatistics().total_heap_size);
}
console.log(JSON.stringify({ applied: applied ?? null, again: again ?? null, peakMib: Math.round(peak / 2 ** 20) }));
`;

async function churn(percent: number, nodeFlags: string[] = []): Promise<{ applied: number | null; again: number | null; peakMib: number }> {
  const result = await runProcess(process.execPath, [...nodeFlags, '-e', CHURN, String(percent)]);
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as { applied: number | null; again: number | null; peakMib: number };
}

test('with a 20 % heap growth, V8 holds far less garbage than with its own factor; an operator\'s --heap-growing-percent stands', async () => {
  const own = await churn(0);
  const bounded = await churn(20);
  const operators = await churn(20, ['--heap-growing-percent=300']);
  expect(own.applied).toBeNull();
  expect(bounded).toMatchObject({ applied: 20, again: 20 });
  expect(operators.applied).toBeNull();
  // The live set is about 1,000 entries of ~40 KiB: V8's own factor lets the heap grow to several
  // times that; 20 % keeps it near it (measured: about 2.3 times less). The operator's 300 % lets
  // it grow as far as V8's own would.
  expect(bounded.peakMib).toBeLessThan(own.peakMib * 0.75);
  expect(bounded.peakMib).toBeLessThan(operators.peakMib * 0.75);
}, 90_000);

test('airlock worker refuses a heap growth or cache size it cannot take, without echoing it', async () => {
  for (const [flag, value, expected] of [
    ['--heap-growth', '301', '--heap-growth takes a whole number from 0 to 300'],
    ['--heap-growth', '1e2<script>', '--heap-growth takes a whole number from 0 to 300'],
    ['--max-cached-threads', '0001', '--max-cached-threads takes 0 (no cache) or a whole number from 2 to 1000000'],
    ['--max-cached-threads', '-5', '--max-cached-threads takes a whole number from 0 to 1000000'],
  ]) {
    const result = await airlock(['worker', flag, value]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(expected);
    expect(result.stderr).not.toContain(value);
  }
});

test('airlock worker runs with the cache size and heap growth it is given, and says so', async () => {
  const connection = ['--address', process.env.AIRLOCK_TEST_ADDRESS!, '--task-queue', unique('heap-growth')];
  const worker = await startBackground(['worker', '--home', tempDir(), '--max-cached-threads', '7', '--heap-growth', '35', ...connection], 'Ready.');
  try {
    expect(worker.output()).toContain('Threads cached: up to 7; heap growth: 35 %');
  } finally {
    await worker.stop();
  }
  const defaults = await startBackground(['worker', '--home', tempDir(), ...connection], 'Ready.');
  try {
    expect(defaults.output()).toMatch(/Threads cached: up to \d+; heap growth: 20 %/);
  } finally {
    await defaults.stop();
  }
});
