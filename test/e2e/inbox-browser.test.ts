/** The web inbox in a real browser (Debian Chromium via playwright-core) against a real dev server and worker process. */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Browser, BrowserContext, Locator, Page, Request } from 'playwright-core';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { argsDigest, type AuditEntry } from '../../src/core';
import { connectToDevServer, endThreads, tempDir, unique } from '../helpers';
import { launchBrowser, newPage, screenshot } from './browser';
import { airlock, eventually, startBackground } from './cli-process';

const TOKEN = 'alice-inbox-9d3f27c1e84a06b5d2f8';
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;

describe('the web inbox', () => {
  let taskQueue: string;
  let home: string;
  let worker: Awaited<ReturnType<typeof startBackground>>;
  let dev: Awaited<ReturnType<typeof connectToDevServer>>;
  let client: AirlockClient;
  let service: ApprovalServer;
  let baseURL: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let pageErrors: string[];
  const threads: string[] = [];

  beforeAll(async () => {
    taskQueue = unique('inbox');
    home = tempDir();
    worker = await startBackground(['worker', '--home', home, '--address', address(), '--task-queue', taskQueue], 'Ready.');
    dev = await connectToDevServer();
    client = new AirlockClient({ client: dev.client, taskQueue, defaultAgent: 'assistant' });
    service = createApprovalServer({ client, tokens: createApproverTokens({ [TOKEN]: 'alice' }), pollIntervalMs: 500 });
    baseURL = await service.listen({ port: 0 });
    browser = await launchBrowser();
  });

  // Each test in its own browser context: signed out, nothing left from the test before.
  beforeEach(async () => {
    ({ context, page } = await newPage(browser, { baseURL }));
    pageErrors = [];
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    // While the worker still runs, so the threads really end and none is left waiting.
    if (client) await endThreads(client, threads);
    await browser?.close();
    await service?.close();
    await dev?.close();
    await worker?.stop();
  });

  afterEach(async () => {
    await context.close();
    expect(pageErrors).toEqual([]);
  });

  /** Opens `at` and signs in as alice there. */
  async function signIn(at = '/') {
    await page.goto(at);
    await page.getByLabel('Approver token').fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as alice').waitFor();
  }

  /** The thread's page with live updates cut off, signed in: its waiting card shows what it showed at load. */
  async function frozenThreadCard(threadId: string) {
    await page.route('**/api/events', (route) => route.abort());
    await signIn(`/#/threads/${encodeURIComponent(threadId)}`);
    const card = page.locator('#thread-pending li.card');
    await card.waitFor();
    return card;
  }

  /** Starts a thread with `message` and returns it with the interrupt it waits on. */
  async function waiting(message: string): Promise<{ threadId: string; interruptId: string }> {
    const threadId = unique('inbox-thread');
    threads.push(threadId);
    const response = await client.handleMessage(threadId, message);
    return { threadId, interruptId: response.state.currentInterrupt!.id };
  }

  const cardOf = (threadId: string): Locator => page.locator(`#approvals li.card[data-thread-id="${threadId}"]`);
  const sandboxFile = (name: string) => path.join(home, 'sandbox', name);
  const approveButton = (card: Locator) => card.getByRole('button', { name: 'Approve', exact: true });

  /** The emails the example agent has sent, from its outbox file. */
  const outbox = (): Array<Record<string, string>> =>
    existsSync(path.join(home, 'outbox.jsonl'))
      ? readFileSync(path.join(home, 'outbox.jsonl'), 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line))
      : [];

  /** Records the bodies of the decisions the page POSTs. */
  function recordDecisions(): unknown[] {
    const decisions: unknown[] = [];
    page.on('request', (request: Request) => {
      if (request.method() === 'POST' && request.url().endsWith('/api/approvals')) decisions.push(JSON.parse(request.postData() ?? 'null'));
    });
    return decisions;
  }

  /** Calls the approval API as alice, from outside the page. */
  async function callApi(pathname: string, body?: unknown): Promise<{ status: number; payload: any }> {
    const response = await fetch(new URL(pathname, baseURL), {
      method: body === undefined ? 'GET' : 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: response.status, payload: await response.json() };
  }

  test('sign in, see a pending delete_file with its path, approve it: it leaves the list and the file is gone', async () => {
    const { threadId } = await waiting('delete the file notes.txt');
    await page.goto('/');
    const tokenField = page.getByLabel('Approver token');
    await tokenField.fill('not-the-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('That token is not valid.').waitFor();
    await tokenField.fill(TOKEN);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByText('Signed in as alice').waitFor();

    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('pre.args').textContent()).toBe('{\n  "path": "notes.txt"\n}');
    expect(await card.locator('.tool').textContent()).toBe('delete_file');
    expect(await card.locator('.note').textContent()).toBe('File deletion is irreversible');
    expect(await card.locator('.user-message').textContent()).toBe('delete the file notes.txt');
    expect(await card.locator('.agent-said').isVisible()).toBe(false);
    expect(await card.locator('.risk').isVisible()).toBe(true);
    expect(await card.locator('.agent').textContent()).toBe('assistant');
    expect(await card.locator('.approvers-fact').isVisible()).toBe(false);
    await page.locator('#live[data-state="live"]').waitFor();
    expect(await page.title()).toMatch(/^\(\d+\) Airlock approvals$/);
    await screenshot(page, 'inbox');

    expect(existsSync(sandboxFile('notes.txt'))).toBe(true);
    const decisions: string[] = [];
    const recordDecision = (request: Request) => request.method() === 'POST' && decisions.push(request.postData() ?? '');
    page.on('request', recordDecision);
    await card.getByLabel(/Reason/).fill('old notes');
    await card.getByLabel(/Reason/).press('Enter');
    // delete_file is high-risk: Approve asks first, and only "Yes, run delete_file" sends.
    await approveButton(card).click();
    await card.getByRole('button', { name: 'Yes, run delete_file' }).waitFor();
    expect(decisions).toEqual([]);
    await card.getByRole('button', { name: 'Yes, run delete_file' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await page.locator('#flash').textContent()).toContain(`Approved delete_file (t1-call_1_1) on thread ${threadId}.`);
    await eventually(async () => (existsSync(sandboxFile('notes.txt')) ? undefined : true));
    page.off('request', recordDecision);
    expect(decisions.map((body) => JSON.parse(body))).toEqual([
      { threadId, interruptId: 't1-call_1_1', action: 'accept', reason: 'old notes', argsDigest: argsDigest({ path: 'notes.txt' }), callDigest: expect.stringMatching(/^[0-9a-f]{64}$/) },
    ]);

    // The thread page: the conversation and the audit trail, once the tool's result is in history.
    await eventually(async () => ((await client.auditTrail(threadId))[0]?.result ? true : undefined));
    await page.goto(`/#/threads/${encodeURIComponent(threadId)}`);
    const auditRow = page.locator('#audit tbody tr').first();
    await auditRow.getByText('accepted').waitFor();
    expect(await auditRow.locator('td').allTextContents()).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\dZ$/),
      'delete_file',
      '{"path":"notes.txt"}',
      'accepted',
      'alice',
      'old notes',
      expect.stringMatching(/^Deleted .*notes\.txt$/),
    ]);
    await page.locator('#conversation').getByText('delete the file notes.txt').waitFor();
    await page.locator('#conversation .message.tool').getByText(/^Deleted /).waitFor();
    await screenshot(page, 'inbox-thread');
    await page.getByRole('link', { name: '← All pending approvals' }).click();
    expect(await cardOf(threadId).count()).toBe(0);
  });

  test('tool arguments holding HTML and script are shown literally and run nothing', async () => {
    const args = { to: 'a@b.co', subject: '<script>window.__pwned=1</script>', body: '<img src=x onerror="window.__pwned=2"> <b>bold?</b>' };
    const sorted = JSON.stringify({ body: args.body, subject: args.subject, to: args.to }, null, 2);
    const { threadId } = await waiting(`call send_email with ${JSON.stringify(args)}`);
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('pre.args').textContent()).toBe(sorted);
    expect(await card.locator('img, b, script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-html-arguments');

    await card.getByRole('link', { name: threadId }).click();
    const call = page.locator('#conversation .tool-call pre.args');
    await call.waitFor();
    expect(await call.textContent()).toBe(JSON.stringify(args, null, 2));
    expect(await page.locator('#thread-pending pre.args').textContent()).toBe(sorted);
    expect(await page.locator('main img, main b, main script').count()).toBe(0);

    await page.locator('#thread-pending').getByLabel(/Reason/).fill('<img src=x onerror="window.__pwned=3">');
    await page.locator('#thread-pending').getByRole('button', { name: 'Reject' }).click();
    await page.locator('#audit').getByText('rejected').waitFor();
    expect(await page.locator('#audit tbody tr').first().locator('td').nth(5).textContent()).toBe('<img src=x onerror="window.__pwned=3">');
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  });

  test('a decision made with the CLI disappears from the open page without a reload', async () => {
    const { threadId, interruptId } = await waiting('delete the file draft.md');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    await page.evaluate(() => ((window as { __sameDocument?: boolean }).__sameDocument = true));

    const approved = await airlock(['approve', threadId, interruptId, '--as', 'bob', '--address', address(), '--task-queue', taskQueue]);
    expect(approved.code).toBe(0);
    await card.waitFor({ state: 'detached', timeout: 30_000 });
    expect(await page.evaluate(() => (window as { __sameDocument?: boolean }).__sameDocument)).toBe(true);
    await eventually(async () => (existsSync(sandboxFile('draft.md')) ? undefined : true));
    const audit = await client.auditTrail(threadId);
    expect(audit[0]).toMatchObject<Partial<AuditEntry>>({ decision: 'accepted', approver: 'bob' });
  });

  test('a refused decision says why in the card: already decided elsewhere', async () => {
    const { threadId, interruptId } = await waiting('delete the file old-report.csv');
    // No live updates on this page, so the card stays after the decision made elsewhere.
    const card = await frozenThreadCard(threadId);
    expect(await client.decide(threadId, { interruptId, action: 'reject', approver: 'bob', reason: 'keep it' })).toMatchObject({ type: 'applied' });
    await approveButton(card).click();
    await card.getByRole('button', { name: 'Yes, run delete_file' }).click();
    await card.locator('.result.error').waitFor();
    // The refusal quotes the decision's time as the thread recorded it, which the audit trail dates by the delivering event instead.
    expect(await card.locator('.result').textContent()).toMatch(new RegExp(`^Already decided: Interrupt '${interruptId}' was already rejected by bob at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z$`));
    expect((await client.auditTrail(threadId))[0]).toMatchObject<Partial<AuditEntry>>({ decision: 'rejected', approver: 'bob' });
    expect(await approveButton(card).isEnabled()).toBe(true);
    expect(existsSync(sandboxFile('old-report.csv'))).toBe(true);
  });

  test('long arguments are shown whole with sorted keys, and Approve waits until they have been scrolled through', async () => {
    const paragraph = 'The quarterly figures are attached below, please check every number before the board meets. ';
    const args = { body: `${paragraph.repeat(32)}END OF BODY`, subject: 'Quarterly figures', to: 'board@example.com' };
    expect(args.body.length).toBeGreaterThan(2900);
    const { threadId } = await waiting(`call send_email with ${JSON.stringify(args)}`);
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    const box = card.locator('pre.args');
    const text = (await box.textContent())!;
    expect(text).toBe(JSON.stringify(args, null, 2));
    expect([...text.matchAll(/^ {2}"(\w+)":/gm)].map((match) => match[1])).toEqual(['body', 'subject', 'to']);

    // The recipient, last, is below the box's fold: Approve waits, and says what for.
    const gate = card.locator('.args-gate');
    await gate.waitFor();
    expect(await gate.textContent()).toBe('Scroll through the arguments to approve, or Show all');
    expect(await box.evaluate((el) => el.scrollHeight > el.clientHeight + 100)).toBe(true);
    const approve = approveButton(card);
    expect(await approve.isEnabled()).toBe(false);
    expect(await approve.getAttribute('aria-disabled')).toBe('true');
    expect((await approve.getAttribute('aria-describedby'))!.split(' ')).toContain(await gate.getAttribute('id'));
    expect(await card.getByRole('button', { name: 'Reject' }).isEnabled()).toBe(true);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-long-arguments');

    const decisions = recordDecisions();
    await approve.click({ force: true });
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await box.evaluate((el) => (el.scrollTop = (el.scrollHeight - el.clientHeight) / 2));
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    expect(await approve.isEnabled()).toBe(false);
    expect(decisions).toEqual([]);

    await box.evaluate((el) => (el.scrollTop = el.scrollHeight));
    await gate.waitFor({ state: 'hidden' });
    expect(await approve.isEnabled()).toBe(true);
    await approve.click();
    await card.waitFor({ state: 'detached' });
    expect(decisions).toEqual([{ threadId, interruptId: 't1-call_1_1', action: 'accept', argsDigest: argsDigest(args), callDigest: expect.stringMatching(/^[0-9a-f]{64}$/) }]);
    const sent = await eventually(async () => outbox().find((email) => email.subject === args.subject));
    expect(sent).toMatchObject(args);
  });

  test('"Show all" expands long arguments and makes Approve usable', async () => {
    const args = { to: 'ops@example.com', subject: 'Runbook', body: 'Step one: check the dashboards.\n'.repeat(120) };
    const { threadId } = await waiting(`call send_email with ${JSON.stringify(args)}`);
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await approveButton(card).isEnabled()).toBe(false);
    await card.getByRole('button', { name: 'Show all' }).click();
    expect(await approveButton(card).isEnabled()).toBe(true);
    const box = card.locator('pre.args');
    expect(await box.evaluate((el) => el.scrollHeight <= el.clientHeight + 2)).toBe(true);
    expect(await box.evaluate((el) => el === document.activeElement)).toBe(true);
    await card.getByRole('button', { name: 'Reject' }).click();
    await card.waitFor({ state: 'detached' });
  });

  test('the page sends the digests of the call it showed; a decision with another digest is refused, changes nothing, and the card is drawn again', async () => {
    const { threadId, interruptId } = await waiting('send an email to ops@example.com about the deploy');
    const listed = await eventually(async () => (await callApi('/api/approvals')).payload.approvals.find((approval: { threadId: string }) => approval.threadId === threadId));
    expect(listed.argsDigest).toBe(argsDigest(listed.args));
    expect(listed.args).toMatchObject({ to: 'ops@example.com', subject: 'The deploy' });

    const wrong = await callApi('/api/approvals', { threadId, interruptId, action: 'accept', argsDigest: '0'.repeat(64) });
    expect(wrong.status).toBe(409);
    expect(wrong.payload.error.type).toBe('DecisionArgumentsChanged');
    expect((await client.getState(threadId)).pendingInterrupts.map((interrupt) => interrupt.id)).toEqual([interruptId]);

    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    // The same refusal for the page's own POST, its digest altered on the way: the card is read again
    // from the thread, drawn again as the call is now, and says so; it can be decided again.
    const first = await card.elementHandle();
    await page.route('**/api/approvals', (route) =>
      route.request().method() === 'POST' ? route.continue({ postData: JSON.stringify({ ...route.request().postDataJSON(), argsDigest: 'f'.repeat(64) }) }) : route.continue(),
    );
    await approveButton(card).click();
    await card.locator('.card-note').getByText('The call changed since you looked').waitFor();
    expect(await first!.evaluate((element) => element.isConnected)).toBe(false);
    expect(await card.locator('.result').textContent()).toBe('');
    expect(await approveButton(card).isEnabled()).toBe(true);
    await page.unroute('**/api/approvals');

    const decisions = recordDecisions();
    await approveButton(card).click();
    await card.waitFor({ state: 'detached' });
    expect(decisions).toEqual([{ threadId, interruptId, action: 'accept', argsDigest: listed.argsDigest, callDigest: listed.callDigest }]);
    await eventually(async () => outbox().find((email) => email.subject === 'The deploy'));
  });

  test('invisible and direction-changing characters in the arguments are shown as visible markers', async () => {
    const args = { to: 'accounts@example.com', subject: 'Invoice', body: 'Pay to account \u202Eevil\u202C today\u200B.' };
    const { threadId } = await waiting(`call send_email with ${JSON.stringify(args)}`);
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    const box = card.locator('pre.args');
    expect(await box.locator('span.invisible-char').allTextContents()).toEqual(['\\u{202E}', '\\u{202C}', '\\u{200B}']);
    const text = (await box.textContent())!;
    expect(text).toContain('"body": "Pay to account \\u{202E}evil\\u{202C} today\\u{200B}."');
    expect(text).not.toMatch(/[\u200B\u202C\u202E]/);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-invisible-characters');

    await card.getByRole('link', { name: threadId }).click();
    await page.locator('#conversation .tool-call pre.args').waitFor();
    expect(await page.locator('#conversation .tool-call .invisible-char').count()).toBe(3);
    expect(await page.locator('#thread-pending .args .invisible-char').count()).toBe(3);
    await page.locator('#thread-pending').getByRole('button', { name: 'Reject' }).click();
    await page.locator('#audit').getByText('rejected').waitFor();
  });

  test('an approval listed by an older version, with only a shortened preview, can be rejected but approved only on the thread page', async () => {
    const threadId = unique('inbox-old');
    const preview = JSON.stringify({ subject: 'Hi', body: 'x'.repeat(480), to: 'someone@example.com' }).slice(0, 500);
    const approval = { threadId, id: 't1-call_1_1', toolName: 'send_email', argsPreview: preview, createdAt: new Date().toISOString() };
    await page.route('**/api/events', (route) =>
      route.fulfill({ status: 200, contentType: 'text/event-stream', body: `event: approvals\ndata: ${JSON.stringify({ approvals: [approval] })}\n\n` }),
    );
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor();
    expect(await card.locator('pre.args.shortened').textContent()).toBe(preview);
    const shortened = card.locator('.truncated');
    expect(await shortened.isVisible()).toBe(true);
    expect(await shortened.getByRole('link').getAttribute('href')).toBe(`#/threads/${threadId}`);
    expect(await approveButton(card).isEnabled()).toBe(false);
    expect((await approveButton(card).getAttribute('aria-describedby'))!.split(' ')).toContain(await shortened.getAttribute('id'));
    expect(await card.getByRole('button', { name: 'Reject' }).isEnabled()).toBe(true);
  });

  test('a card says why the call exists: the user message, the policy note, and multi-line text as lines', async () => {
    const args = { to: 'team@example.com', subject: 'Release notes', body: 'Hello team,\nthe release is out.\n\nThanks' };
    const message = `call send_email with ${JSON.stringify(args)}`;
    const { threadId } = await waiting(message);
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('.user-message').textContent()).toBe(message);
    expect(await card.locator('.note').textContent()).toBe('External communication requires review');
    // The offline model says nothing before its tool calls: no empty "agent said".
    expect(await card.locator('.agent-said').isVisible()).toBe(false);
    expect(await card.locator('.risk').isVisible()).toBe(false);
    const text = (await card.locator('pre.args').textContent())!;
    expect(text).toContain('"body": "Hello team,\nthe release is out.\n\nThanks"');
    expect(text).not.toContain('\\n');
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-card-context');
    await card.getByRole('button', { name: 'Reject' }).click();
    await card.waitFor({ state: 'detached' });
  });

  test('the keyboard: j / k select, a and r decide the selected card, never while typing, and a high-risk tool still asks', async () => {
    const email = await waiting('send an email to keys@example.com about the keyboard');
    const risky = await waiting('delete the file old-report.csv');
    const other = await waiting('send an email to spam@example.com about nothing');
    await signIn();
    for (const { threadId } of [email, risky, other]) await cardOf(threadId).waitFor({ timeout: 30_000 });
    await page.locator('#live[data-state="live"]').waitFor();
    const listed = await page.locator('#approvals li.card').count();
    expect(await page.title()).toBe(`(${listed}) Airlock approvals`);
    const decisions = recordDecisions();

    /** Presses j or k until the card of `threadId` is the selected one. */
    const selectWithKeys = async (threadId: string) => {
      for (let presses = 0; presses < 30; presses++) {
        const [target, selected] = await page.evaluate((id) => {
          const shown = Array.from(document.querySelectorAll<HTMLElement>('#approvals li.card:not([hidden])'));
          return [shown.findIndex((card) => card.dataset.threadId === id), shown.findIndex((card) => card.classList.contains('selected'))];
        }, threadId);
        if (target >= 0 && target === selected) return;
        await page.keyboard.press(selected < target ? 'j' : 'k');
      }
      throw new Error(`Could not select the card of ${threadId} with j / k`);
    };
    await selectWithKeys(email.threadId);
    // Typing a and r into the reason field decides nothing.
    await cardOf(email.threadId).getByLabel(/Reason/).pressSequentially('ra ok');
    expect(await cardOf(email.threadId).getByLabel(/Reason/).inputValue()).toBe('ra ok');
    await cardOf(email.threadId).locator('article').focus();
    await page.keyboard.press('a');
    await cardOf(email.threadId).waitFor({ state: 'detached' });
    expect(decisions).toEqual([{ threadId: email.threadId, interruptId: email.interruptId, action: 'accept', reason: 'ra ok', argsDigest: expect.any(String), callDigest: expect.any(String) }]);
    expect(await page.title()).toBe(`(${listed - 1}) Airlock approvals`);

    await selectWithKeys(risky.threadId);
    const card = cardOf(risky.threadId);
    await page.keyboard.press('a');
    await card.getByRole('button', { name: 'Yes, run delete_file' }).waitFor();
    await page.keyboard.press('a');
    await page.keyboard.press('Enter');
    expect(decisions).toHaveLength(1);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-high-risk-confirmation');
    await page.keyboard.press('Escape');
    await card.getByRole('button', { name: 'Yes, run delete_file' }).waitFor({ state: 'hidden' });
    await page.keyboard.press('a');
    await card.getByRole('button', { name: 'Yes, run delete_file' }).click();
    await card.waitFor({ state: 'detached' });
    expect(decisions).toHaveLength(2);
    await eventually(async () => (existsSync(sandboxFile('old-report.csv')) ? undefined : true));

    await selectWithKeys(other.threadId);
    await page.keyboard.press('r');
    await cardOf(other.threadId).waitFor({ state: 'detached' });
    expect(decisions[2]).toMatchObject({ threadId: other.threadId, action: 'reject' });
    await page.getByRole('status').filter({ hasText: 'Rejected send_email' }).waitFor();

    // Recent decisions, beside the list: who decided what, when.
    const recent = page.locator('#recent');
    const entryOf = (threadId: string) => recent.locator('li').filter({ has: page.locator(`a[href="#/threads/${threadId}"]`) });
    await entryOf(other.threadId).waitFor({ timeout: 30_000 });
    expect(await entryOf(other.threadId).locator('.recent-who').textContent()).toBe('alice rejected');
    expect(await entryOf(email.threadId).locator('.recent-who').textContent()).toBe('alice approved');
    expect(await entryOf(email.threadId).locator('.recent-reason').textContent()).toBe('“ra ok”');
    expect(await entryOf(risky.threadId).locator('.recent-tool').textContent()).toBe('delete_file');
    expect(await entryOf(other.threadId).locator('time').getAttribute('datetime')).toMatch(/^\d{4}-\d\d-\d\dT/);
    await screenshot(page, 'inbox-recent-decisions');
  });

  test('filters by tool, agent and age, and the count says how many are shown', async () => {
    const email = await waiting('send an email to filters@example.com about filters');
    const deletion = await waiting('delete the file filters.txt');
    await signIn();
    for (const { threadId } of [email, deletion]) await cardOf(threadId).waitFor({ timeout: 30_000 });
    await page.getByLabel('Tool', { exact: true }).selectOption('send_email');
    expect(await cardOf(email.threadId).isVisible()).toBe(true);
    expect(await cardOf(deletion.threadId).isVisible()).toBe(false);
    expect(await page.locator('#count').textContent()).toMatch(/^\(\d+ of \d+\)$/);
    await page.getByLabel('Agent', { exact: true }).selectOption('assistant');
    expect(await cardOf(email.threadId).isVisible()).toBe(true);
    await page.getByLabel('Waiting', { exact: true }).selectOption({ label: '1 day or more' });
    expect(await cardOf(email.threadId).isVisible()).toBe(false);
    await page.getByText('No pending approval matches these filters.').waitFor();
    await page.getByLabel('Waiting', { exact: true }).selectOption({ label: 'Any time' });
    await page.getByLabel('Tool', { exact: true }).selectOption('');
    expect(await cardOf(deletion.threadId).isVisible()).toBe(true);
    await cardOf(deletion.threadId).getByRole('button', { name: 'Reject' }).click();
    await cardOf(email.threadId).getByRole('button', { name: 'Reject' }).click();
    await cardOf(email.threadId).waitFor({ state: 'detached' });
  });

  test('a problem shows in a banner that clears itself', async () => {
    await page.route('**/api/decisions/recent*', (route) =>
      route.fulfill({ status: 503, contentType: 'application/json', body: JSON.stringify({ error: { type: 'WorkerUnavailable', message: 'Temporal visibility did not answer' } }) }),
    );
    await signIn();
    const banner = page.locator('#alert');
    await banner.getByText('Recent decisions could not be loaded: Temporal visibility did not answer').waitFor();
    await screenshot(page, 'inbox-error-banner');
    await page.getByText('Recent decisions could not be loaded').waitFor({ state: 'hidden', timeout: 20_000 });
    expect(await banner.textContent()).toBe('');
  });

  /** The example agent's payments ledger lines of one thread (by idempotency key). */
  const paymentsOf = (threadId: string): Array<Record<string, unknown>> =>
    existsSync(path.join(home, 'payments.jsonl'))
      ? readFileSync(path.join(home, 'payments.jsonl'), 'utf8')
          .split('\n')
          .filter((line) => line !== '')
          .map((line) => JSON.parse(line))
          .filter((entry) => String(entry.idempotencyKey).startsWith(`${threadId}/`))
      : [];

  /** Writes a file into the worker's sandbox and returns its path. */
  const placeFile = (name: string) => {
    writeFileSync(sandboxFile(name), `${name}\n`);
    return sandboxFile(name);
  };

  test("a card says why the policy asks; Edit opens the arguments as JSON, refusals show in the form, and the tool runs with the edited arguments", async () => {
    const { threadId, interruptId } = await waiting('pay 500 to acme');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('.ask-reason').isVisible()).toBe(true);
    expect(await card.locator('.ask-reason-text').textContent()).toBe('amount 500 exceeds 100');
    // make_payment forbids grants: no "allow similar"; the other four decisions are offered.
    expect(await card.getByRole('button', { name: /allow similar/ }).count()).toBe(0);
    for (const name of ['Approve', 'Reject', 'Edit…', 'Respond…']) expect(await card.getByRole('button', { name, exact: true }).isVisible()).toBe(true);
    const decisions = recordDecisions();

    // The e key opens the form of the card that holds the focus (here, on its arguments), and puts the focus in it.
    await card.locator('pre.args').focus();
    await page.keyboard.press('e');
    const field = card.getByLabel('Arguments (JSON)');
    expect(await field.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await card.getByRole('button', { name: 'Edit…' }).getAttribute('aria-expanded')).toBe('true');
    expect(await field.inputValue()).toBe('{\n  "amount": 500,\n  "to": "acme"\n}');
    const send = card.getByRole('button', { name: 'Run with these arguments' });
    const formError = card.locator('.edit-step .step-error');

    await field.fill('{ "amount": 250, ');
    await send.click();
    expect(await formError.textContent()).toMatch(/^Not valid JSON: /);
    await field.fill('[250, "acme"]');
    await send.click();
    expect(await formError.textContent()).toMatch(/must be a JSON object/);
    expect(decisions).toEqual([]);

    // The tool's schema refuses a negative amount: the form says why, the card stays, nothing ran.
    await field.fill('{ "amount": -5, "to": "acme" }');
    await send.click();
    await formError.getByText(/^Edit not valid: The edited arguments do not fit 'make_payment'/).waitFor();
    expect(await card.isVisible()).toBe(true);
    expect(await field.isVisible()).toBe(true);
    expect(paymentsOf(threadId)).toEqual([]);
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-edit-refused');

    await field.fill('{ "amount": 250, "to": "acme", "memo": "edited in the inbox" }');
    await send.click();
    await card.waitFor({ state: 'detached' });
    await page.locator('#flash').getByText(`Edited and approved make_payment (${interruptId}) on thread ${threadId}.`).waitFor();
    const listed = await eventually(async () => {
      const paid = paymentsOf(threadId);
      return paid.length ? paid : undefined;
    });
    expect(listed).toEqual([expect.objectContaining({ amount: 250, to: 'acme', memo: 'edited in the inbox' })]);
    expect(decisions).toHaveLength(2);
    expect(decisions[1]).toEqual({
      threadId,
      interruptId,
      action: 'edit',
      args: { amount: 250, to: 'acme', memo: 'edited in the inbox' },
      argsDigest: argsDigest({ amount: 500, to: 'acme' }),
      callDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    });
    const audit = await eventually(async () => {
      const entries = await client.auditTrail(threadId);
      return entries.find((entry) => entry.decision === 'edited' && entry.result) ? entries : undefined;
    });
    expect(audit.find((entry) => entry.decision === 'edited')).toMatchObject({ approver: 'alice', originalArgs: { amount: 500, to: 'acme' }, askReason: 'amount 500 exceeds 100' });
  });

  test("Respond sends text in place of the tool's result: the tool does not run, and the thread's audit shows the response", async () => {
    const file = placeFile('respond-me.txt');
    const { threadId, interruptId } = await waiting('delete the file respond-me.txt');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    const decisions = recordDecisions();
    const open = card.getByRole('button', { name: 'Respond…' });
    await open.click();
    const field = card.getByLabel('Response', { exact: false });
    expect(await field.evaluate((element) => element === document.activeElement)).toBe(true);
    // Escape closes the form and gives the focus back to its button.
    await page.keyboard.press('Escape');
    expect(await field.isVisible()).toBe(false);
    expect(await open.evaluate((element) => element === document.activeElement)).toBe(true);
    expect(await open.getAttribute('aria-expanded')).toBe('false');
    await open.click();
    await card.getByRole('button', { name: 'Send response' }).click();
    expect(await card.locator('.respond-step .step-error').textContent()).toBe('Write the response the agent should read.');
    await field.fill('Keep it: <b>archive</b> it instead.');
    await card.getByRole('button', { name: 'Send response' }).click();
    await card.waitFor({ state: 'detached' });
    expect(decisions).toEqual([{ threadId, interruptId, action: 'respond', message: 'Keep it: <b>archive</b> it instead.', argsDigest: expect.any(String), callDigest: expect.any(String) }]);
    expect(existsSync(file)).toBe(true);

    await page.goto(`/#/threads/${encodeURIComponent(threadId)}`);
    const row = page.locator('#audit tbody tr').first();
    await row.getByText('responded').waitFor();
    expect(await row.locator('td').nth(3).textContent()).toBe('responded');
    expect(await row.locator('td').nth(4).textContent()).toBe('alice');
    expect(await row.locator('td').nth(5).textContent()).toBe('Response: Keep it: <b>archive</b> it instead.');
    expect(await page.locator('main b').count()).toBe(0);
    await page.locator('#conversation .message.tool').getByText(/archive/).waitFor();
    await screenshot(page, 'inbox-thread-responded');
    expect(existsSync(file)).toBe(true);
  });

  test('an edit that needs another approver keeps the card: it says who may decide now, why, and what the agent asked for', async () => {
    const { threadId } = await waiting('pay 600 to acme');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    await card.getByRole('button', { name: 'Edit…' }).click();
    await card.getByLabel('Arguments (JSON)').fill('{ "amount": 5000, "to": "acme" }');
    await card.getByRole('button', { name: 'Run with these arguments' }).click();
    await card.locator('.card-note').getByText('Edited by you. The edited call needs finance to approve it: amount 5,000 exceeds 1,000: finance approves. Nothing ran.').waitFor();
    expect(await card.locator('.ask-reason-text').textContent()).toBe('amount 5,000 exceeds 1,000: finance approves');
    expect(await card.locator('.edited-by').textContent()).toBe('alice');
    expect(await card.locator('pre.args').textContent()).toBe('{\n  "amount": 5000,\n  "to": "acme"\n}');
    expect(await card.locator('pre.original-args').textContent()).toBe('{\n  "amount": 600,\n  "to": "acme"\n}');
    expect(await card.locator('.approvers').textContent()).toBe('finance');
    expect(await approveButton(card).isDisabled()).toBe(true);
    expect(await card.locator('.result').textContent()).toBe('Only finance may decide this.');
    await page.locator('#flash').getByText(/now waits for finance/).waitFor();
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-edit-escalated');
    expect(paymentsOf(threadId)).toEqual([]);
  });

  test('a decision on a call someone else changed meanwhile is refused: the card says "The call changed since you looked" and shows the call as it is now', async () => {
    const { threadId, interruptId } = await waiting('pay 400 to acme');
    // No live updates on this page: the card keeps showing the call as it was.
    const card = await frozenThreadCard(threadId);
    expect(await card.locator('pre.args').textContent()).toBe('{\n  "amount": 400,\n  "to": "acme"\n}');
    expect(await client.decide(threadId, { interruptId, action: 'edit', args: { amount: 4000, to: 'acme' }, approver: 'bob' })).toMatchObject({ type: 'escalated' });

    await approveButton(card).click();
    await card.locator('.card-note').getByText('The call changed since you looked: it is shown again as it is now. Look at it again before you decide.').waitFor();
    expect(await card.locator('pre.args').textContent()).toBe('{\n  "amount": 4000,\n  "to": "acme"\n}');
    expect(await card.locator('.edited-by').textContent()).toBe('bob');
    expect(await card.locator('.ask-reason-text').textContent()).toBe('amount 4,000 exceeds 1,000: finance approves');
    expect(await approveButton(card).isDisabled()).toBe(true);
    // The thread refuses it as a changed call, or (it checks who may decide first) as one alice may no longer decide.
    const audit = await client.auditTrail(threadId);
    expect(audit.map((entry) => [entry.decision, entry.approver, entry.refusal?.errorType])).toEqual([
      ['pending', undefined, undefined],
      ['refused', 'alice', expect.stringMatching(/^(DecisionArgumentsChanged|DecisionNotAllowed)$/)],
    ]);
    expect(paymentsOf(threadId)).toEqual([]);
  });

  test('a call edited elsewhere is drawn again on the open page without a reload, and the card says so', async () => {
    const { threadId, interruptId } = await waiting('pay 300 to acme');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    await page.locator('#live[data-state="live"]').waitFor();
    const first = await card.elementHandle();
    expect(await client.decide(threadId, { interruptId, action: 'edit', args: { amount: 3000, to: 'acme' }, approver: 'bob' })).toMatchObject({ type: 'escalated' });
    await card.locator('.card-note').getByText(/^The call changed since you looked/).waitFor({ timeout: 30_000 });
    expect(await first!.evaluate((element) => element.isConnected)).toBe(false);
    expect(await card.locator('pre.args').textContent()).toBe('{\n  "amount": 3000,\n  "to": "acme"\n}');
    expect(await card.locator('.edited-by').textContent()).toBe('bob');
    expect(await card.locator('.approvers').textContent()).toBe('finance');
    expect(await page.locator(`#approvals li.card[data-thread-id="${threadId}"]`).count()).toBe(1);
  });

  test('"Approve and allow similar" grants from a form of patterns; the thread page lists the grant with its uses and revokes it', async () => {
    const [first, second, third] = ['grant-a.txt', 'grant-b.txt', 'grant-c.txt'].map(placeFile);
    const { threadId, interruptId } = await waiting('delete the file grant-a.txt');
    await signIn();
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    const decisions = recordDecisions();
    await card.getByRole('button', { name: 'Approve and allow similar…' }).click();
    const pattern = card.getByLabel('Pattern for path');
    expect(await pattern.inputValue()).toBe('grant-a.txt');
    expect(await pattern.evaluate((element) => element === document.activeElement)).toBe(true);
    await pattern.fill('');
    // delete_file is high-risk: the form's own button is the explicit confirmation.
    const send = card.getByRole('button', { name: 'Yes, run delete_file and allow similar' });
    await send.click();
    expect(await card.locator('.grant-step .step-error').textContent()).toMatch(/at least one pattern/);
    await pattern.fill('grant-*.txt');
    await card.getByLabel('Expires after', { exact: false }).fill('1h');
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-grant-form');
    await send.click();
    await card.waitFor({ state: 'detached' });
    expect(decisions).toEqual([
      { threadId, interruptId, action: 'accept', grant: { match: { path: 'grant-*.txt' }, ttl: '1h' }, argsDigest: argsDigest({ path: 'grant-a.txt' }), callDigest: expect.any(String) },
    ]);
    await eventually(async () => (existsSync(first) ? undefined : true));
    await eventually(async () => ((await client.getState(threadId)).status === 'idle' ? true : undefined));
    expect((await client.handleMessage(threadId, 'delete the file grant-b.txt')).state.currentInterrupt).toBeUndefined();
    expect(existsSync(second)).toBe(false);

    await page.goto(`/#/threads/${encodeURIComponent(threadId)}`);
    const grant = page.locator('#grants li.grant');
    await grant.waitFor();
    expect(await grant.locator('.grant-head').textContent()).toBe('delete_file calls where path matches grant-*.txt');
    expect(await grant.locator('.grant-meta').textContent()).toMatch(new RegExp(`^g-${interruptId} · granted by alice at \\S+ \\S+ · used 1 time$`));
    expect(await grant.locator('.grant-status').textContent()).toMatch(/^Active until \d{4}-/);
    await page.locator('#audit').getByText(`allowed by grant g-${interruptId}`).waitFor();
    await screenshot(page, 'inbox-thread-grants');

    await grant.getByLabel(/Reason for revoking/).fill('done for today');
    await grant.getByRole('button', { name: 'Revoke' }).click();
    await page.locator('#grants .grant-status').getByText(/^Revoked by alice at .*: done for today$/).waitFor();
    expect(await page.locator('#grants').getByRole('button', { name: 'Revoke' }).count()).toBe(0);
    await page.locator('#audit').getByText(`grant g-${interruptId} revoked`).waitFor();
    expect((await client.handleMessage(threadId, 'delete the file grant-c.txt')).state.currentInterrupt).toMatchObject({ toolName: 'delete_file' });
    expect(existsSync(third)).toBe(true);
  });
});
