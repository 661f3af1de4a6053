/**
 * The Temporal Web UI reads an encrypted thread through Airlock's codec endpoint: a browser whose
 * approver signed in on the approval service (the session cookie, sent because the UI's Data
 * Encoder includes credentials) sees the tool's arguments decrypted; a browser that did not sees
 * only ciphertext. The test runs its own dev server, whose UI is configured with the endpoint
 * (`--ui-codec-endpoint`), and the approval service on `localhost`, the UI's own site.
 */
import path from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { AirlockClient } from '../../src/client';
import { EncryptionCodec, createKeyring } from '../../src/codec';
import { freePort, startDevServer, type DevServer } from '../../src/devtools/dev-server';
import { TEMPORAL_HOME } from '../../src/devtools/temporal-binaries';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { createWorker } from '../../src/worker';
import { recordingAgent } from '../fixtures';
import { endThreads, quietRuntime, unique, workflowBundle } from '../helpers';
import { launchBrowser, newPage, screenshot } from './browser';

const ALICE = 'alice-webui-5e0c8f3a91d47b26e8c3';
const UI_TIMEOUT = 30_000;
const codec = new EncryptionCodec(createKeyring([{ id: 'k-ui', key: randomBytes(32).toString('base64') }]));

let dev: DevServer;
let service: ApprovalServer;
let browser: Browser;
let connection: Connection;
let nativeConnection: NativeConnection;
let uiUrl: string;
let serviceUrl: string;

beforeAll(async () => {
  quietRuntime();
  const servicePort = await freePort();
  serviceUrl = `http://localhost:${servicePort}`;
  dev = await startDevServer({
    port: 0,
    uiPort: 0,
    dbFilename: null,
    logFile: path.join(TEMPORAL_HOME, 'test-codec-dev-server.log'),
    extraArgs: ['--ui-codec-endpoint', `${serviceUrl}/codec`],
  });
  // The UI and the service on the same site (localhost): the session cookie is SameSite=Strict.
  uiUrl = dev.uiUrl!.replace('127.0.0.1', 'localhost');
  connection = await Connection.connect({ address: dev.address });
  nativeConnection = await NativeConnection.connect({ address: dev.address });
  const client = new AirlockClient({ client: new Client({ connection, dataConverter: { payloadCodecs: [codec] } }) });
  service = createApprovalServer({
    client,
    tokens: createApproverTokens({ [ALICE]: 'alice' }),
    log: () => undefined,
    codec: { payloadCodec: codec, namespace: 'default', webUiOrigins: [new URL(uiUrl).origin] },
  });
  await service.listen({ port: servicePort, host: '127.0.0.1' });
  browser = await launchBrowser();
}, 120_000);
afterAll(async () => {
  await browser?.close();
  await service?.close();
  await connection?.close();
  await nativeConnection?.close();
  await dev?.stop();
});

/** Opens the thread's page and waits until its history is drawn (event types are never encoded). */
async function openThread(page: Page, threadId: string, runId: string): Promise<void> {
  await page.goto(`${uiUrl}/namespaces/default/workflows/${threadId}/${runId}/history`, { waitUntil: 'domcontentloaded' });
  await page.getByRole('heading', { name: threadId }).first().waitFor({ timeout: UI_TIMEOUT });
}

/** All text of the page and its frames. */
async function pageText(page: Page): Promise<string> {
  const texts = await Promise.all(page.frames().map((frame) => frame.locator('body').innerText().catch(() => '')));
  return texts.join('\n');
}

/**
 * A browser whose Data Encoder settings (what a person enters in the UI's "Data Encoder" dialog,
 * kept in the browser's storage) name the endpoint and "include cross-origin credentials", so its
 * codec requests carry the service's cookie.
 */
async function includeCredentials(context: BrowserContext): Promise<void> {
  const settings = { endpoint: JSON.stringify(`${serviceUrl}/codec`), includeCredentials: 'true', overrideRemoteCodecConfiguration: 'true' };
  await context.addInitScript((entries) => Object.entries(entries).forEach(([key, value]) => window.localStorage.setItem(key, value)), settings);
}

test(
  'signed in on the approval service, the Web UI shows the decrypted arguments; without, only ciphertext',
  async () => {
    const taskQueue = unique('web-ui-codec');
    const secretPath = `/srv/${unique('vault')}/customers.db`;
    const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'Deleting customer data cannot be undone' } }, 'vault-agent');
    const model = new ScriptedModel([callTools(['delete_file', { path: secretPath }]), reply('Deleted.')]);
    const airlock = new AirlockClient({ client: new Client({ connection, dataConverter: { payloadCodecs: [codec] } }), taskQueue, defaultAgent: fixture.agent.name });
    const worker = await createWorker({ agents: [fixture.agent], model, taskQueue, connection: nativeConnection, workflowBundle: workflowBundle(), payloadCodec: codec });
    const threadId = unique('thread');
    await worker.runUntil(async () => {
      try {
        expect((await airlock.handleMessage(threadId, `Please delete ${secretPath}`)).state.status).toBe('awaiting_approval');
        const { runId } = await airlock.handle(threadId).describe();

        // 1. A browser that never signed in: the UI's codec calls get 401, the payloads stay sealed.
        const blind = await newPage(browser, {});
        try {
          await includeCredentials(blind.context);
          await openThread(blind.page, threadId, runId);
          // The thread's input, as the UI shows a payload it could not decode: the ciphertext's base64.
          await blind.page.getByText(/[A-Za-z0-9+/]{60,}/).first().waitFor({ timeout: UI_TIMEOUT });
          // The model turn's marker is listed (its type is not a payload); its summary and result are sealed.
          await blind.page.getByText('callModel').first().waitFor({ timeout: UI_TIMEOUT });
          const sealed = await pageText(blind.page);
          for (const plain of [secretPath, '"agent": "vault-agent"', 'model turn 1']) expect(sealed).not.toContain(plain);
          await screenshot(blind.page, 'web-ui-codec-1-without-sign-in');
        } finally {
          await blind.context.close();
        }

        // 2. Alice signs in on the approval service; the UI then shows the call's arguments.
        const { context, page } = await newPage(browser, {});
        try {
          await includeCredentials(context);
          await page.goto(`${serviceUrl}/codec/`, { waitUntil: 'domcontentloaded' });
          await page.getByLabel('Approver token').fill(ALICE);
          await page.getByRole('button', { name: 'Sign in' }).click();
          await page.getByText('Signed in as alice').waitFor({ timeout: UI_TIMEOUT });
          await openThread(page, threadId, runId);
          // The model turn's result (its marker, a local activity) holds the tool call: opened, the event shows it in full.
          await page.getByText('model turn 1').first().click();
          await page.getByText(secretPath).first().waitFor({ timeout: UI_TIMEOUT });
          const opened = await pageText(page);
          for (const plain of ['"agent": "vault-agent"', 'model turn 1']) expect(opened).toContain(plain);
          await screenshot(page, 'web-ui-codec-2-signed-in');
        } finally {
          await context.close();
        }
      } finally {
        await endThreads(airlock, [threadId]);
      }
    });
  },
  240_000,
);
