import { parseOptions, UsageError } from '../../bench/options';

/** The message `parseOptions` refuses `argv` with. */
function refusal(argv: string[]): string {
  try {
    parseOptions(argv);
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return (err as Error).message;
  }
  throw new Error(`parseOptions accepted ${argv.length} arguments`);
}

const HOSTILE = '<script>alert(1)</script>';

describe('bench flags', () => {
  it('reads well-formed flags', () => {
    const options = parseOptions(['--round-trips=30', '--parked', '40', '--dynamic-config=history.x=5', '--dynamic-config', 'frontend.y=true', '--sqlite-synchronous=full'])!;
    expect(options.roundTrips).toBe(30);
    expect(options.parked).toBe(40);
    expect(options.dynamicConfig).toEqual(['history.x=5', 'frontend.y=true']);
    expect(options.sqliteSynchronous).toBe('FULL');
  });

  it('refuses bad values without repeating them', () => {
    const cases: Array<[string[], RegExp]> = [
      [[HOSTILE], /takes only --flags/],
      [['--dynamic-config=a.b=1', `--dynamic-config=${HOSTILE}`], /value 2 of 2 is not/],
      [[`--round-trips=${HOSTILE}`], /--round-trips \(or BENCH_ROUND_TRIPS\) must be a whole number ≥ 1/],
      [['--parked=1'], /--parked .* ≥ 2/],
      [[`--sqlite-synchronous=${HOSTILE}`], /must be NORMAL or FULL$/],
    ];
    for (const [argv, expected] of cases) {
      const message = refusal(argv);
      expect(message).toMatch(expected);
      expect(message).not.toContain('<');
    }
  });
});
