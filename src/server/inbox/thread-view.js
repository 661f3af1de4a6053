// The thread page: what still waits for a decision (arguments in full), the conversation, and the
// audit trail from history. Data goes in as text only.
import { callApi } from './api.js';
import { createApprovalCard } from './approval-card.js';
import { showText } from './args-view.js';

const byId = (id) => document.getElementById(id);
let renders = 0;

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
  if (entry.decision === 'timed-out') return `timed out (${entry.outcome})`;
  if (entry.decision === 'refused') return `refused: ${entry.refusal?.errorType ?? ''}`;
  return entry.decision;
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
  cell(argsEl('code', 'args-inline', JSON.stringify(entry.toolArgs) ?? ''));
  cell(el('span', 'decision', describeDecision(entry)));
  cell(entry.approver ?? '');
  cell(entry.refusal ? entry.refusal.reason : (entry.reason ?? ''));
  cell(entry.result ?? '');
  return row;
}

/** Loads and shows a thread. Reads that fail (no worker for the state, say) are shown as messages. */
export async function renderThread(threadId, { me, onDecide, onUnauthorized }) {
  const render = ++renders;
  const path = `/api/threads/${encodeURIComponent(threadId)}`;
  const [state, audit] = await Promise.allSettled([callApi(path), callApi(`${path}/audit`)]);
  if (render !== renders) return;
  if ([state, audit].some((result) => result.status === 'rejected' && result.reason.status === 401)) return onUnauthorized();

  byId('thread-title').textContent = `Thread ${threadId}`;
  const errors = [state, audit].filter((result) => result.status === 'rejected').map((result) => result.reason.message);
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
    for (const approval of state.value.pending) pendingList.append(createApprovalCard(approval, { me, onDecide }));
    conversation.append(...thread.messages.map(renderMessage));
  }
  byId('thread-pending-section').hidden = pendingList.children.length === 0;
  const rows = audit.status === 'fulfilled' ? audit.value.entries.map(renderAuditRow) : [];
  if (audit.status === 'fulfilled' && rows.length === 0) {
    const empty = el('td', 'muted', 'No interrupts in this thread yet.');
    empty.colSpan = 7;
    rows.push(el('tr'));
    rows[0].append(empty);
  }
  byId('audit').tBodies[0].replaceChildren(...rows);
}
