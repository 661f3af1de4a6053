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
/** Versions (call digests) of a call this page has seen replaced, by key: a late list still holding one does not bring it back. */
const replacedVersions = new Map();
/** A note to show on the card of a call's version, by key and version ("the call changed since you looked"). */
const cardNotes = new Map();
const CHANGED_NOTE = 'The call changed since you looked: it is shown again as it is now. Look at it again before you decide.';
const versionOf = (approval) => approval.callDigest ?? approval.argsDigest ?? '';
const noteOf = (approval) => cardNotes.get(`${keyOf(approval)}\u0000${versionOf(approval)}`);
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

const showThread = (threadId) => renderThread(threadId, { me, onDecide: decide, onUnauthorized: signOut, noteOf, onFlash: (text) => showBanner('flash', text) });

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
  let changed = 0;
  for (const [key, card] of cards) {
    if (visibleKeys.has(key)) continue;
    card.remove();
    cards.delete(key);
    approvalsByKey.delete(key);
    gone++;
  }
  visible.forEach((approval, index) => {
    const key = keyOf(approval);
    let card = cards.get(key);
    const version = versionOf(approval);
    // A version this page already saw replaced (visibility lags): keep the newer card.
    if (card && card.dataset.version !== version && replacedVersions.get(key)?.has(version)) return;
    approvalsByKey.set(key, approval);
    if (card && card.dataset.version !== version) {
      // Someone edited the call since this card was drawn: draw it again, and say so.
      remember(approval, card.dataset.version, CHANGED_NOTE);
      const fresh = createApprovalCard(approval, { me, onDecide: decide, note: noteOf(approval) });
      swapCard(card, fresh);
      card = fresh;
      cards.set(key, card);
      changed++;
    }
    if (!card) {
      card = createApprovalCard(approval, { me, onDecide: decide, note: noteOf(approval) });
      cards.set(key, card);
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
  else if (added || gone || changed) announce(`${added ? `${added} new. ` : ''}${changed ? `${changed} changed. ` : ''}${gone ? `${gone} decided or gone. ` : ''}${pending}`);
  listed = true;
  const thread = currentThread();
  const editing = byId('thread-view').contains(document.activeElement) && ['INPUT', 'TEXTAREA'].includes(document.activeElement.tagName);
  if (thread && !editing && (added || gone || changed)) void showThread(thread);
}

/** Notes that the call behind `approval` replaced `oldVersion`, with `note` for its new card. */
function remember(approval, oldVersion, note) {
  const key = keyOf(approval);
  if (!replacedVersions.has(key)) replacedVersions.set(key, new Set());
  if (oldVersion !== versionOf(approval)) replacedVersions.get(key).add(oldVersion);
  if (note) cardNotes.set(`${key}\u0000${versionOf(approval)}`, note);
}

/** Puts `fresh` where `card` was, keeping the keyboard's place. */
function swapCard(card, fresh) {
  const hadFocus = card.contains(document.activeElement);
  const wasSelected = card.classList.contains('selected');
  card.replaceWith(fresh);
  if (wasSelected) fresh.classList.add('selected');
  if (hadFocus || wasSelected) {
    fresh.querySelector('article').tabIndex = -1;
    fresh.querySelector('article').focus();
  }
}

/** Draws the call again as `approval` (fresher) says, in the list and on the thread page, with `note`. */
function redraw(approval, card, oldVersion, note) {
  remember(approval, oldVersion, note);
  const key = keyOf(approval);
  const listed = cards.get(key);
  for (const old of new Set([card, listed])) {
    if (!old?.isConnected) continue;
    const fresh = createApprovalCard(approval, { me, onDecide: decide, note: noteOf(approval) });
    swapCard(old, fresh);
    if (old === listed) {
      cards.set(key, fresh);
      approvalsByKey.set(key, approval);
    }
  }
  applyFilters();
}

/** Takes a decided call off the list (and the thread page), moving the keyboard's place to the next card. */
function removeDecided(approval, card) {
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
  if (wasSelected && next) {
    next.classList.add('selected');
    next.querySelector('article').tabIndex = -1;
    next.querySelector('article').focus();
  } else if (hadFocus) byId('flash').focus();
  applyFilters();
}

/** What the banner says a decision did. */
function describeDone({ action, grant }, approval) {
  const what = { accept: 'Approved', reject: 'Rejected', edit: 'Edited and approved', respond: 'Responded to' }[action];
  return `${what} ${approval.toolName} (${approval.id}) on thread ${approval.threadId}${grant ? ', and allowed similar calls' : ''}.`;
}

/**
 * The call as it is now, from the thread (needs a worker): its pending summary, or null when it no
 * longer waits. Throws when the thread cannot be read.
 */
async function currentCall(approval) {
  const { pending } = await callApi(`/api/threads/${encodeURIComponent(approval.threadId)}`);
  return pending.find((candidate) => candidate.id === approval.id) ?? null;
}

/**
 * Sends a decision made on a card. Every decision carries the digests of the call the card showed.
 * Applied: the card goes. An edit that needs another approver (202): the card shows the call as it
 * now waits and for whom. Refused because the call changed (409): the card is drawn again as the
 * call is now. Other refusals are thrown for the card to show.
 */
async function decide(approval, decision, card) {
  const body = {
    threadId: approval.threadId,
    interruptId: approval.id,
    ...decision,
    // The digests bind the decision to what the card showed: the thread refuses it if the call changed.
    ...(approval.argsDigest && { argsDigest: approval.argsDigest }),
    ...(approval.callDigest && { callDigest: approval.callDigest }),
  };
  let answer;
  try {
    answer = await callApi('/api/approvals', { method: 'POST', body });
  } catch (err) {
    if (err.status === 401) signOut();
    // A call edited since into one that needs another approver may be refused as not allowed: look too.
    if (err.type !== 'DecisionArgumentsChanged' && err.type !== 'DecisionNotAllowed') throw err;
    let now;
    try {
      now = await currentCall(approval);
    } catch {
      throw err;
    }
    if (now && err.type === 'DecisionNotAllowed' && versionOf(now) === versionOf(approval)) throw err;
    if (!now) {
      removeDecided(approval, card);
      showBanner('flash', `${approval.toolName} (${approval.id}) on thread ${approval.threadId} no longer waits: it was decided elsewhere.`);
      refreshRecentSoon();
      return;
    }
    redraw(now, card, versionOf(approval), CHANGED_NOTE);
    announce('The call changed since you looked; it is shown again as it is now.');
    return;
  }
  if (answer.outcome?.type === 'escalated') {
    // The answer's summary has all but the context and the agent, which the card had.
    const now = { ...answer.pending, ...(approval.agent && { agent: approval.agent }), ...(approval.context && { context: approval.context }) };
    const who = now.approvers?.length ? now.approvers.join(', ') : 'another approver';
    const note = `Edited by you. The edited call needs ${who} to approve it${now.askReason ? `: ${now.askReason}` : ''}. Nothing ran.`;
    redraw(now, card, versionOf(approval), note);
    showBanner('flash', `Edited ${approval.toolName} (${approval.id}) on thread ${approval.threadId}: it now waits for ${who}.`);
    const thread = currentThread();
    if (thread) void showThread(thread);
    return;
  }
  removeDecided(approval, card);
  showBanner('flash', describeDone(decision, approval));
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
