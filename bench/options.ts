/** Command-line flags of the bench (the numeric ones can also be set through environment variables). */
import { parseArgs, UsageError as ArgsError } from '../src/cli/args';

export interface BenchOptions {
  /** Round trips run first and not counted. */
  warmup: number;
  /** Round trips measured, one at a time. */
  roundTrips: number;
  /** Threads waiting for approval at once. */
  parked: number;
  /** The oldest parked threads approved one at a time (at most half of them). */
  coldApprovals: number;
  /** Threads in flight while parking, approving and ending. */
  concurrency: number;
  /** The worker's workflow cache size. */
  maxCachedWorkflows: number;
  /** `KEY=VALUE` pairs passed to the dev server as `--dynamic-config-value`. Default: none. */
  dynamicConfig: string[];
  /** Threads parked and approved `concurrency` at a time, for Airlock and for the bare workflow: throughput and CPU per thread. */
  throughput: number;
  /** Messages of the long-thread phase (two model turns each). */
  growthMessages: number;
  /** The dev server's SQLite `synchronous` setting (Airlock's default: NORMAL). */
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** `--crash`: run the crash matrix (bench/crash/) instead of the phases above. */
  crash: boolean;
  /** Crash matrix: threads in all, spread over the rounds and the five kill points. */
  crashThreads: number;
  /** Crash matrix: rounds, each ending with its worker SIGKILLed. */
  crashRounds: number;
}

const FLAGS = {
  warmup: { flag: 'warmup', env: 'BENCH_WARMUP', default: 20, min: 0 },
  roundTrips: { flag: 'round-trips', env: 'BENCH_ROUND_TRIPS', default: 200, min: 1 },
  parked: { flag: 'parked', env: 'BENCH_PARKED', default: 10000, min: 2 },
  coldApprovals: { flag: 'cold-approvals', env: 'BENCH_COLD_APPROVALS', default: 200, min: 1 },
  concurrency: { flag: 'concurrency', env: 'BENCH_CONCURRENCY', default: 100, min: 1 },
  maxCachedWorkflows: { flag: 'max-cached-workflows', env: 'BENCH_MAX_CACHED_WORKFLOWS', default: 250, min: 2 },
  throughput: { flag: 'throughput', env: 'BENCH_THROUGHPUT', default: 1000, min: 1 },
  growthMessages: { flag: 'growth-messages', env: 'BENCH_GROWTH_MESSAGES', default: 100, min: 0 },
  crashThreads: { flag: 'crash-threads', env: 'BENCH_CRASH_THREADS', default: 500, min: 5 },
  crashRounds: { flag: 'crash-rounds', env: 'BENCH_CRASH_ROUNDS', default: 5, min: 1 },
} as const;

export const USAGE = [
  'Usage: npm run bench -- [flags]',
  ...Object.values(FLAGS).map((spec) => `  --${spec.flag}=N`.padEnd(36) + `(env ${spec.env}, default ${spec.default})`),
  `${'  --dynamic-config=KEY=VALUE'.padEnd(36)}(repeatable) a dev server dynamic config value,`,
  `${''.padEnd(36)}e.g. history.transferProcessorMaxPollRPS=1000`,
  `${'  --sqlite-synchronous=NORMAL|FULL'.padEnd(36)}the dev server's SQLite synchronous setting (default NORMAL)`,
  `${'  --crash'.padEnd(36)}run the crash matrix instead (worker and server kills; --crash-threads, --crash-rounds)`,
].join('\n');

/** A flag the bench cannot use; the message says which. */
export class UsageError extends Error {}

/**
 * Parses flags; returns `undefined` when `--help` was asked for.
 * @throws UsageError on an unknown flag or a bad value
 */
export function parseOptions(argv: string[]): BenchOptions | undefined {
  let args;
  try {
    args = parseArgs(argv, { options: [...Object.values(FLAGS).map((spec) => spec.flag), 'sqlite-synchronous'], switches: ['crash'], lists: ['dynamic-config'] });
  } catch (err) {
    throw new UsageError(err instanceof ArgsError ? err.message : String(err));
  }
  if (args.switches.has('help')) return undefined;
  if (args.positionals.length) throw new UsageError('The bench takes only --flags; see --help');
  const dynamicConfig = args.lists['dynamic-config'] ?? [];
  const malformed = dynamicConfig.findIndex((pair) => !/^[\w.]+=\S+$/.test(pair));
  if (malformed >= 0) throw new UsageError(`--dynamic-config takes KEY=VALUE (a dotted name, '=', a value without spaces); value ${malformed + 1} of ${dynamicConfig.length} is not`);
  const read = (key: keyof typeof FLAGS): number => {
    const spec = FLAGS[key];
    const raw = args.options[spec.flag] ?? process.env[spec.env];
    if (raw === undefined) return spec.default;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < spec.min) throw new UsageError(`--${spec.flag} (or ${spec.env}) must be a whole number ≥ ${spec.min}`);
    return value;
  };
  return {
    warmup: read('warmup'),
    roundTrips: read('roundTrips'),
    parked: read('parked'),
    coldApprovals: read('coldApprovals'),
    concurrency: read('concurrency'),
    maxCachedWorkflows: read('maxCachedWorkflows'),
    dynamicConfig,
    throughput: read('throughput'),
    growthMessages: read('growthMessages'),
    sqliteSynchronous: readSynchronous(args.options['sqlite-synchronous']),
    crash: args.switches.has('crash'),
    crashThreads: read('crashThreads'),
    crashRounds: read('crashRounds'),
  };
}

function readSynchronous(raw: string | undefined): BenchOptions['sqliteSynchronous'] {
  if (raw === undefined) return 'NORMAL';
  const value = raw.toUpperCase();
  if (value !== 'NORMAL' && value !== 'FULL') throw new UsageError('--sqlite-synchronous must be NORMAL or FULL');
  return value;
}
