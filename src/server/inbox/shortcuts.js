// Keyboard shortcuts on the pending list: j / k select the next / previous card, a approves, r
// rejects and e opens the edit form of the selected one by clicking its buttons, so the same rules
// hold as for a mouse (Approve waits until the arguments were seen; a high-risk tool still asks for
// its confirmation click; a decision the policy does not offer has no button, and no key).
// Nothing fires while typing in a field or with a modifier key held.

const TYPING = new Set(['INPUT', 'TEXTAREA', 'SELECT']);

function isTyping(target) {
  return target instanceof HTMLElement && (TYPING.has(target.tagName) || target.isContentEditable);
}

/**
 * Listens for the shortcuts while `isActive()` holds. `cards()` gives the visible cards in order.
 */
export function installShortcuts({ isActive, cards }) {
  let selected;
  const select = (card) => {
    for (const other of document.querySelectorAll('.card.selected')) other.classList.remove('selected');
    selected = card;
    if (!card) return;
    card.classList.add('selected');
    const article = card.querySelector('article');
    article.tabIndex = -1;
    article.focus();
    card.scrollIntoView({ block: 'nearest' });
  };
  const current = (list) => {
    if (selected && list.includes(selected)) return selected;
    // Otherwise the card holding the focus, if any.
    return list.find((card) => card.contains(document.activeElement));
  };
  document.addEventListener('keydown', (event) => {
    if (!isActive() || event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || isTyping(event.target)) return;
    const list = cards();
    if (list.length === 0) return;
    const card = current(list);
    const index = card ? list.indexOf(card) : -1;
    switch (event.key) {
      case 'j':
        select(list[Math.min(index + 1, list.length - 1)]);
        break;
      case 'k':
        select(list[Math.max(index - 1, 0)]);
        break;
      case 'a':
      case 'r':
      case 'e': {
        const button = card?.querySelector({ a: 'button.approve', r: 'button.reject', e: 'button.edit-open' }[event.key]);
        if (!button) return;
        button.click();
        break;
      }
      default:
        return;
    }
    event.preventDefault();
  });
}
