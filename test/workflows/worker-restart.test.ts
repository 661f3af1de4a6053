/** A worker's death at any point loses no approval and runs no approved tool twice. */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AirlockClient } from '../../src/client';
import { defineAgent } from '../../src/agents';
import { OfflineModel, ScriptedModel, callTools, reply } from '../../src/models';
import { createSendEmailTool } from '../../src/tools';
import { createWorker } from '../../src/worker';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, quietRuntime, tempDir, unique, withWorker, workflowBundle } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('a worker shut down while the thread waits: the decision is sent with no worker running, a new worker runs the tool once', async () => {
  const taskQueue = unique('restart');
  const threadId = unique('thread');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'cache.tmp' }]), reply('Deleted.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const options = { agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection };

  const waiting = await withWorker(options, () => airlock.handleMessage(threadId, 'delete cache.tmp'));
  const interruptId = waiting.state.currentInterrupt!.id;

  // No worker runs now: a signal is stored durably by the server.
  await airlock.sendDecision(threadId, { interruptId, action: 'accept', approver: 'alice', reason: 'stale cache' });
  expect(fixture.runs).toHaveLength(0);

  await withWorker(options, async () => {
    const final = await airlock.awaitResponse(threadId);
    expect(final.content).toBe('Deleted.');
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'accepted', approver: 'alice', reason: 'stale cache' });
  });
  expect(fixture.ran('delete_file')).toHaveLength(1);
  model.assertDone();
});

test('a worker killed right after the tool acted: the retry on a new worker does not send the email twice', async () => {
  const taskQueue = unique('crash');
  const threadId = unique('thread');
  const dir = tempDir();
  const outbox = path.join(dir, 'outbox.jsonl');
  const marker = path.join(dir, 'acted');
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'mailer' });

  const child = spawn(process.execPath, [path.join(__dirname, '../fixtures/crash-worker.js')], {
    env: {
      ...process.env,
      AIRLOCK_ADDRESS: server.address,
      AIRLOCK_TASK_QUEUE: taskQueue,
      AIRLOCK_OUTBOX: outbox,
      AIRLOCK_MARKER: marker,
      AIRLOCK_BUNDLE: process.env.AIRLOCK_TEST_BUNDLE,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`crash worker exited early (${code})`)));
    });
    const waiting = await airlock.handleMessage(threadId, 'send an email to ops@example.com about the outage');
    expect(waiting.state.currentInterrupt?.toolName).toBe('send_email');
    const outcome = await airlock.decide(threadId, { interruptId: waiting.state.currentInterrupt!.id, action: 'accept', approver: 'alice' });
    expect(outcome.type).toBe('applied');
    await waitFor(() => existsSync(marker));
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  expect(readFileSync(outbox, 'utf8').trim().split('\n')).toHaveLength(1);

  // The same agent on a fresh worker: the activity's retry reuses the idempotency key.
  const agent = defineAgent({ name: 'mailer', instructions: 'Send emails.', tools: [createSendEmailTool(outbox)], interrupts: { send_email: protectedPolicy() } });
  const worker = await createWorker({ agents: [agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle() });
  await worker.runUntil(async () => {
    const final = await airlock.awaitResponse(threadId);
    expect(final.content).toMatch(/send_email: Email sent to ops@example.com/);
  });
  const lines = readFileSync(outbox, 'utf8').trim().split('\n');
  expect(lines).toHaveLength(1);
  expect(JSON.parse(lines[0])).toMatchObject({ to: 'ops@example.com', idempotencyKey: `${threadId}/1/call_1_1` });

  const events = (await airlock.handle(threadId).fetchHistory()).events!;
  const toolStarts = events.filter((e) => e.activityTaskStartedEventAttributes);
  const completed = events.filter((e) => e.activityTaskCompletedEventAttributes);
  expect(completed.length).toBe(toolStarts.length);
  expect(Math.max(...toolStarts.map((e) => e.activityTaskStartedEventAttributes!.attempt!))).toBe(2);
  expect(events.filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool')).toHaveLength(1);
}, 90_000);

async function waitFor(check: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}
