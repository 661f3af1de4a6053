/**
 * Grant patterns and call digests: pure and deterministic, used by the workflow (which decides
 * whether a grant covers a call), the tool activity (which checks it again) and the clients.
 */
import { argsDigest } from './decision-signing';
import type { GrantRequest, HitlPolicy } from './types';

/** The most patterns one grant may hold, and the longest pattern. */
export const GRANT_LIMITS = { patterns: 16, patternChars: 500 } as const;

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
  if (ttl !== undefined && !(typeof ttl === 'number' && Number.isFinite(ttl) && ttl > 0) && !(typeof ttl === 'string' && /^\d+(ms|s|m|h|d)$/.test(ttl))) {
    return "grant.ttl must be a duration such as '30m' or milliseconds";
  }
  return undefined;
}

/**
 * Compiled patterns. The module is shared by every thread a worker thread runs (it is preloaded,
 * see `src/worker/create-worker.ts`), so the cache is bounded: past its size the oldest pattern is
 * dropped and compiled again if it comes back. A pattern's regex is a pure function of its text.
 */
const regexCache = new Map<string, RegExp>();
const REGEX_CACHE_SIZE = 256;

function patternRegex(pattern: string): RegExp {
  let cached = regexCache.get(pattern);
  if (cached) return cached;
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const char = pattern[i];
    if (char === '*' && pattern[i + 1] === '*') {
      source += '.*';
      i++;
    } else if (char === '*') source += '[^/]*';
    else source += char.replace(/[\\^$.|?+()[\]{}]/g, '\\$&');
  }
  cached = new RegExp(`^${source}$`, 's');
  if (regexCache.size >= REGEX_CACHE_SIZE) regexCache.delete(regexCache.keys().next().value as string);
  regexCache.set(pattern, cached);
  return cached;
}

/** Whether one value matches a pattern: strings only, and never one with a `.` or `..` path segment. */
export function matchesPattern(pattern: string, value: unknown): boolean {
  if (typeof value !== 'string') return false;
  if (value.split(/[\\/]/).some((segment) => segment === '..' || segment === '.')) return false;
  return patternRegex(pattern).test(value);
}

/** Whether every pattern of a grant matches its argument. */
export function grantMatches(grant: Pick<GrantRequest, 'match'>, args: unknown): boolean {
  if (typeof args !== 'object' || args === null || Array.isArray(args)) return false;
  const record = args as Record<string, unknown>;
  return Object.entries(grant.match).every(([key, pattern]) => Object.prototype.hasOwnProperty.call(record, key) && matchesPattern(pattern, record[key]));
}
