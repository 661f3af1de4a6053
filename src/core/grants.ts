/**
 * Grant patterns and call digests: pure and deterministic, used by the workflow (which decides
 * whether a grant covers a call), the tool activity (which checks it again) and the clients.
 */
import { argsDigest } from './decision-signing';
import { toMilliseconds } from './duration';
import type { GrantRequest, HitlPolicy } from './types';

/** The most patterns one grant may hold, and the longest pattern. */
export const GRANT_LIMITS = {
  patterns: 16,
  patternChars: 500,
  /** The longest a grant may last: 3650 days. A grant without a time to live lasts until revoked. */
  maxTtlMs: 3_650 * 86_400_000,
} as const;

/**
 * A grant's time to live in milliseconds: `undefined` without one, `NaN` for one that is not a
 * positive duration (`'15m'`-style text, one number and one unit, or milliseconds).
 */
export function grantTtlMs(ttl: unknown): number | undefined {
  if (ttl === undefined) return undefined;
  if (typeof ttl !== 'number' && !(typeof ttl === 'string' && /^\d+(ms|s|m|h|d)$/.test(ttl))) return NaN;
  try {
    return toMilliseconds(ttl);
  } catch {
    return NaN; // zero, or a number that is not finite and positive
  }
}

/**
 * Why a well-formed grant lasts too long to be issued (over `GRANT_LIMITS.maxTtlMs`), or
 * `undefined`. The doors (the HTTP API, the CLI, the `decide` Update's validator) check it besides
 * `checkGrantShape`; a thread applies it to the decisions that reach it from this release on, so
 * that histories recorded before it replay as they ran (see `agent-thread.ts`).
 */
export function checkGrantTtl(grant: unknown): string | undefined {
  const ttl = typeof grant === 'object' && grant !== null ? (grant as { ttl?: unknown }).ttl : undefined;
  const ms = grantTtlMs(ttl);
  return ms !== undefined && ms > GRANT_LIMITS.maxTtlMs ? 'grant.ttl may be at most 3650d; without one, a grant lasts until revoked (or for the policy\'s maxTtl)' : undefined;
}

/**
 * The digest of a call as an approver sees it: the tool, its arguments and the policy that
 * applies. It changes whenever the call does, so a decision made on an older view is refused.
 */
export function callDigest(toolName: string, args: unknown, policy: HitlPolicy): string {
  return argsDigest({ tool: toolName, args, policy });
}

/** Why a pattern is not acceptable, or `undefined`. */
export function checkGrantPattern(pattern: unknown): string | undefined {
  if (typeof pattern !== 'string' || pattern === '' || pattern.length > GRANT_LIMITS.patternChars) {
    return `a pattern must be 1-${GRANT_LIMITS.patternChars} characters`;
  }
  if (/[\u0000-\u001f\u007f]/.test(pattern)) return 'a pattern may not hold control characters';
  if (pattern.replace(/\*/g, '') === '') return 'a pattern must hold more than wildcards (a grant never covers every value)';
  return undefined;
}

/** Why a grant request is not well formed, or `undefined`. */
export function checkGrantShape(grant: unknown): string | undefined {
  if (typeof grant !== 'object' || grant === null || Array.isArray(grant)) return 'grant must be { match, ttl? }';
  const { match, ttl, ...rest } = grant as Record<string, unknown>;
  if (Object.keys(rest).length > 0) return 'grant has only match and ttl';
  if (typeof match !== 'object' || match === null || Array.isArray(match)) return 'grant.match must map argument names to patterns';
  const entries = Object.entries(match);
  if (entries.length === 0 || entries.length > GRANT_LIMITS.patterns) return `grant.match must hold 1-${GRANT_LIMITS.patterns} patterns`;
  for (const [key, pattern] of entries) {
    if (!/^[A-Za-z0-9_.-]{1,64}$/.test(key)) return 'grant.match keys must be argument names (letters, digits, _ . -)';
    const problem = checkGrantPattern(pattern);
    if (problem) return `grant.match: ${problem}`;
  }
  // A zero duration ('0s') is no time to live at all: refused like any other malformed one.
  if (Number.isNaN(grantTtlMs(ttl))) return "grant.ttl must be a duration such as '30m' or milliseconds";
  return undefined;
}

