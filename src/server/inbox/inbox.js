// The inbox page: sign-in, the live list of pending approvals, decisions, and the route to a thread.
import { callApi, session, watchApprovals } from './api.js';
import { createApprovalCard, updateCardTimes } from './approval-card.js';
import { renderThread } from './thread-view.js';

const byId = (id) => document.getElementById(id);
const keyOf = (approval) => `${approval.threadId}\u0000${approval.id}`;

/** Cards on the list, by thread and interrupt. */
const cards = new Map();
/** Decided from this page: kept off the list until visibility (eventually consistent) drops them too. */
const decidedHere = new Set();
let me;
let stopWatching;
let listed = false;

function showView(name) {
  for (const view of ['login', 'inbox', 'thread']) byId(`${view}-view`).hidden = view !== name;
}

function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = text), 50);
}

function showLogin(message = '') {
  me = undefined;
  byId('session').hidden = true;
  showView('login');
  byId('login-error').textContent = message;
  byId('token').focus();
}

function signOut(message = 'Your token is no longer accepted; sign in again.') {
  session.signOut();
  stopWatching?.();
  stopWatching = undefined;
  cards.clear();
  byId('approvals').replaceChildren();
  byId('flash').textContent = '';
  listed = false;
  showLogin(message);
}

async function start() {
  if (!session.token) return showLogin();
  try {
    me = (await callApi('/api/me')).approver;
  } catch (err) {
    return err.status === 401 ? signOut() : showLogin(err.message);
  }
  byId('approver-name').textContent = me;
  byId('session').hidden = false;
  stopWatching = watchApprovals({ onApprovals: showApprovals, onStatus: showLiveStatus, onUnauthorized: signOut });
  route();
}

/** The thread id of a `#/threads/<id>` address, else undefined. */
function currentThread() {
  const match = /^#\/threads\/(.+)$/.exec(location.hash);
  try {
    return match ? decodeURIComponent(match[1]) : undefined;
  } catch {
    return undefined;
  }
}

const showThread = (threadId) => renderThread(threadId, { me, onDecide: decide, onUnauthorized: signOut });

function route() {
  if (!me) return;
  const thread = currentThread();
  showView(thread ? 'thread' : 'inbox');
  if (thread) void showThread(thread);
}

function showLiveStatus(state, message) {
  const live = byId('live');
  live.dataset.state = state;
  live.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : message;
}

function showApprovals(approvals) {
  const present = new Set(approvals.map(keyOf));
  for (const key of decidedHere) if (!present.has(key)) decidedHere.delete(key);
  const visible = approvals.filter((approval) => !decidedHere.has(keyOf(approval)));
  const visibleKeys = new Set(visible.map(keyOf));
  const list = byId('approvals');
  let added = 0;
  let gone = 0;
  for (const [key, card] of cards) {
    if (visibleKeys.has(key)) continue;
    card.remove();
    cards.delete(key);
    gone++;
  }
  visible.forEach((approval, index) => {
    let card = cards.get(keyOf(approval));
    if (!card) {
      card = createApprovalCard(approval, { me, onDecide: decide });
      cards.set(keyOf(approval), card);
      added++;
    }
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] ?? null);
  });
  byId('count').textContent = `(${visible.length})`;
  byId('empty').hidden = visible.length > 0;
  const pending = `${visible.length} pending.`;
  if (!listed) announce(pending);
  else if (added || gone) announce(`${added ? `${added} new. ` : ''}${gone ? `${gone} decided or gone. ` : ''}${pending}`);
  listed = true;
  const thread = currentThread();
  const editing = byId('thread-view').contains(document.activeElement) && document.activeElement.tagName === 'INPUT';
  if (thread && !editing && (added || gone)) void showThread(thread);
}

async function decide(approval, action, reason, card) {
  try {
    await callApi('/api/approvals', {
      method: 'POST',
      // The digest binds the decision to the arguments the card showed: the thread refuses it if they differ.
      body: { threadId: approval.threadId, interruptId: approval.id, action, ...(reason && { reason }), ...(approval.argsDigest && { argsDigest: approval.argsDigest }) },
    });
  } catch (err) {
    if (err.status === 401) signOut();
    throw err;
  }
  const key = keyOf(approval);
  decidedHere.add(key);
  // The clicked button goes with the card (and a disabled button may already have lost focus).
  const hadFocus = card.contains(document.activeElement) || document.activeElement === document.body;
  card.remove();
  cards.get(key)?.remove();
  cards.delete(key);
  const flash = byId('flash');
  flash.textContent = `${action === 'accept' ? 'Approved' : 'Rejected'} ${approval.toolName} (${approval.id}) on thread ${approval.threadId}.`;
  if (hadFocus) flash.focus();
  const left = cards.size;
  byId('count').textContent = `(${left})`;
  byId('empty').hidden = left > 0;
  const thread = currentThread();
  if (thread) void showThread(thread);
}

byId('login-form').addEventListener('submit', async (event) => {
  event.preventDefault();
  const input = byId('token');
  const token = input.value.trim();
  try {
    await callApi('/api/me', { token });
  } catch (err) {
    byId('login-error').textContent = err.status === 401 ? 'That token is not valid.' : err.message;
    return;
  }
  session.signIn(token);
  input.value = '';
  byId('login-error').textContent = '';
  await start();
  byId('main').focus();
});
byId('sign-out').addEventListener('click', () => signOut(''));
window.addEventListener('hashchange', () => {
  byId('flash').textContent = '';
  route();
  byId('main').focus();
});
setInterval(() => {
  const now = Date.now();
  for (const card of document.querySelectorAll('.cards .card')) updateCardTimes(card, now);
}, 1000);

void start();
