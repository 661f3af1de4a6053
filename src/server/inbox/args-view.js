// A tool call's arguments as an approver reads them: pretty JSON with sorted keys, characters that
// hide or reorder text shown as visible markers, and a watch that tells when all of it has been in view.

/** Pretty JSON (two-space indent) with keys sorted at every depth, as the CLI shows arguments. */
export function sortedJson(value) {
  return JSON.stringify(sortKeys(value), null, 2) ?? 'null';
}

/**
 * `sortedJson` with the line breaks inside strings shown as line breaks rather than `\n`, so text
 * reads as written. A backslash in a string stays escaped (`\\`), so a real line break and the two
 * characters `\` `n` still look different.
 */
export function readableJson(value) {
  return sortedJson(value).replace(/\\(\\|n)/g, (escape, char) => (char === 'n' ? '\n' : escape));
}

function sortKeys(value) {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.keys(value)
      .sort()
      .map((key) => [key, sortKeys(value[key])]),
  );
}

// Controls other than the newline, the soft hyphen, bidi marks, embeddings, overrides and isolates,
// zero-width and other invisible characters, line and paragraph separators, Hangul fillers and
// Unicode tags: each can make the text read otherwise than what the tool receives.
const HIDDEN = /[\u0000-\u0009\u000B-\u001F\u007F-\u009F\u00AD\u061C\u115F\u1160\u180E\u200B-\u200F\u2028-\u202E\u2060-\u2064\u2066-\u2069\u3164\uFEFF\uFFA0\u{E0000}-\u{E007F}]/gu;

/** `\u{202E}` for U+202E. */
const markerOf = (char) => `\\u{${char.codePointAt(0).toString(16).toUpperCase().padStart(4, '0')}}`;

function hiddenCharMark(char) {
  const mark = document.createElement('span');
  mark.className = 'invisible-char';
  mark.textContent = markerOf(char);
  mark.title = 'An invisible or direction-changing character';
  return mark;
}

/** Puts `text` into `element` as text, each hidden character replaced by a visible `\u{XXXX}` marker. */
export function showText(element, text) {
  const parts = [];
  let from = 0;
  for (const match of text.matchAll(HIDDEN)) {
    parts.push(text.slice(from, match.index), hiddenCharMark(match[0]));
    from = match.index + match[0].length;
  }
  parts.push(text.slice(from));
  element.replaceChildren(...parts.filter((part) => part !== ''));
}

const TOLERANCE_PX = 2;

/** True when nothing below or to the right of the box's view is left unseen. */
function scrolledToEnd(box) {
  return box.scrollTop + box.clientHeight >= box.scrollHeight - TOLERANCE_PX && box.scrollLeft + box.clientWidth >= box.scrollWidth - TOLERANCE_PX;
}

/**
 * Calls `onSeen` once the whole of the scrollable `box` has been in view: as soon as it is laid out
 * when it fits, else when it has been scrolled to its end or expanded with the `showAll` button.
 * `onOverflow` is called (maybe more than once) while it does not fit and has not been seen.
 */
export function watchUntilSeen(box, showAll, { onOverflow, onSeen }) {
  let seen = false;
  const finish = () => {
    seen = true;
    observer.disconnect();
    box.removeEventListener('scroll', check);
    onSeen();
  };
  function check() {
    // A box in a hidden view has no layout yet: the observer calls again once it is shown.
    if (seen || box.getClientRects().length === 0) return;
    if (scrolledToEnd(box)) finish();
    else onOverflow();
  }
  const observer = new ResizeObserver(check);
  observer.observe(box);
  box.addEventListener('scroll', check, { passive: true });
  showAll.addEventListener('click', () => {
    box.classList.add('expanded');
    if (!seen) finish();
    box.focus();
  });
}
