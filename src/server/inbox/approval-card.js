// One pending approval as a card with Approve / Reject. Every piece of data goes in as text
// (textContent, attributes), never as markup: tool arguments are shown exactly and run nothing.
// Approve becomes usable only once the arguments, shown in full, have all been in view.
import { showText, sortedJson, watchUntilSeen } from './args-view.js';

let cardCount = 0;

/** `45s`, `3m`, `2h 5m`, `4d 1h`. */
function formatDuration(ms) {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h ${m % 60}m`;
  return `${Math.floor(h / 24)}d ${h % 24}h`;
}

/** The text of an older version's preview: sorted when it is complete JSON, else as given. */
function previewText(preview = '') {
  try {
    return sortedJson(JSON.parse(preview));
  } catch {
    return preview;
  }
}

/** Arguments this tab has shown in full, by thread, interrupt and text: a card drawn again for them opens at once. */
const seenArguments = new Set();

const threadHref = (threadId) => `#/threads/${encodeURIComponent(threadId)}`;

/** The card's heading and facts. */
function showFacts(find, approval, titleId) {
  find('article').setAttribute('aria-labelledby', titleId);
  find('.card-title').id = titleId;
  find('.tool').textContent = approval.toolName;
  find('.thread-link').textContent = approval.threadId;
  find('.thread-link').href = threadHref(approval.threadId);
  find('.interrupt').textContent = approval.id;
  const note = find('.note');
  if (approval.policyNote) note.textContent = approval.policyNote;
  else note.remove();
  if (approval.agent) {
    find('.agent-fact').hidden = false;
    find('.agent').textContent = approval.agent;
  }
  if (approval.approvers?.length) {
    find('.approvers-fact').hidden = false;
    find('.approvers').textContent = approval.approvers.join(', ');
  }
}

/**
 * Shows the arguments and returns the element saying what Approve waits for, or null when it waits
 * for nothing: full arguments wait until all of them have been in view (then `onSeen`), an older
 * version's preview waits for ever (approve on the thread page).
 */
function showArguments(find, approval, { titleId, showHint, onSeen }) {
  const box = find('.args');
  if (!Object.hasOwn(approval, 'args')) {
    showText(box, previewText(approval.argsPreview));
    box.classList.add('shortened');
    box.setAttribute('aria-label', `Arguments of ${approval.toolName}, shortened`);
    find('.full-link').href = threadHref(approval.threadId);
    const shortened = find('.truncated');
    shortened.id = `${titleId}-shortened`;
    shortened.hidden = false;
    return shortened;
  }
  const text = sortedJson(approval.args);
  showText(box, text);
  box.setAttribute('aria-label', `Arguments of ${approval.toolName}`);
  const seenKey = [approval.threadId, approval.id, text].join('\u0000');
  if (seenArguments.has(seenKey)) return null;
  const hint = find('.args-gate');
  hint.id = `${titleId}-gate`;
  watchUntilSeen(box, find('.show-all'), {
    onOverflow: () => (hint.hidden = !showHint),
    onSeen: () => {
      seenArguments.add(seenKey);
      hint.hidden = true;
      onSeen();
    },
  });
  return hint;
}

/**
 * Builds a card for `approval` (a PendingApproval: threadId, agent, id, toolName, args, argsDigest,
 * policyNote, createdAt, deadline, approvers; from older versions `argsPreview` instead of `args`,
 * which can be rejected here but approved only on the thread page). `me` is the signed-in approver;
 * `onDecide(approval, action, reason, card)` sends the decision.
 */
export function createApprovalCard(approval, { me, onDecide }) {
  const card = document.getElementById('approval-card').content.firstElementChild.cloneNode(true);
  const find = (selector) => card.querySelector(selector);
  const titleId = `approval-${++cardCount}`;
  card.dataset.threadId = approval.threadId;
  card.dataset.interruptId = approval.id;
  card.dataset.createdAt = approval.createdAt;
  if (approval.deadline) card.dataset.deadline = approval.deadline;
  showFacts(find, approval, titleId);

  const allowed = !approval.approvers?.length || approval.approvers.includes(me);
  const form = find('form');
  const result = find('.result');
  const approve = find('button.approve');
  const reject = find('button.reject');
  let sending = false;
  let approveBlocker = null;
  const refresh = () => {
    approve.disabled = reject.disabled = sending || !allowed;
    // aria-disabled rather than disabled: the button stays focusable and its description says what it waits for.
    if (approveBlocker) approve.setAttribute('aria-disabled', 'true');
    else approve.removeAttribute('aria-disabled');
    approve.setAttribute('aria-describedby', approveBlocker ? `${titleId} ${approveBlocker.id}` : titleId);
  };
  approveBlocker = showArguments(find, approval, {
    titleId,
    showHint: allowed,
    onSeen: () => {
      approveBlocker = null;
      refresh();
    },
  });
  reject.setAttribute('aria-describedby', titleId);
  if (!allowed) result.textContent = `Only ${approval.approvers.join(', ')} may decide this.`;
  refresh();

  // Buttons, not submit: Enter in the reason field must not approve anything.
  form.addEventListener('submit', (event) => event.preventDefault());
  const send = async (action) => {
    sending = true;
    refresh();
    card.setAttribute('aria-busy', 'true');
    result.className = 'result';
    result.textContent = action === 'accept' ? 'Approving…' : 'Rejecting…';
    try {
      await onDecide(approval, action, form.elements.reason.value.trim(), card);
    } catch (err) {
      result.className = 'result error';
      result.textContent = describeError(err);
      sending = false;
      refresh();
    } finally {
      card.removeAttribute('aria-busy');
    }
  };
  approve.addEventListener('click', () => {
    if (approveBlocker) find('.args').focus();
    else void send('accept');
  });
  reject.addEventListener('click', () => void send('reject'));

  updateCardTimes(card, Date.now());
  return card;
}

function describeError(err) {
  return err.label ? `${err.label}: ${err.message}` : `Could not send the decision: ${err.message}`;
}

/** Refreshes the card's "waiting" and "time left". */
export function updateCardTimes(card, now) {
  const { createdAt, deadline } = card.dataset;
  card.querySelector('.age').textContent = formatDuration(now - Date.parse(createdAt));
  const left = card.querySelector('.left');
  if (!deadline) left.textContent = 'no deadline';
  else if (Date.parse(deadline) <= now) left.textContent = 'deadline passed';
  else left.textContent = formatDuration(Date.parse(deadline) - now);
  left.title = deadline ?? '';
}
