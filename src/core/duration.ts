import type { Duration } from './types';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/**
 * Milliseconds of a duration: a number is taken as milliseconds; a string is one or more
 * `<number><unit>` parts with units ms, s, m, h, d (e.g. `'1h30m'`).
 * @throws Error on anything else, or a duration that is not positive.
 */
export function toMilliseconds(duration: Duration): number {
  if (typeof duration === 'number') {
    if (!Number.isFinite(duration) || duration <= 0) throw new Error(`Invalid duration: ${duration}`);
    return duration;
  }
  const text = duration.trim();
  const part = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/g;
  let total = 0;
  let consumed = 0;
  for (const match of text.matchAll(part)) {
    if (match.index !== consumed) break;
    total += Number(match[1]) * UNITS[match[2]];
    consumed += match[0].length;
  }
  if (consumed === 0 || consumed !== text.length || total <= 0) {
    throw new Error(`Invalid duration: '${duration}' (use e.g. 500ms, 30s, 15m, 1h, 2d)`);
  }
  return total;
}
