/**
 * The Temporal Web UI (2.54.x, started by the global setup) explains a thread as an approver reads
 * it: the pending-approvals query lists it, the thread's page says what waits and why, the history
 * names each step; after the decision, the page no longer says it waits.
 *
 * Markdown (summary, current details) renders inside same-origin iframes (`/render?content=…`),
 * read here through frame locators. The thread page keeps a long poll open for new history
 * events, so pages are awaited by their text, never by "network idle".
 */
import type { Browser, Locator, Page } from 'playwright-core';
import { defineAgent, prepareExampleAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { OfflineModel, ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, tempDir, unique, withWorker } from '../helpers';
import { recordingAgent } from '../fixtures';
import { launchBrowser, newPage, screenshot } from './browser';

const UI_URL = process.env.AIRLOCK_TEST_UI_URL!;

/** How long the UI may take to show something (SvelteKit boot, API calls, visibility). */
const UI_TIMEOUT = 30_000;

let server: Awaited<ReturnType<typeof connectToDevServer>>;
let browser: Browser | undefined;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server.close();
});

/** The list's columns in the README's saved view: status, thread, what it waits for, agent, start. */
const AIRLOCK_COLUMNS = ['Status', 'Workflow ID', 'AirlockStatus', 'AirlockPendingTools', 'AirlockAgent', 'Start'].map((label, index) => ({ label, pinned: index < 2 }));

/** The list page for a visibility query, as the UI encodes it in its address. */
const listPath = (query: string) => `/namespaces/default/workflows?query=${encodeURIComponent(query)}`;

/** Waits for a visible match, reloading the page between tries (visibility and queries lag a little). */
async function reloadUntilVisible(page: Page, locator: Locator, timeoutMs = 60_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      await locator.first().waitFor({ state: 'visible', timeout: Math.min(UI_TIMEOUT, Math.max(deadline - Date.now(), 1_000)) });
      return;
    } catch (err) {
      if (Date.now() >= deadline) throw err;
      await page.reload({ waitUntil: 'domcontentloaded' });
    }
  }
}

/** Opens one of the thread page's tabs the way a person does, and waits for its panel. */
async function openTab(page: Page, name: RegExp, panelText: Locator): Promise<void> {
  await page.getByRole('tab', { name }).click();
  await panelText.first().waitFor({ timeout: UI_TIMEOUT });
}

