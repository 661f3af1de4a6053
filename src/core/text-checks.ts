/**
 * Checks for text that crosses a door (a message, a decision, an HTTP body, a CLI argument).
 * Pure: used inside the workflow too. Nothing here echoes the checked text back.
 */

/** A lone UTF-16 surrogate: text that cannot be encoded as UTF-8. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
/** C0 and C1 control characters (tab, newline and carriage return included). */
const CONTROL = /[\u0000-\u001F\u007F-\u009F]/;

/** True when the text is valid Unicode (no lone surrogates), so it can be encoded as UTF-8. */
export function isWellFormedText(text: string): boolean {
  return !LONE_SURROGATE.test(text);
}

/** The text with every lone surrogate replaced by U+FFFD: safe to encode as UTF-8. */
export function toWellFormedText(text: string): string {
  return text.replace(new RegExp(LONE_SURROGATE.source, 'g'), '\uFFFD');
}

/** True when the text holds a control character. */
export function hasControlCharacters(text: string): boolean {
  return CONTROL.test(text);
}

/**
 * True when every string in a JSON-like value (keys included) is well formed, the value nests no
 * deeper than `maxDepth`, and it has no more than `maxNodes` nodes in all.
 */
export function isWellFormedValue(value: unknown, maxDepth = 64, maxNodes = 100_000): boolean {
  let nodes = 0;
  const visit = (item: unknown, depth: number): boolean => {
    if (++nodes > maxNodes || depth > maxDepth) return false;
    if (typeof item === 'string') return isWellFormedText(item);
    if (item === null || typeof item !== 'object') return true;
    if (Array.isArray(item)) return item.every((element) => visit(element, depth + 1));
    return Object.entries(item).every(([key, member]) => isWellFormedText(key) && visit(member, depth + 1));
  };
  return visit(value, 0);
}

/**
 * An identifier safe to repeat in a message (thread, interrupt, tool, approver names as people
 * type them); anything else is described, not repeated.
 */
const SAFE_TO_QUOTE = /^[A-Za-z0-9_.:@+-]{1,128}$/;

/** `'<value>'` when the value is a short plain identifier, else a neutral description. Never echoes raw input. */
export function quoteIfSafe(value: unknown, what = 'value'): string {
  return typeof value === 'string' && SAFE_TO_QUOTE.test(value) ? `'${value}'` : `the given ${what}`;
}

/** Whether `name` is a tool name: 1-64 letters, digits, `_` or `-` (also what the search attributes list). */
export function isToolName(name: unknown): name is string {
  return typeof name === 'string' && /^[a-zA-Z0-9_-]{1,64}$/.test(name);
}
