// One pending approval as a card with Approve / Reject. Every piece of data goes in as text
// (textContent, attributes), never as markup: tool arguments are shown exactly and run nothing.

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

/** Pretty-printed JSON of the arguments; the text as given when it is not complete JSON (a shortened preview). */
function prettyArgs(json) {
  try {
    return { text: JSON.stringify(JSON.parse(json), null, 2), complete: true };
  } catch {
    return { text: json, complete: false };
  }
}

const threadHref = (threadId) => `#/threads/${encodeURIComponent(threadId)}`;

/**
 * Builds a card for `approval` (a PendingApproval: threadId, agent, id, toolName, argsPreview,
 * policyNote, createdAt, deadline, approvers). `me` is the signed-in approver; `onDecide(approval, action,
 * reason, card)` sends the decision.
 */
export function createApprovalCard(approval, { me, onDecide }) {
  const card = document.getElementById('approval-card').content.firstElementChild.cloneNode(true);
  const find = (selector) => card.querySelector(selector);
  const titleId = `approval-${++cardCount}`;
  card.dataset.threadId = approval.threadId;
  card.dataset.interruptId = approval.id;
  card.dataset.createdAt = approval.createdAt;
  if (approval.deadline) card.dataset.deadline = approval.deadline;

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

  const args = prettyArgs(approval.argsPreview);
  const pre = find('.args');
  pre.textContent = args.text;
  pre.setAttribute('aria-label', `Arguments of ${approval.toolName}`);
  if (!args.complete) {
    find('.truncated').hidden = false;
    find('.full-link').href = threadHref(approval.threadId);
  }

  const form = find('form');
  const result = find('.result');
  const buttons = [...form.querySelectorAll('button')];
  for (const button of buttons) button.setAttribute('aria-describedby', titleId);
  if (approval.approvers?.length && !approval.approvers.includes(me)) {
    result.textContent = `Only ${approval.approvers.join(', ')} may decide this.`;
    for (const button of buttons) button.disabled = true;
  }
  // Buttons, not submit: Enter in the reason field must not approve anything.
  form.addEventListener('submit', (event) => event.preventDefault());
  const send = async (action) => {
    for (const button of buttons) button.disabled = true;
    card.setAttribute('aria-busy', 'true');
    result.className = 'result';
    result.textContent = action === 'accept' ? 'Approving…' : 'Rejecting…';
    try {
      await onDecide(approval, action, form.elements.reason.value.trim(), card);
    } catch (err) {
      result.className = 'result error';
      result.textContent = describeError(err);
      for (const button of buttons) button.disabled = false;
    } finally {
      card.removeAttribute('aria-busy');
    }
  };
  for (const button of buttons) button.addEventListener('click', () => void send(button.value));

  updateCardTimes(card, Date.now());
  return card;
}

const REFUSALS = {
  InterruptAlreadyDecided: 'Already decided',
  InterruptTimedOut: 'Timed out',
  InterruptNotFound: 'Not found',
  ThreadNotFound: 'Not found',
  ThreadEnded: 'Thread ended',
  DecisionNotAllowed: 'Not allowed',
  WorkerUnavailable: 'No worker',
};

function describeError(err) {
  const label = REFUSALS[err.type];
  return label ? `${label}: ${err.message}` : `Could not send the decision: ${err.message}`;
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