test(
  'the Web UI lists a waiting thread and shows what it waits for; after approval it no longer does',
  async () => {
    const taskQueue = unique('web-ui');
    const note = 'Deleting customer data cannot be undone';
    const fixture = recordingAgent({ delete_file: { allowAuto: false, note, timeout: '2h' } }, 'ops-agent');
    const model = new ScriptedModel([callTools(['delete_file', { path: '/srv/data/customers.db' }]), reply('Deleted customers.db.')]);
    const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
    const threadId = unique('thread');
    const { context, page } = await newPage(browser!, { baseURL: UI_URL });
    // The saved view the README describes: the list with Airlock's search attributes as columns
    // (what "Configure columns" in the list stores in the browser).
    await context.addInitScript((columns) => window.localStorage.setItem('namespace-workflow-table-columns', columns), JSON.stringify({ default: AIRLOCK_COLUMNS }));

    try {
      // The worker runs throughout: the UI reads "current details" with a query the worker answers.
      await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
        try {
          const first = await airlock.handleMessage(threadId, 'Please delete /srv/data/customers.db');
          expect(first.state.status).toBe('awaiting_approval');
          const interrupt = first.state.currentInterrupt!;
          expect(interrupt.deadline).toBeDefined();
          const { runId } = await airlock.handle(threadId).describe();

          // 1. The approver's inbox: every thread whose status search attribute says it waits.
          await page.goto(listPath('AirlockStatus="awaiting_approval"'), { waitUntil: 'domcontentloaded' });
          await page.getByText('AirlockStatus = "awaiting_approval"').first().waitFor({ timeout: UI_TIMEOUT });
          const row = page.getByRole('row').filter({ hasText: threadId });
          await reloadUntilVisible(page, row);
          await row.getByText('Running', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          // What the operator reads on the list: the thread waits for approval of delete_file, for ops-agent.
          await row.getByText('awaiting_approval', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT });
          await row.getByText('delete_file').first().waitFor({ timeout: UI_TIMEOUT });
          await row.getByText('ops-agent', { exact: true }).first().waitFor({ timeout: UI_TIMEOUT });
          await screenshot(page, 'web-ui-1-inbox');

          // 2. The thread's page, reached from the list.
          await row.getByRole('link', { name: threadId }).first().click();
          await page.waitForURL(new RegExp(`/namespaces/default/workflows/${threadId}/${runId}`), { timeout: UI_TIMEOUT });
          await page.getByRole('heading', { name: threadId }).first().waitFor({ timeout: UI_TIMEOUT });
          // The timeline (the default tab) shows the model turn (a local activity) and names the approval deadline.
          await page.getByText(`approval deadline for delete_file (${interrupt.id})`).first().waitFor({ timeout: UI_TIMEOUT });
          await page.getByText('callModel').first().waitFor({ timeout: UI_TIMEOUT });

          // User metadata: the thread's summary and, from the worker, what it waits for (markdown).
          await openTab(page, /^User Metadata/, page.getByText('Current Details', { exact: true }));
          const summary = page.frameLocator('#user-metadata-summary');
          await summary.getByText('Airlock thread (agent ops-agent)').waitFor({ timeout: UI_TIMEOUT });
          // Static details: the agent and who started the thread (the starting client's identity).
          const staticDetails = page.frameLocator('#user-metadata-details');
          await staticDetails.getByText('ops-agent', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          await staticDetails.getByText(server.client.options.identity, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          // Current details lead with the waiting tool and its arguments.
          const details = page.frameLocator('#user-metadata-current-details');
          await details.getByText('Awaiting approval: delete_file').waitFor({ timeout: UI_TIMEOUT });
          const shown = (await details.locator('body').innerText()).replace(/\s+/g, ' ').trim();
          expect(shown.startsWith('Awaiting approval: delete_file { "path": "/srv/data/customers.db" } Note: Deleting customer data')).toBe(true);
          await details.getByText(`${threadId}`, { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          await details.getByText('awaiting approval (1)').first().waitFor({ timeout: UI_TIMEOUT });
          await details.getByText('delete_file', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          await details.getByText(`note: ${note}`).first().waitFor({ timeout: UI_TIMEOUT });
          await details.getByText(`deadline ${interrupt.deadline}`).first().waitFor({ timeout: UI_TIMEOUT });
          await details.getByText('"path": "/srv/data/customers.db"').first().waitFor({ timeout: UI_TIMEOUT });
          await screenshot(page, 'web-ui-2-thread-waiting');

          // Search attributes: the status, the pending tool and the deadline the inbox sorts by.
          await openTab(page, /^Search Attributes/, page.getByText('"AirlockStatus": "awaiting_approval"'));
          await page.getByText(`"AirlockNextDeadline": "${interrupt.deadline}"`).first().waitFor({ timeout: UI_TIMEOUT });
          await page.getByText('"delete_file"').first().waitFor({ timeout: UI_TIMEOUT });

          // Event history: the start's summary, the model turn (its marker's summary), and the two-hour deadline timer.
          await openTab(page, /^Event History/, page.getByText('Airlock thread (agent ops-agent)'));
          await page.getByText('model turn 1').first().waitFor({ timeout: UI_TIMEOUT });
          await page.getByText(`approval deadline for delete_file (${interrupt.id})`).first().waitFor({ timeout: UI_TIMEOUT });
          await page.getByText('2 hours').first().waitFor({ timeout: UI_TIMEOUT });

          // 3. Alice approves; the thread runs the tool and answers.
          const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
          expect(final.content).toBe('Deleted customers.db.');
          expect(fixture.ran('delete_file')).toHaveLength(1);

          // The approver reloads the thread's page: it no longer says the thread waits.
          await openTab(page, /^User Metadata/, page.getByText('Current Details', { exact: true }));
          await page.reload({ waitUntil: 'domcontentloaded' });
          await page.getByText('Current Details', { exact: true }).waitFor({ timeout: UI_TIMEOUT });
          const detailsNow = page.frameLocator('#user-metadata-current-details');
          await reloadUntilVisible(page, detailsNow.getByText('— idle'));
          expect(await detailsNow.getByText('awaiting approval').count()).toBe(0);
          expect(await detailsNow.getByText('delete_file').count()).toBe(0);
          await screenshot(page, 'web-ui-3-thread-approved');

          await openTab(page, /^Search Attributes/, page.getByText('"AirlockStatus"'));
          await reloadUntilVisible(page, page.getByText('"AirlockStatus": "idle"'));
          expect(await page.getByText('awaiting_approval').count()).toBe(0);

          // The history names who approved the tool's run, the cancelled deadline and the next model turn.
          await openTab(page, /^Event History/, page.getByText('Airlock thread (agent ops-agent)'));
          await reloadUntilVisible(page, page.getByText('delete_file — approved by alice'));
          await page.getByText('Timer Canceled').first().waitFor({ timeout: UI_TIMEOUT });
          await page.getByText('model turn 2').first().waitFor({ timeout: UI_TIMEOUT });
          // The history scrolls inside its own panel: bring the approved tool run into the picture.
          await page.getByText('Timer Canceled').first().evaluate((el) => el.scrollIntoView({ block: 'center', inline: 'nearest' }));
          await screenshot(page, 'web-ui-4-history-approved');

          // 4. The inbox no longer lists it; the list of idle threads does.
          await page.goto(listPath(`WorkflowId="${threadId}" AND AirlockStatus="awaiting_approval"`), { waitUntil: 'domcontentloaded' });
          await reloadUntilVisible(page, page.getByText('No Workflows Found'));
          await page.goto(listPath(`WorkflowId="${threadId}" AND AirlockStatus="idle"`), { waitUntil: 'domcontentloaded' });
          await reloadUntilVisible(page, page.getByRole('row').filter({ hasText: threadId }));
        } finally {
          // Ended while the worker runs, so a failure leaves no thread waiting in the namespace's lists.
          await endThreads(airlock, [threadId]);
        }
      });
    } finally {
      await context.close();
    }
  },
  180_000,
);

test(
  "the Web UI's current details show why a call asks, an edit that escalated it and who may approve it now",
  async () => {
    // The example agent's make_payment: above 100 asks; above 1,000 only finance approves.
    const example = prepareExampleAgent(tempDir('airlock-web-ui-'));
    const agent = defineAgent(example.agent);
    const taskQueue = unique('web-ui-edit');
    const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });
    const threadId = unique('thread');
    const { context, page } = await newPage(browser!, { baseURL: UI_URL });
    try {
      await withWorker({ agents: [agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection }, async () => {
        try {
          const asked = (await airlock.handleMessage(threadId, 'pay 500 to acme')).state.currentInterrupt!;
          expect(asked.askReason).toBe('amount 500 exceeds 100');
          const escalated = await airlock.decide(threadId, { interruptId: asked.id, action: 'edit', approver: 'alice', args: { amount: 5000, to: 'acme' }, callDigest: asked.callDigest });
          expect(escalated.type).toBe('escalated');
          const { runId } = await airlock.handle(threadId).describe();

          await page.goto(`/namespaces/default/workflows/${threadId}/${runId}`, { waitUntil: 'domcontentloaded' });
          await page.getByRole('heading', { name: threadId }).first().waitFor({ timeout: UI_TIMEOUT });
          await openTab(page, /^User Metadata/, page.getByText('Current Details', { exact: true }));
          const details = page.frameLocator('#user-metadata-current-details');
          await reloadUntilVisible(page, details.getByText('Awaiting approval: make_payment'));
          const shown = (await details.locator('body').innerText()).replace(/\s+/g, ' ').trim();
          // The call as it stands now (the edited amount), why it asks, who edited it and who decides.
          expect(shown).toContain('"amount": 5000');
          expect(shown).not.toContain('"amount": 500,');
          expect(shown).toContain('Why it asks: amount 5,000 exceeds 1,000: finance approves');
          expect(shown).toMatch(/Arguments edited by alice at \S+/);
          expect(shown).toContain('Who may approve: finance');
          await screenshot(page, 'web-ui-5-escalated-edit');
        } finally {
          await endThreads(airlock, [threadId]);
        }
      });
    } finally {
      await context.close();
    }
  },
  120_000,
);
