// One pending approval as a card with Approve / Reject. Every piece of data goes in as text
// (textContent, attributes), never as markup: tool arguments are shown exactly and run nothing.
// Approve becomes usable only once the arguments, shown in full, have all been in view.
import { readableJson, showText, sortedJson, watchUntilSeen } from './args-view.js';

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
  showWhy(find, approval);
  if (approval.agent) {
    find('.agent-fact').hidden = false;
    find('.agent').textContent = approval.agent;
  }
  if (approval.approvers?.length) {
    find('.approvers-fact').hidden = false;
    find('.approvers').textContent = approval.approvers.join(', ');
  }
}

/** Why the call exists: the user's message, the agent's words, the policy's note; and the high-risk marker. */
function showWhy(find, approval) {
  const parts = [
    ['.user-said', '.user-message', approval.context?.userMessage],
    ['.agent-said', '.agent-text', approval.context?.agentText],
    ['.policy-said', '.note', approval.policyNote],
  ];
  for (const [part, text, value] of parts) {
    find(part).hidden = !value;
    if (value) showText(find(text), value);
  }
  if (!parts.some(([, , value]) => value)) find('.why').remove();
  find('.risk').hidden = !approval.confirm;
  if (approval.confirm) find('article').classList.add('high-risk');
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
  const text = readableJson(approval.args);
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
 * which can be rejected here but approved only on the thread page; `context` and `confirm` from
 * this version on). `me` is the signed-in approver; `onDecide(approval, action, reason, card)`
 * sends the decision. A `confirm` approval is sent only from the confirmation step's "Yes, run
 * <tool>" button, never from Approve itself (nor from a keyboard shortcut, which clicks Approve).
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
  const confirmStep = find('.confirm-step');
  const confirmYes = find('.confirm-yes');
  confirmStep.id = `${titleId}-confirm`;
  confirmStep.setAttribute('aria-label', `Confirm running ${approval.toolName}`);
  if (approval.confirm) approve.setAttribute('aria-controls', confirmStep.id);
  find('.confirm-text').textContent = `${approval.toolName} is marked high-risk: it may not be undone. Run it with the arguments above?`;
  confirmYes.textContent = `Yes, run ${approval.toolName}`;
  const closeConfirm = () => {
    confirmStep.hidden = true;
    approve.removeAttribute('aria-expanded');
  };
  approve.addEventListener('click', () => {
    if (approveBlocker) find('.args').focus();
    else if (!approval.confirm) void send('accept');
    else if (confirmStep.hidden) {
      // A second, separate step: focus goes to the step itself, not to its button, so a repeated key or click does not confirm.
      confirmStep.hidden = false;
      approve.setAttribute('aria-expanded', 'true');
      confirmStep.focus();
    }
  });
  confirmYes.addEventListener('click', () => {
    if (approveBlocker || sending || !allowed) return;
    closeConfirm();
    void send('accept');
  });
  find('.confirm-cancel').addEventListener('click', () => {
    closeConfirm();
    approve.focus();
  });
  confirmStep.addEventListener('keydown', (event) => {
    if (event.key === 'Escape') find('.confirm-cancel').click();
  });
  reject.addEventListener('click', () => {
    closeConfirm();
    void send('reject');
  });

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
