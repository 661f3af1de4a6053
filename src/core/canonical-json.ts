/**
 * One text for a JSON value, whatever the key order it arrived in: object keys sorted by code
 * unit, no spaces. What approvers see, what digests and signatures cover, and what the tool
 * receives all start from this one form. Pure: used inside the workflow too.
 */

/** JSON with object keys sorted at every depth; `undefined` members are left out, as JSON does. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value)) ?? 'null';
}

/** Pretty-printed JSON (two-space indent) with keys sorted at every depth: for people to read. */
export function prettyCanonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2) ?? 'null';
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  const sorted: Record<string, unknown> = {};
  for (const key of Object.keys(value).sort()) {
    const member = (value as Record<string, unknown>)[key];
    if (member !== undefined) Object.defineProperty(sorted, key, { value: sortKeys(member), enumerable: true, writable: true, configurable: true });
  }
  return sorted;
}
