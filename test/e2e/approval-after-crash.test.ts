/**
 * The approval service right after a worker crash: a worker process is killed (SIGKILL) while a
 * thread waits, a new worker starts, and an approver POSTs the decision. An applied decision is
 * never answered as failed, and a retried decision is the same Update, deduplicated by the server.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { defineAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import { OfflineModel } from '../../src/models';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { createSendEmailTool } from '../../src/tools';
import { createWorker } from '../../src/worker';
import { protectedPolicy } from '../fixtures';
import { connectToDevServer, quietRuntime, tempDir, unique, workflowBundle } from '../helpers';

const ALICE = 'alice-3b8e1f0c7a6d4925e1b7c04d';

let dev: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  dev = await connectToDevServer();
});
afterAll(() => dev.close());

/** A worker process for the `mailer` agent (the suite's crash worker), ready to be killed. */
async function startWorkerProcess(taskQueue: string, outbox: string): Promise<{ child: ChildProcess; exited: Promise<unknown> }> {
  const child = spawn(process.execPath, [path.join(__dirname, '../fixtures/crash-worker.js')], {
    env: {
      ...process.env,
      AIRLOCK_ADDRESS: dev.address,
      AIRLOCK_TASK_QUEUE: taskQueue,
      AIRLOCK_OUTBOX: outbox,
      AIRLOCK_MARKER: `${outbox}.marker`,
      AIRLOCK_BUNDLE: process.env.AIRLOCK_TEST_BUNDLE,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
    child.once('exit', (code) => reject(new Error(`worker process exited early (${code})`)));
  });
  return { child, exited };
}

interface Scene {
  airlock: AirlockClient;
  threadId: string;
  interruptId: string;
  outbox: string;
  service: ApprovalServer;
  baseUrl: string;
  worker: Worker;
  running: Promise<void>;
}

/** A thread waits on a worker process that is then killed; a new worker and the approval service start. */
async function crashWhileWaiting(workerTimeoutMs: number): Promise<Scene> {
  const taskQueue = unique('after-crash');
  const threadId = unique('thread');
  const outbox = path.join(tempDir(), 'outbox.jsonl');
  const airlock = new AirlockClient({ client: dev.client, taskQueue, defaultAgent: 'mailer' });
  const { child, exited } = await startWorkerProcess(taskQueue, outbox);
  let interruptId: string;
  try {
    const waiting = await airlock.handleMessage(threadId, 'send an email to ops@example.com about the outage');
    interruptId = waiting.state.currentInterrupt!.id;
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
  const agent = defineAgent({ name: 'mailer', instructions: 'Send emails.', tools: [createSendEmailTool(outbox)], interrupts: { send_email: protectedPolicy() } });
  const worker = await createWorker({ agents: [agent], model: new OfflineModel(), taskQueue, connection: dev.nativeConnection, workflowBundle: workflowBundle() });
  const running = worker.run();
  const service = createApprovalServer({ client: airlock, tokens: createApproverTokens({ [ALICE]: 'alice' }), workerTimeoutMs, log: () => undefined });
  const baseUrl = await service.listen({ port: 0 });
  return { airlock, threadId, interruptId, outbox, service, baseUrl, worker, running };
}

async function tearDown(scene: Scene): Promise<void> {
  await scene.airlock.endThread(scene.threadId).catch(() => undefined);
  await scene.service.close();
  scene.worker.shutdown();
  await scene.running;
}

async function approve(scene: Scene): Promise<{ status: number; body: Record<string, any> }> {
  const response = await fetch(`${scene.baseUrl}/api/approvals`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${ALICE}` },
    body: JSON.stringify({ threadId: scene.threadId, interruptId: scene.interruptId, action: 'accept', reason: 'outage notice' }),
  });
  return { status: response.status, body: (await response.json()) as Record<string, any> };
}

/** Every entry of the thread's audit trail about its interrupt, by kind of decision. */
async function decisionsOf(scene: Scene) {
  const entries = (await scene.airlock.auditTrail(scene.threadId)).filter((entry) => entry.interruptId === scene.interruptId);
  return { accepted: entries.filter((entry) => entry.decision === 'accepted'), refused: entries.filter((entry) => entry.decision === 'refused') };
}

const outboxLines = (outbox: string) => readFileSync(outbox, 'utf8').trim().split('\n');

async function eventually<T>(check: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test('right after a worker was killed, the first approval is answered 200 and applied once (the service waits 6 s)', async () => {
  const scene = await crashWhileWaiting(6_000);
  try {
    const answer = await approve(scene);
    expect(answer.status).toBe(200);
    expect(answer.body.outcome).toMatchObject({ type: 'applied', interruptId: scene.interruptId, resolution: { type: 'accepted', approver: 'alice' } });

    const final = await scene.airlock.awaitResponse(scene.threadId);
    expect(final.content).toMatch(/send_email: Email sent to ops@example.com/);
    expect(outboxLines(scene.outbox)).toHaveLength(1);
    const { accepted, refused } = await decisionsOf(scene);
    expect(accepted).toHaveLength(1);
    expect(accepted[0]).toMatchObject({ approver: 'alice', via: 'update', reason: 'outage notice' });
    expect(refused).toHaveLength(0);
  } finally {
    await tearDown(scene);
  }
}, 90_000);

test('a deadline shorter than the failover: a 503 only while the decision has not landed, and the same request retried is answered 200, applied once', async () => {
  const scene = await crashWhileWaiting(1_000);
  try {
    const first = await approve(scene);
    if (first.status === 503) {
      // Not applied when the service answered; it lands once the new worker takes the thread over.
      expect(first.body.error.message).toMatch(/may still be applied/);
    } else {
      expect(first.status).toBe(200);
    }
    const landed = await eventually(async () => (await decisionsOf(scene)).accepted[0]);
    expect(landed).toMatchObject({ approver: 'alice', via: 'update' });
    await expect(scene.airlock.findAppliedDecision(scene.threadId, { interruptId: scene.interruptId, action: 'accept', approver: 'alice' })).resolves.toMatchObject({
      type: 'applied',
      resolution: { type: 'accepted', approver: 'alice' },
    });

    // The approver presses again: the same Update id, so the server answers with the first outcome (not "already decided").
    const retried = await approve(scene);
    expect(retried.status).toBe(200);
    expect(retried.body.outcome).toMatchObject({ type: 'applied', interruptId: scene.interruptId });

    await scene.airlock.awaitResponse(scene.threadId);
    expect(outboxLines(scene.outbox)).toHaveLength(1);
    const { accepted, refused } = await decisionsOf(scene);
    expect(accepted).toHaveLength(1);
    expect(refused).toHaveLength(0);
  } finally {
    await tearDown(scene);
  }
}, 90_000);
