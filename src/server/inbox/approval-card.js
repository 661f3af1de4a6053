// One pending approval as a card with the decisions its policy allows: Approve, Reject, Edit (run
// other arguments), Respond (answer the agent instead of running the tool) and Approve and allow
// similar (a grant). Every piece of data goes in as text (textContent, attributes, form values),
// never as markup: tool arguments are shown exactly and run nothing. Approve (and a grant, which
// approves too) becomes usable only once the arguments, shown in full, have all been in view.
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

/** Why the call exists: the user's message, the agent's words, the policy's note; why the policy asks; and the high-risk marker. */
function showWhy(find, approval) {
  if (approval.askReason) {
    find('.ask-reason').hidden = false;
    showText(find('.ask-reason-text'), approval.askReason);
  }
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

/** When an approver edited the call: who, and the arguments the agent asked for. */
function showEdited(find, approval) {
  if (!approval.editedBy && !Object.hasOwn(approval, 'originalArgs')) return;
  find('.edited').hidden = false;
  find('.edited-by').textContent = approval.editedBy ?? 'an approver';
  const original = find('.original-args');
  showText(original, readableJson(approval.originalArgs));
  original.setAttribute('aria-label', `Arguments the agent asked for ${approval.toolName}`);
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

const ALL_DECISIONS = ['accept', 'reject', 'edit', 'respond'];
const isObject = (value) => typeof value === 'object' && value !== null && !Array.isArray(value);

/**
 * Builds a card for `approval` (a PendingApproval: threadId, agent, id, toolName, args, argsDigest,
 * callDigest, askReason, allowedDecisions, grants, originalArgs, editedBy, policyNote, createdAt,
 * deadline, approvers, context, confirm; from older versions `argsPreview` instead of `args`,
 * which can be rejected here but approved only on the thread page). `me` is the signed-in
 * approver; `onDecide(approval, decision, card)` sends `decision` ({ action, reason?, args?,
 * message?, grant? }) and throws the API's error when it is refused. `note` is shown at the top
 * (e.g. "the call changed since you looked"). A `confirm` approval is sent only from an explicit
 * second step ("Yes, run <tool>", or the edit and grant forms' own buttons), never from Approve
 * itself (nor from a keyboard shortcut, which clicks Approve).
 */
export function createApprovalCard(approval, { me, onDecide, note }) {
  const card = document.getElementById('approval-card').content.firstElementChild.cloneNode(true);
  const find = (selector) => card.querySelector(selector);
  const titleId = `approval-${++cardCount}`;
  card.dataset.threadId = approval.threadId;
  card.dataset.interruptId = approval.id;
  card.dataset.createdAt = approval.createdAt;
  card.dataset.version = approval.callDigest ?? approval.argsDigest ?? '';
  if (approval.deadline) card.dataset.deadline = approval.deadline;
  showFacts(find, approval, titleId);
  showEdited(find, approval);
  if (note) {
    find('.card-note').hidden = false;
    find('.card-note').textContent = note;
  }

  const allowed = !approval.approvers?.length || approval.approvers.includes(me);
  const hasArgs = Object.hasOwn(approval, 'args');
  const offered = approval.allowedDecisions?.length ? approval.allowedDecisions : ALL_DECISIONS;
  // A grant's patterns start from the arguments' text values; without any there is nothing to match.
  const textArgs = hasArgs && isObject(approval.args) ? Object.entries(approval.args).filter(([, value]) => typeof value === 'string') : [];
  const offers = {
    accept: offered.includes('accept'),
    reject: offered.includes('reject'),
    edit: offered.includes('edit') && hasArgs && isObject(approval.args),
    respond: offered.includes('respond'),
    grant: offered.includes('accept') && approval.grants === true && textArgs.length > 0,
  };
  const form = find('form');
  const result = find('.result');
  const buttons = {
    accept: find('button.approve'),
    reject: find('button.reject'),
    edit: find('button.edit-open'),
    respond: find('button.respond-open'),
    grant: find('button.grant-open'),
  };
  const steps = { edit: find('.edit-step'), respond: find('.respond-step'), grant: find('.grant-step') };
  for (const [what, button] of Object.entries(buttons)) {
    if (offers[what]) continue;
    button.remove();
    steps[what]?.remove();
  }
  if (!offers.accept) find('.confirm-step').remove();
  const approve = offers.accept ? buttons.accept : null;
  const sendButtons = [...card.querySelectorAll('.edit-send, .respond-send, .grant-send')];
  let sending = false;
  let approveBlocker = null;
  const refresh = () => {
    for (const button of [...Object.values(buttons), ...sendButtons]) button.disabled = sending || !allowed;
    // aria-disabled rather than disabled: the button stays focusable and its description says what it waits for.
    for (const button of [approve, find('.grant-send')]) {
      if (!button) continue;
      if (approveBlocker) button.setAttribute('aria-disabled', 'true');
      else button.removeAttribute('aria-disabled');
      button.setAttribute('aria-describedby', approveBlocker ? `${titleId} ${approveBlocker.id}` : titleId);
    }
  };
  approveBlocker = showArguments(find, approval, {
    titleId,
    showHint: allowed && (offers.accept || offers.grant),
    onSeen: () => {
      approveBlocker = null;
      refresh();
    },
  });
  for (const what of ['reject', 'edit', 'respond']) if (offers[what]) buttons[what].setAttribute('aria-describedby', titleId);
  if (!allowed) result.textContent = `Only ${approval.approvers.join(', ')} may decide this.`;
  else if (!Object.values(offers).some(Boolean)) result.textContent = 'The policy offers no decision this page can make.';

  // Buttons, not submit: Enter in a field must not decide anything.
  form.addEventListener('submit', (event) => event.preventDefault());
  /** Sends a decision; a refusal is shown in `errorBox` (the open form's, or the card's result line). */
  const send = async (decision, busyText, errorBox = result) => {
    sending = true;
    refresh();
    card.setAttribute('aria-busy', 'true');
    for (const box of card.querySelectorAll('.step-error')) box.textContent = '';
    result.className = 'result';
    result.textContent = busyText;
    const reason = form.elements.reason.value.trim();
    try {
      await onDecide(approval, { ...decision, ...(reason && { reason }) }, card);
    } catch (err) {
      result.textContent = '';
      errorBox.className = errorBox === result ? 'result error' : errorBox.className;
      errorBox.textContent = describeError(err);
      sending = false;
      refresh();
    } finally {
      card.removeAttribute('aria-busy');
    }
  };

  // The forms of the second steps: one open at a time, Escape closes it.
  const confirmStep = card.querySelector('.confirm-step');
  const closeSteps = () => {
    if (confirmStep) confirmStep.hidden = true;
    approve?.removeAttribute('aria-expanded');
    for (const [what, step] of Object.entries(steps)) {
      if (!offers[what]) continue;
      step.hidden = true;
      buttons[what].setAttribute('aria-expanded', 'false');
    }
  };
  const openStep = (what, focus) => {
    const wasOpen = !steps[what].hidden;
    closeSteps();
    if (wasOpen) return buttons[what].focus();
    steps[what].hidden = false;
    buttons[what].setAttribute('aria-expanded', 'true');
    focus.focus();
  };
  for (const [what, step] of Object.entries(steps)) {
    if (!offers[what]) continue;
    step.id = `${titleId}-${what}`;
    buttons[what].setAttribute('aria-controls', step.id);
    step.querySelector('.step-error').id = `${titleId}-${what}-error`;
    step.addEventListener('keydown', (event) => {
      if (event.key !== 'Escape') return;
      event.stopPropagation();
      closeSteps();
      buttons[what].focus();
    });
    step.querySelector('.step-cancel').addEventListener('click', () => {
      closeSteps();
      buttons[what].focus();
    });
  }

  if (approve) {
    const confirmYes = find('.confirm-yes');
    confirmStep.id = `${titleId}-confirm`;
    confirmStep.setAttribute('aria-label', `Confirm running ${approval.toolName}`);
    if (approval.confirm) approve.setAttribute('aria-controls', confirmStep.id);
    find('.confirm-text').textContent = `${approval.toolName} is marked high-risk: it may not be undone. Run it with the arguments above?`;
    confirmYes.textContent = `Yes, run ${approval.toolName}`;
    approve.addEventListener('click', () => {
      if (approveBlocker) find('.args').focus();
      else if (!approval.confirm) void send({ action: 'accept' }, 'Approving…');
      else if (confirmStep.hidden) {
        // A second, separate step: focus goes to the step itself, not to its button, so a repeated key or click does not confirm.
        closeSteps();
        confirmStep.hidden = false;
        approve.setAttribute('aria-expanded', 'true');
        confirmStep.focus();
      }
    });
    confirmYes.addEventListener('click', () => {
      if (approveBlocker || sending || !allowed) return;
      closeSteps();
      void send({ action: 'accept' }, 'Approving…');
    });
    find('.confirm-cancel').addEventListener('click', () => {
      closeSteps();
      approve.focus();
    });
    confirmStep.addEventListener('keydown', (event) => {
      if (event.key === 'Escape') find('.confirm-cancel').click();
    });
  }
  if (offers.reject) {
    buttons.reject.addEventListener('click', () => {
      closeSteps();
      void send({ action: 'reject' }, 'Rejecting…');
    });
  }

  if (offers.edit) setUpEdit(steps.edit, { approval, titleId, open: () => openStep('edit', steps.edit.querySelector('textarea')), openButton: buttons.edit, send });
  if (offers.respond) setUpRespond(steps.respond, { titleId, open: () => openStep('respond', steps.respond.querySelector('textarea')), openButton: buttons.respond, send });
  if (offers.grant) {
    setUpGrant(steps.grant, {
      approval,
      titleId,
      textArgs,
      open: () => openStep('grant', steps.grant.querySelector('input')),
      openButton: buttons.grant,
      send,
      blocked: () => (approveBlocker ? find('.args') : null),
    });
  }
  refresh();

  updateCardTimes(card, Date.now());
  return card;
}

/** The edit form: the current arguments as pretty JSON with sorted keys; sent as an edit once it parses as a JSON object. */
function setUpEdit(step, { approval, titleId, open, openButton, send }) {
  const field = step.querySelector('textarea');
  const error = step.querySelector('.step-error');
  field.id = `${titleId}-edit-args`;
  field.setAttribute('aria-describedby', error.id);
  field.value = sortedJson(approval.args);
  if (approval.confirm) step.querySelector('.edit-send').textContent = `Yes, run ${approval.toolName} with these arguments`;
  openButton.addEventListener('click', open);
  step.querySelector('.edit-send').addEventListener('click', () => {
    let args;
    try {
      args = JSON.parse(field.value);
    } catch (err) {
      error.textContent = `Not valid JSON: ${err.message}`;
      return field.focus();
    }
    if (!isObject(args)) {
      error.textContent = 'The arguments must be a JSON object: { "name": value, … }';
      return field.focus();
    }
    void send({ action: 'edit', args }, 'Sending the edited arguments…', error);
  });
}

/** The respond form: a message the agent reads in place of the tool's result. */
function setUpRespond(step, { titleId, open, openButton, send }) {
  const field = step.querySelector('textarea');
  const error = step.querySelector('.step-error');
  field.id = `${titleId}-respond-message`;
  field.setAttribute('aria-describedby', error.id);
  openButton.addEventListener('click', open);
  step.querySelector('.respond-send').addEventListener('click', () => {
    const message = field.value.trim();
    if (!message) {
      error.textContent = 'Write the response the agent should read.';
      return field.focus();
    }
    void send({ action: 'respond', message }, 'Sending the response…', error);
  });
}

/** The grant form: one `argument = pattern` row per text argument (prefilled with its value), and an optional time to live. */
function setUpGrant(step, { approval, titleId, textArgs, open, openButton, send, blocked }) {
  const rows = step.querySelector('.grant-rows');
  const error = step.querySelector('.step-error');
  const inputs = textArgs.map(([name, value], index) => {
    const row = document.createElement('div');
    row.className = 'grant-row';
    const label = document.createElement('label');
    label.htmlFor = `${titleId}-grant-${index}`;
    const hidden = document.createElement('span');
    hidden.className = 'visually-hidden';
    hidden.textContent = 'Pattern for ';
    const code = document.createElement('code');
    code.textContent = name;
    const equals = document.createElement('span');
    equals.setAttribute('aria-hidden', 'true');
    equals.textContent = ' =';
    label.append(hidden, code, equals);
    const input = document.createElement('input');
    input.id = label.htmlFor;
    input.value = value;
    input.dataset.arg = name;
    input.autocomplete = 'off';
    input.spellcheck = false;
    row.append(label, input);
    rows.append(row);
    return input;
  });
  const ttl = step.querySelector('input[name="ttl"]');
  ttl.id = `${titleId}-grant-ttl`;
  const sendButton = step.querySelector('.grant-send');
  if (approval.confirm) sendButton.textContent = `Yes, run ${approval.toolName} and allow similar`;
  openButton.addEventListener('click', open);
  sendButton.addEventListener('click', () => {
    const unseen = blocked();
    if (unseen) {
      error.textContent = 'Read the arguments in full first (scroll through them, or Show all).';
      return unseen.focus();
    }
    const match = Object.fromEntries(inputs.filter((input) => input.value !== '').map((input) => [input.dataset.arg, input.value]));
    if (Object.keys(match).length === 0) {
      error.textContent = 'Keep at least one pattern: a grant always names what it allows.';
      return inputs[0].focus();
    }
    const duration = ttl.value.trim();
    const grant = { match, ...(duration && { ttl: /^\d+$/.test(duration) ? Number(duration) : duration }) };
    void send({ action: 'accept', grant }, 'Approving and allowing similar calls…', error);
  });
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
