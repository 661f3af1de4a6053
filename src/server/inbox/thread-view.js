// The thread page: what still waits for a decision (arguments in full), the thread's grants (with
// Revoke), the conversation, and the audit trail from history. Data goes in as text only.
import { callApi } from './api.js';
import { createApprovalCard } from './approval-card.js';
import { showText } from './args-view.js';

const byId = (id) => document.getElementById(id);
let renders = 0;
let grantIds = 0;

function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

/** An element showing `text` with its invisible and direction-changing characters as visible markers. */
function argsEl(tag, className, text) {
  const node = el(tag, className);
  showText(node, text);
  return node;
}

const time = (iso) => {
  const node = el('time', '', iso ? iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z') : '');
  if (iso) node.dateTime = iso;
  return node;
};

function prettyJson(text) {
  try {
    return JSON.stringify(JSON.parse(text), null, 2);
  } catch {
    return text;
  }
}

function renderMessage(message) {
  const item = el('li', `message ${message.role}`);
  if (message.role === 'user') item.append(el('p', 'who', 'User'), el('p', 'text', message.content));
  if (message.role === 'tool') item.append(el('p', 'who', `Tool result · ${message.name}`), el('p', 'text', message.content));
  if (message.role === 'assistant') {
    item.append(el('p', 'who', 'Agent'));
    if (message.content) item.append(el('p', 'text', message.content));
    for (const call of message.toolCalls ?? []) {
      const block = el('div', 'tool-call');
      block.append(el('p', '', 'Calls '), argsEl('pre', 'args', prettyJson(call.arguments)));
      block.firstChild.append(el('code', '', call.name));
      item.append(block);
    }
  }
  return item;
}

function describeDecision(entry) {
  switch (entry.decision) {
    case 'timed-out':
      return `timed out (${entry.outcome})`;
    case 'refused':
      return `refused: ${entry.refusal?.errorType ?? ''}`;
    case 'allowed':
      return entry.grantId ? `allowed by grant ${entry.grantId}` : 'allowed by the policy';
    case 'grant-revoked':
      return `grant ${entry.grantId} revoked`;
    case 'grant-expired':
      return `grant ${entry.grantId} expired`;
    case 'accepted':
    case 'edited':
      return entry.grantId ? `${entry.decision}, granted ${entry.grantId}` : entry.decision;
    default:
      return entry.decision;
  }
}

/** The arguments of an audit entry: what ran (or waits), and what the agent asked for when an approver edited them. */
function auditArgs(entry) {
  const ran = argsEl('code', 'args-inline', JSON.stringify(entry.toolArgs) ?? '');
  if (entry.originalArgs === undefined) return ran;
  const both = el('div', 'args-edited');
  const asked = el('p', 'args-asked', 'Asked: ');
  asked.append(argsEl('code', 'args-inline', JSON.stringify(entry.originalArgs) ?? ''));
  const now = el('p', 'args-ran', entry.decision === 'pending' || entry.decision === 'refused' ? 'Now: ' : 'Ran: ');
  now.append(ran);
  both.append(asked, now);
  return both;
}

/** The reason column: a refusal's reason, a response's text, the decision's reason, why the policy asked. */
function auditReason(entry) {
  const cell = el('div', 'audit-reason');
  const line = (className, text) => text && cell.append(argsEl('p', className, text));
  if (entry.refusal) line('', entry.refusal.reason);
  else {
    line('response', entry.response !== undefined ? `Response: ${entry.response}` : '');
    line('', entry.reason ?? '');
  }
  line('ask-reason-line', entry.askReason && entry.decision !== 'refused' ? `Asked because ${entry.askReason}` : '');
  for (const edit of entry.edits ?? []) line('edit-line', `Edited by ${edit.approver}; needed another approver`);
  return cell;
}

function renderAuditRow(entry) {
  const row = el('tr', `decision-${entry.decision}`);
  const cell = (content) => {
    const td = el('td');
    td.append(content);
    row.append(td);
  };
  cell(time(entry.timestamp));
  cell(el('code', '', entry.toolName));
  cell(entry.toolArgs === undefined ? '' : auditArgs(entry));
  cell(el('span', 'decision', describeDecision(entry)));
  cell(entry.approver ?? '');
  cell(auditReason(entry));
  cell(entry.result ?? '');
  return row;
}

/** `2026-11-30 18:04:05Z` */
const shortTime = (iso) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

/** What a grant's state is, in words. */
function grantStatus(grant) {
  if (grant.ended?.type === 'revoked') return `Revoked by ${grant.ended.by} at ${shortTime(grant.ended.at)}${grant.ended.reason ? `: ${grant.ended.reason}` : ''}`;
  if (grant.ended?.type === 'expired') return `Expired at ${shortTime(grant.ended.at)}`;
  return grant.expiresAt ? `Active until ${shortTime(grant.expiresAt)}` : 'Active until revoked';
}

/** One grant: what it allows, who gave it, how often it was used, and (while active) Revoke with an optional reason. */
function renderGrant(grant, { threadId, onRevoked, onUnauthorized }) {
  const item = el('li', `grant${grant.ended ? ` grant-${grant.ended.type}` : ' grant-active'}`);
  const descriptionId = `grant-${++grantIds}-${grant.id.replace(/[^A-Za-z0-9_-]/g, '_')}`;
  const head = el('p', 'grant-head');
  head.id = descriptionId;
  head.append(el('code', 'grant-tool', grant.toolName), ' calls where ');
  Object.entries(grant.match).forEach(([name, pattern], index) => {
    if (index > 0) head.append(' and ');
    head.append(el('code', '', name), ' matches ', argsEl('code', 'grant-pattern', pattern));
  });
  const meta = el('p', 'grant-meta muted', `${grant.id} · granted by ${grant.grantedBy} at ${shortTime(grant.createdAt)} · used ${grant.uses} time${grant.uses === 1 ? '' : 's'}`);
  const status = el('p', 'grant-status', grantStatus(grant));
  item.append(head, meta, status);
  if (grant.ended) return item;
  const form = el('form', 'grant-revoke');
  const label = el('label', 'reason-label');
  const reason = el('input');
  reason.name = 'reason';
  reason.maxLength = 2000;
  reason.autocomplete = 'off';
  const text = el('span', '', 'Reason for revoking ');
  text.append(el('span', 'muted', '(optional)'));
  label.append(text, reason);
  const revoke = el('button', 'reject', 'Revoke');
  revoke.type = 'submit';
  revoke.setAttribute('aria-describedby', descriptionId);
  const error = el('p', 'error');
  error.setAttribute('role', 'alert');
  form.append(label, revoke, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    revoke.disabled = true;
    error.textContent = '';
    const why = reason.value.trim();
    try {
      await callApi(`/api/threads/${encodeURIComponent(threadId)}/grants/${encodeURIComponent(grant.id)}/revoke`, { method: 'POST', body: why ? { reason: why } : {} });
    } catch (err) {
      if (err.status === 401) return onUnauthorized();
      error.textContent = err.label ? `${err.label}: ${err.message}` : `Could not revoke: ${err.message}`;
      revoke.disabled = false;
      return;
    }
    onRevoked(grant);
  });
  item.append(form);
  return item;
}

