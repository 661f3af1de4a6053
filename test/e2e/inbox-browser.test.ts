/** The web inbox in a real browser (Debian Chromium via playwright-core) against a real dev server and worker process. */
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page, Request } from 'playwright-core';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/client/http';
import type { AuditEntry } from '../../src/core';
import { connectToDevServer, tempDir, unique } from '../helpers';
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
  let page: Page;
  const pageErrors: string[] = [];
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
    ({ page } = await newPage(browser, { baseURL }));
    page.on('pageerror', (error) => pageErrors.push(error.message));
  });

  afterAll(async () => {
    await Promise.all(threads.map((threadId) => client?.endThread(threadId).catch(() => undefined)));
    await browser?.close();
    await service?.close();
    await dev?.close();
    await worker?.stop();
  });

  afterEach(() => expect(pageErrors).toEqual([]));

  /** Starts a thread with `message` and returns it with the interrupt it waits on. */
  async function waiting(message: string): Promise<{ threadId: string; interruptId: string }> {
    const threadId = unique('inbox-thread');
    threads.push(threadId);
    const response = await client.handleMessage(threadId, message);
    return { threadId, interruptId: response.state.currentInterrupt!.id };
  }

  const cardOf = (threadId: string): Locator => page.locator(`#approvals li.card[data-thread-id="${threadId}"]`);
  const sandboxFile = (name: string) => path.join(home, 'sandbox', name);

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
    expect(await card.locator('.agent').textContent()).toBe('assistant');
    expect(await card.locator('.approvers-fact').isVisible()).toBe(false);
    await page.locator('#live[data-state="live"]').waitFor();
    await screenshot(page, 'inbox');

    expect(existsSync(sandboxFile('notes.txt'))).toBe(true);
    const decisions: string[] = [];
    const recordDecision = (request: Request) => request.method() === 'POST' && decisions.push(request.postData() ?? '');
    page.on('request', recordDecision);
    await card.getByLabel(/Reason/).fill('old notes');
    await card.getByLabel(/Reason/).press('Enter');
    await card.getByRole('button', { name: 'Approve' }).click();
    await card.waitFor({ state: 'detached' });
    expect(await page.locator('#flash').textContent()).toContain(`Approved delete_file (t1-call_1_1) on thread ${threadId}.`);
    await eventually(async () => (existsSync(sandboxFile('notes.txt')) ? undefined : true));
    page.off('request', recordDecision);
    expect(decisions.map((body) => JSON.parse(body))).toEqual([{ threadId, interruptId: 't1-call_1_1', action: 'accept', reason: 'old notes' }]);

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
    const { threadId } = await waiting(`call send_email with ${JSON.stringify(args)}`);
    await page.goto('/');
    const card = cardOf(threadId);
    await card.waitFor({ timeout: 30_000 });
    expect(await card.locator('pre.args').textContent()).toBe(JSON.stringify(args, null, 2));
    expect(await card.locator('img, b, script').count()).toBe(0);
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
    await card.scrollIntoViewIfNeeded();
    await screenshot(page, 'inbox-html-arguments');

    await card.getByRole('link', { name: threadId }).click();
    const call = page.locator('#conversation .tool-call pre.args');
    await call.waitFor();
    expect(await call.textContent()).toBe(JSON.stringify(args, null, 2));
    expect(await page.locator('#thread-pending pre.args').textContent()).toBe(JSON.stringify(args, null, 2));
    expect(await page.locator('main img, main b, main script').count()).toBe(0);

    await page.locator('#thread-pending').getByLabel(/Reason/).fill('<img src=x onerror="window.__pwned=3">');
    await page.locator('#thread-pending').getByRole('button', { name: 'Reject' }).click();
    await page.locator('#audit').getByText('rejected').waitFor();
    expect(await page.locator('#audit tbody tr').first().locator('td').nth(5).textContent()).toBe('<img src=x onerror="window.__pwned=3">');
    expect(await page.evaluate(() => (window as { __pwned?: unknown }).__pwned)).toBeUndefined();
  });

  test('a decision made with the CLI disappears from the open page without a reload', async () => {
    const { threadId, interruptId } = await waiting('delete the file draft.md');
    await page.goto('/');
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
    // A second approver's page without live updates, so the card stays after the decision made elsewhere.
    const { context, page: other } = await newPage(browser, { baseURL });
    try {
      await other.route('**/api/events', (route) => route.abort());
      await other.goto(`/#/threads/${encodeURIComponent(threadId)}`);
      await other.getByLabel('Approver token').fill(TOKEN);
      await other.getByRole('button', { name: 'Sign in' }).click();
      const card = other.locator('#thread-pending li.card');
      await card.waitFor();
      expect(await client.decide(threadId, { interruptId, action: 'reject', approver: 'bob', reason: 'keep it' })).toMatchObject({ type: 'applied' });
      await card.getByRole('button', { name: 'Approve' }).click();
      await card.locator('.result.error').waitFor();
      expect(await card.locator('.result').textContent()).toBe(`Already decided: Interrupt '${interruptId}' was already rejected by bob at ${(await client.auditTrail(threadId))[0].timestamp}`);
      expect(await card.getByRole('button', { name: 'Approve' }).isEnabled()).toBe(true);
      expect(existsSync(sandboxFile('old-report.csv'))).toBe(true);
    } finally {
      await context.close();
    }
  });
});
