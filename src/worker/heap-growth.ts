/**
 * How far V8 lets a worker's heaps grow past what is live before it collects them.
 *
 * V8 picks the factor itself (up to 4× what survived the last full collection) from how fast it
 * collects against how fast the program allocates. A worker that parks thousands of threads
 * allocates fast and keeps little (its cache), so V8 lets the workflow thread's heap grow to
 * several times its live size: most of a busy worker's resident memory. A fixed, small factor
 * bounds that without a hard limit, at the cost of more frequent collections (bench/RESULTS.md).
 */
import v8 from 'node:v8';

/** Airlock workers' default: collect once the heap is 20 % above what survived the last collection. */
export const DEFAULT_HEAP_GROWTH_PERCENT = 20;
const MAX_HEAP_GROWTH_PERCENT = 300;

let applied: number | undefined;

/**
 * Sets V8's heap growth factor for the whole process (every isolate: the main thread and the
 * workflow threads, including those started later) to `1 + percent / 100`. `0` sets nothing.
 * Does nothing when the process was started with `--heap-growing-percent` (the operator's choice
 * stands) or when a factor was already set here: the first percent set stays, and a later call
 * that asks for another one gets a process warning.
 * @returns the percent in force from this call, or `undefined` when V8 picks it
 */
export function limitHeapGrowth(percent: number): number | undefined {
  if (!Number.isInteger(percent) || percent < 0 || percent > MAX_HEAP_GROWTH_PERCENT) {
    throw new RangeError(`The heap growth is a whole percent from 0 to ${MAX_HEAP_GROWTH_PERCENT}`);
  }
  if (startedWithHeapGrowth()) return undefined;
  if (applied !== undefined) {
    if (percent !== applied) process.emitWarning(`The heap growth stays ${applied} % (set by the first worker of this process); ${percent} is not applied`, 'AirlockWarning');
    return applied;
  }
  if (percent === 0) return undefined;
  v8.setFlagsFromString(`--heap-growing-percent=${percent}`);
  applied = percent;
  return applied;
}

function startedWithHeapGrowth(): boolean {
  return process.execArgv.some((arg) => /^--heap[-_]growing[-_]percent\b/.test(arg));
}