/**
 * Loads and shows a thread. Reads that fail (no worker for the state, say) are shown as messages.
 * `noteOf(approval)`: a note for a pending card; `onFlash(text)`: a confirmation for the banner.
 */
export async function renderThread(threadId, options) {
  const { me, onDecide, onUnauthorized, noteOf = () => undefined, onFlash = () => undefined } = options;
  const render = ++renders;
  const path = `/api/threads/${encodeURIComponent(threadId)}`;
  const [state, audit, grants] = await Promise.allSettled([callApi(path), callApi(`${path}/audit`), callApi(`${path}/grants`)]);
  if (render !== renders) return;
  if ([state, audit, grants].some((result) => result.status === 'rejected' && result.reason.status === 401)) return onUnauthorized();

  byId('thread-title').textContent = `Thread ${threadId}`;
  const errors = [state, audit, grants].filter((result) => result.status === 'rejected').map((result) => result.reason.message);
  byId('thread-error').textContent = [...new Set(errors)].join(' ');

  const pendingList = byId('thread-pending');
  const conversation = byId('conversation');
  pendingList.replaceChildren();
  conversation.replaceChildren();
  byId('thread-summary').textContent = '';
  if (state.status === 'fulfilled') {
    const thread = state.value.state;
    byId('thread-summary').textContent = `Agent ${thread.agent} · ${thread.status.replace('_', ' ')} · ${thread.turn} model turns`;
    // The server summarizes the pending interrupts exactly as the pending list does.
    for (const approval of state.value.pending) pendingList.append(createApprovalCard(approval, { me, onDecide, note: noteOf(approval) }));
    conversation.append(...thread.messages.map(renderMessage));
  }
  byId('thread-pending-section').hidden = pendingList.children.length === 0;
  const grantList = byId('grants');
  const shown = grants.status === 'fulfilled' ? grants.value.grants : [];
  const onRevoked = (grant) => {
    onFlash(`Revoked ${grant.id} on thread ${threadId}: matching calls are asked about again.`);
    void renderThread(threadId, options);
  };
  grantList.replaceChildren(...shown.map((grant) => renderGrant(grant, { threadId, onRevoked, onUnauthorized })));
  byId('grants-section').hidden = shown.length === 0;
  const rows = audit.status === 'fulfilled' ? audit.value.entries.map(renderAuditRow) : [];
  if (audit.status === 'fulfilled' && rows.length === 0) {
    const empty = el('td', 'muted', 'No interrupts in this thread yet.');
    empty.colSpan = 7;
    rows.push(el('tr'));
    rows[0].append(empty);
  }
  byId('audit').tBodies[0].replaceChildren(...rows);
}