const STAR = -1;
const GLOBSTAR = -2;

/**
 * A pattern as tokens: a character code, `STAR` (one `*`: any run of characters without `/`) or
 * `GLOBSTAR` (a run of two or more: any run at all; `***` means no more than `**`). So no two
 * wildcard tokens are ever next to each other.
 */
function patternTokens(pattern: string): number[] {
  const tokens: number[] = [];
  for (let i = 0; i < pattern.length; ) {
    if (pattern[i] !== '*') {
      tokens.push(pattern.charCodeAt(i++));
      continue;
    }
    const from = i;
    while (pattern[i] === '*') i++;
    tokens.push(i - from === 1 ? STAR : GLOBSTAR);
  }
  return tokens;
}

/**
 * Whether the whole value matches the pattern, in time linear in the value: the set of pattern
 * positions reachable so far is a bit set, advanced one character at a time (a backtracking
 * regular expression takes exponential time on patterns such as `*a*a*a*a*b`, and a grant's
 * patterns come from a decision while the values come from the model). Character codes are
 * UTF-16 code units, as in every other limit.
 */
function globMatches(pattern: string, value: string): boolean {
  const tokens = patternTokens(pattern);
  const words = (tokens.length >> 5) + 1; // bits 0..tokens.length: "the first i tokens matched"
  const literal = new Map<number, Uint32Array>();
  const star = new Uint32Array(words);
  const wildcard = new Uint32Array(words);
  tokens.forEach((token, i) => {
    const bit = 1 << (i & 31);
    if (token < 0) {
      wildcard[i >> 5] |= bit;
      if (token === STAR) star[i >> 5] |= bit;
      return;
    }
    let mask = literal.get(token);
    if (!mask) literal.set(token, (mask = new Uint32Array(words)));
    mask[i >> 5] |= bit;
  });
  // A wildcard may match nothing: each reached wildcard reaches the position after it too.
  const skipWildcards = (reached: Uint32Array) => {
    let carry = 0;
    for (let w = 0; w < words; w++) {
      const at = reached[w] & wildcard[w];
      reached[w] |= (at << 1) | carry;
      carry = at >>> 31;
    }
  };
  let reached = new Uint32Array(words);
  let next = new Uint32Array(words);
  reached[0] = 1;
  skipWildcards(reached);
  for (let k = 0; k < value.length; k++) {
    const code = value.charCodeAt(k);
    const mask = literal.get(code);
    let carry = 0;
    let any = 0;
    for (let w = 0; w < words; w++) {
      const advanced = mask ? reached[w] & mask[w] : 0;
      // A wildcard consumes the character and stays; a `/` only a `**`.
      const stays = reached[w] & (code === 47 ? wildcard[w] & ~star[w] : wildcard[w]);
      next[w] = (advanced << 1) | carry | stays;
      carry = advanced >>> 31;
      any |= next[w];
    }
    if (any === 0) return false;
    skipWildcards(next);
    [reached, next] = [next, reached];
  }
  const end = tokens.length;
  return (reached[end >> 5] & (1 << (end & 31))) !== 0;
}

/** Whether one value matches a pattern: strings only, and never one with a `.` or `..` path segment. */
export function matchesPattern(pattern: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.split(/[\\/]/).some((segment) => segment === '..' || segment === '.')) return false;
  return globMatches(pattern, value);
}

/** Whether every pattern of a grant matches its argument. */
export function grantMatches(grant: Pick<GrantRequest, 'match'>, args: unknown): boolean {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return false;
  const record = args as Record<string, unknown>;
  return Object.entries(grant.match).every(([key, pattern]) => Object.prototype.hasOwnProperty.call(record, key) && matchesPattern(pattern, record[key]));
}
