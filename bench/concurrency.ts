/** Running many async jobs with a bound on how many are in flight. */
import { nowMs } from './clock';

/** Runs `job` for every item, at most `limit` at once. Stops starting new jobs after the first failure. */
export async function forEachLimited<T>(items: readonly T[], limit: number, job: (item: T, index: number) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      const index = next++;
      try {
        await job(items[index], index);
      } catch (err) {
        failed = true;
        throw err;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/** Returns a tick function that writes a progress line to stderr at every tenth of `total`. */
export function progress(label: string, total: number): () => void {
  const started = nowMs();
  const step = Math.max(1, Math.ceil(total / 10));
  let done = 0;
  return () => {
    done++;
    if (done % step === 0 || done === total) {
      process.stderr.write(`  ${label}: ${done}/${total} (${((nowMs() - started) / 1000).toFixed(1)} s)\n`);
    }
  };
}
