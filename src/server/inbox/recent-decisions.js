// The "recent decisions" list beside the pending approvals: who decided what, when, from
// GET /api/decisions/recent (the audit trails of the most recent threads). Text only.
import { callApi } from './api.js';

const VERBS = { accepted: 'approved', edited: 'edited and approved', responded: 'responded to', rejected: 'rejected', 'timed-out': 'timed out', cancelled: 'cancelled' };
const threadHref = (threadId) => `#/threads/${encodeURIComponent(threadId)}`;

function text(tag, className, value) {
  const element = document.createElement(tag);
  if (className) element.className = className;
  element.textContent = value;
  return element;
}

/** `2026-11-30 18:04:05Z` */
const shortTime = (iso) => iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');

function who(entry) {
  if (entry.decision === 'timed-out') return `Timed out (${entry.outcome === 'accept' ? 'approved' : 'rejected'} by policy)`;
  if (entry.decision === 'cancelled') return 'Cancelled';
  return `${entry.approver ?? 'Someone'} ${VERBS[entry.decision] ?? entry.decision}`;
}

function renderEntry(entry) {
  const item = document.createElement('li');
  item.className = `recent-entry decision-${entry.decision}`;
  const head = document.createElement('p');
  head.className = 'recent-head';
  head.append(text('strong', 'recent-who', who(entry)), ' ', text('code', 'recent-tool', entry.toolName));
  const time = text('time', 'recent-time', shortTime(entry.timestamp));
  time.dateTime = entry.timestamp;
  const thread = text('a', 'recent-thread', entry.threadId);
  thread.href = threadHref(entry.threadId);
  const meta = document.createElement('p');
  meta.className = 'recent-meta muted';
  meta.append(time, ' · ', thread);
  item.append(head, meta);
  if (entry.response) item.append(text('p', 'recent-reason', `“${entry.response}”`));
  if (entry.reason) item.append(text('p', 'recent-reason', `“${entry.reason}”`));
  return item;
}

/** Loads the recent decisions into `#recent`; throws the API's error for the caller to show. */
export async function showRecentDecisions() {
  const { decisions } = await callApi('/api/decisions/recent?limit=15');
  document.getElementById('recent').replaceChildren(...decisions.map(renderEntry));
  document.getElementById('recent-empty').hidden = decisions.length > 0;
}
