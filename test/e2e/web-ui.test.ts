import { writeFileSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, quietRuntime, unique, withWorker } from '../helpers';
import { recordingAgent } from '../fixtures';
import { launchBrowser, newPage, screenshot } from './browser';

let server: Awaited<ReturnType<typeof connectToDevServer>>;
let browser: Browser;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
  browser = await launchBrowser();
});
afterAll(async () => {
  await browser?.close();
  await server?.close();
});

test('explore', async () => {
  const taskQueue = unique('webui');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'Deleting customer data cannot be undone', timeout: '2h' } });
  const model = new ScriptedModel([callTools(['delete_file', { path: '/srv/data/customers.db' }]), reply('Deleted.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  const ui = process.env.AIRLOCK_TEST_UI_URL!;
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const first = await airlock.handleMessage(threadId, 'delete /srv/data/customers.db');
    const { page } = await newPage(browser, { baseURL: ui });
    const log: string[] = [];
    page.on('request', (r) => { if (r.url().includes('/api/')) log.push(r.url()); });
    await page.goto('/namespaces/default/workflows', { waitUntil: 'networkidle' });
    await page.waitForTimeout(4000);
    log.push('URL ' + page.url());
    log.push(await page.locator('body').innerText());
    await screenshot(page, 'explore-list');
    const desc = await airlock.handle(threadId).describe();
    log.push('DESCRIBE ' + JSON.stringify({ summary: await desc.staticSummary?.(), details: await desc.staticDetails?.() }));
    const q = encodeURIComponent('AirlockStatus="awaiting_approval"');
    await page.goto(`/namespaces/default/workflows?query=${q}`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(4000);
    log.push('URL ' + page.url());
    log.push(await page.locator('body').innerText());
    await screenshot(page, 'explore-list-query');
    await page.goto(`/namespaces/default/workflows?query=${encodeURIComponent('WorkflowId="nope" AND AirlockStatus="idle"')}`, { waitUntil: 'networkidle' });
    await page.waitForTimeout(3000);
    log.push('URL ' + page.url());
    log.push('EMPTY ' + await page.locator('main').innerText());
    writeFileSync('/tmp/explore-empty.html', await page.content());
    await screenshot(page, 'explore-empty');
    for (const tab of ['timeline']) {
      await page.goto(`/namespaces/default/workflows/${threadId}/${desc.runId}/${tab}`, { waitUntil: 'load' });
      await page.waitForTimeout(4000);
      log.push('URL ' + page.url());
      log.push(await page.locator('main').innerText());
      await screenshot(page, 'explore-' + tab);
      writeFileSync(`/tmp/explore-${tab}.html`, await page.content());
    }
    writeFileSync('/tmp/explore.txt', log.join('\n\n=====\n'));
    writeFileSync('/tmp/explore.html', await page.content());
  });
});
