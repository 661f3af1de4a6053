/**
 * Text that others wrote (models, tools, agents' callers, approvers), made safe to print in a
 * terminal: nothing in it can hide, move or rewrite what the reader sees.
 */

/** Options of {@link terminalSafe}. */
export interface TerminalSafeOptions {
  /** Keep `\n` as a line break (multi-line messages). Default `false`: shown as the two characters `\n`. */
  keepNewlines?: boolean;
}

/**
 * Characters a terminal does not show as themselves: controls (C0, DEL, C1), formatting
 * characters (bidi overrides, isolates and marks, zero-width space and joiners, soft hyphen, word
 * joiner, BOM, tag characters), line and paragraph separators, lone surrogates, and the other
 * default-ignorable code points (Hangul fillers, combining grapheme joiner, …).
 */
const HIDDEN = /^[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}]$/u;
/** U+FE00–U+FE0F: picks the emoji or text presentation of the character before it. */
const VARIATION_SELECTOR = /^[\uFE00-\uFE0F]$/u;
/** A character a variation selector may follow: letters, digits, punctuation, symbols (emoji). */
const VISIBLE_BASE = /^[\p{L}\p{N}\p{P}\p{S}]$/u;

/**
 * The text with every character a terminal would not show as itself written out visibly as
 * `\u{<hex code point>}` (lowercase, no padding): ESC is `\u{1b}`, CR `\u{d}`, backspace
 * `\u{8}`, tab `\u{9}`, U+202E (right-to-left override) `\u{202e}`, a lone surrogate `\u{d800}`.
 * A newline is kept when `keepNewlines` is set, else shown as `\n`.
 *
 * Escaped: C0 and C1 controls and DEL (Unicode category Cc), formatting characters (Cf: bidi
 * embeddings, overrides, isolates and marks, zero-width space, joiners, word joiner, BOM, soft
 * hyphen, U+180E, tag characters), line and paragraph separators, lone surrogates, and the other
 * default-ignorable code points. A variation selector (U+FE00–U+FE0F) is kept directly after a
 * visible character, where it picks an emoji's presentation (`❤️`); on its own or in a run it is
 * escaped. Emoji joined by U+200D (`👨‍👩‍👧`) are therefore shown as their parts with `\u{200d}`
 * between them.
 *
 * Everything else (accents, emoji, CJK, Arabic and Hebrew letters, spaces, backslashes) passes
 * unchanged. For display only: the result is not meant to be parsed back, and a backslash already
 * in the text is not doubled.
 */
export function terminalSafe(text: string, options: TerminalSafeOptions = {}): string {
  let shown = '';
  let previous = '';
  for (const char of text) {
    shown += showCharacter(char, previous, options.keepNewlines === true);
    previous = char;
  }
  return shown;
}

function showCharacter(char: string, previous: string, keepNewlines: boolean): string {
  if (char === '\n') return keepNewlines ? '\n' : '\\n';
  if (VARIATION_SELECTOR.test(char)) return isPresentationSelector(previous) ? char : escapeCodePoint(char);
  return HIDDEN.test(char) ? escapeCodePoint(char) : char;
}

function isPresentationSelector(previous: string): boolean {
  return VISIBLE_BASE.test(previous) && !HIDDEN.test(previous);
}

function escapeCodePoint(char: string): string {
  return `\\u{${char.codePointAt(0)!.toString(16)}}`;
}
