// The inbox page: sign-in, the live list of pending approvals, decisions, and the route to a thread.
import { callApi, session, watchApprovals } from './api.js';
import { createApprovalCard, updateCardTimes } from './approval-card.js';
import { showRecentDecisions } from './recent-decisions.js';
import { installShortcuts } from './shortcuts.js';
import { renderThread } from './thread-view.js';

const byId = (id) => document.getElementById(id);
const keyOf = (approval) => `${approval.threadId}\u0000${approval.id}`;

/** Cards on the list, by thread and interrupt. */
const cards = new Map();
/** Decided from this page: kept off the list until visibility (eventually consistent) drops them too. */
const decidedHere = new Set();
/** The pending approvals shown, by key (for the filters). */
const approvalsByKey = new Map();
let me;
let stopWatching;
let listed = false;
const PAGE_TITLE = 'Airlock approvals';
/** How long a banner stays: a confirmation briefly, a problem longer. */
const BANNER_MS = { flash: 8000, alert: 15000 };
const bannerTimers = {};

function showView(name) {
  for (const view of ['login', 'inbox', 'thread']) byId(`${view}-view`).hidden = view !== name;
}

function announce(text) {
  const announcer = byId('announcer');
  announcer.textContent = '';
  setTimeout(() => (announcer.textContent = text), 50);
}

/** Shows `text` in the `flash` (done) or `alert` (problem) banner, which clears itself after a while. */
function showBanner(kind, text) {
  const banner = byId(kind);
  clearTimeout(bannerTimers[kind]);
  banner.textContent = text;
  if (text) bannerTimers[kind] = setTimeout(() => (banner.textContent = ''), BANNER_MS[kind]);
}

function showPendingCount(total) {
  document.title = total ? `(${total}) ${PAGE_TITLE}` : PAGE_TITLE;
}

async function refreshRecent() {
  try {
    await showRecentDecisions();
  } catch (err) {
    if (err.status === 401) return signOut();
    showBanner('alert', `Recent decisions could not be loaded: ${err.message}`);
  }
}

let recentTimer;
/** Reloads the recent decisions soon (visibility and history catch up within a moment); calls close together make one load. */
function refreshRecentSoon(delayMs = 1000) {
  clearTimeout(recentTimer);
  recentTimer = setTimeout(() => void refreshRecent(), delayMs);
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
  approvalsByKey.clear();
  byId('approvals').replaceChildren();
  byId('recent').replaceChildren();
  showBanner('flash', '');
  showBanner('alert', '');
  showPendingCount(0);
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
  void refreshRecent();
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
  const was = live.dataset.state;
  live.dataset.state = state;
  live.textContent = state === 'live' ? 'Live' : state === 'reconnecting' ? 'Reconnecting…' : message;
  if (state === 'problem' && was !== 'problem') showBanner('alert', `The pending list may be out of date: ${message}`);
  if (state === 'live' && was === 'problem') showBanner('alert', '');
}

/** The filters' values: tool, agent, and the least waiting time in ms. */
function currentFilters() {
  return { tool: byId('filter-tool').value, agent: byId('filter-agent').value, age: Number(byId('filter-age').value) };
}

/** Keeps a select's options to "all" plus `values`, keeping the choice while it is still offered. */
function offerOptions(select, values) {
  const chosen = select.value;
  const all = select.options[0];
  const options = [...values].sort().map((value) => {
    const option = document.createElement('option');
    option.value = value;
    option.textContent = value;
    return option;
  });
  select.replaceChildren(all, ...options);
  select.value = values.has(chosen) ? chosen : '';
}

/** Shows the cards that match the filters, hides the rest, and says how many are shown. */
function applyFilters(now = Date.now()) {
  const { tool, agent, age } = currentFilters();
  let shown = 0;
  for (const [key, card] of cards) {
    const approval = approvalsByKey.get(key);
    const matches = (!tool || approval.toolName === tool) && (!agent || approval.agent === agent) && now - Date.parse(approval.createdAt) >= age;
    card.hidden = !matches;
    if (matches) shown++;
  }
  const total = cards.size;
  byId('count').textContent = shown === total ? `(${total})` : `(${shown} of ${total})`;
  byId('empty').hidden = total > 0;
  byId('filtered-out').hidden = total === 0 || shown > 0;
  showPendingCount(total);
}

const visibleCards = () => [...byId('approvals').children].filter((card) => !card.hidden);

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
    approvalsByKey.delete(key);
    gone++;
  }
  visible.forEach((approval, index) => {
    approvalsByKey.set(keyOf(approval), approval);
    let card = cards.get(keyOf(approval));
    if (!card) {
      card = createApprovalCard(approval, { me, onDecide: decide });
      cards.set(keyOf(approval), card);
      added++;
    }
    if (list.children[index] !== card) list.insertBefore(card, list.children[index] ?? null);
  });
  offerOptions(byId('filter-tool'), new Set(visible.map((approval) => approval.toolName)));
  offerOptions(byId('filter-agent'), new Set(visible.flatMap((approval) => (approval.agent ? [approval.agent] : []))));
  applyFilters();
  if (listed && gone) refreshRecentSoon();
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
  // Decided from the keyboard: the next card is selected, so the work goes on there.
  const listedCard = cards.get(key);
  const wasSelected = Boolean(listedCard?.classList.contains('selected'));
  const list = visibleCards();
  const next = list[list.indexOf(listedCard) + 1] ?? list[list.indexOf(listedCard) - 1];
  card.remove();
  listedCard?.remove();
  cards.delete(key);
  approvalsByKey.delete(key);
  showBanner('flash', `${action === 'accept' ? 'Approved' : 'Rejected'} ${approval.toolName} (${approval.id}) on thread ${approval.threadId}.`);
  if (wasSelected && next) {
    next.classList.add('selected');
    next.querySelector('article').tabIndex = -1;
    next.querySelector('article').focus();
  } else if (hadFocus) byId('flash').focus();
  applyFilters();
  refreshRecentSoon();
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
  showBanner('flash', '');
  route();
  byId('main').focus();
});
byId('filters').addEventListener('change', () => applyFilters());
byId('filters').addEventListener('submit', (event) => event.preventDefault());
installShortcuts({ isActive: () => Boolean(me) && !byId('inbox-view').hidden, cards: visibleCards });
setInterval(() => {
  const now = Date.now();
  for (const card of document.querySelectorAll('.cards .card')) updateCardTimes(card, now);
  if (cards.size && currentFilters().age) applyFilters(now);
}, 1000);

void start();
