/**
 * A worker dies while the model thinks: a new worker finishes the turn, and the protected tool the
 * model asked for waits for one approval and runs once.
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { waitUntil } from '../fixtures/threads';
import { connectToDevServer, endThreads, quietRuntime, tempDir, unique, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('a worker killed during the model call: a new worker finishes the turn, one interrupt opens, and the tool runs once after approval', async () => {
  const taskQueue = unique('model-crash');
  const threadId = unique('thread');
  const dir = tempDir();
  const marker = path.join(dir, 'model-called');
  const trace = path.join(dir, 'tool-ran-in-the-dead-worker');
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' });

  const child = spawn(process.execPath, [path.join(__dirname, '../fixtures/stalling-model-worker.js')], {
    env: {
      ...process.env,
      AIRLOCK_ADDRESS: server.address,
      AIRLOCK_TASK_QUEUE: taskQueue,
      AIRLOCK_MARKER: marker,
      AIRLOCK_TRACE: trace,
      AIRLOCK_BUNDLE: process.env.AIRLOCK_TEST_BUNDLE,
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise((resolve) => child.once('exit', resolve));
  let firstResponse: ReturnType<AirlockClient['handleMessage']>;
  try {
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on('data', (chunk: Buffer) => chunk.toString().includes('ready') && resolve());
      child.once('exit', (code) => reject(new Error(`stalling worker exited early (${code})`)));
    });
    // The message is sent; the model activity starts on the doomed worker and never answers.
    firstResponse = airlock.handleMessage(threadId, 'delete notes.txt');
    firstResponse.catch(() => undefined);
    await waitUntil(() => existsSync(marker));
    expect(readFileSync(marker, 'utf8')).toBe('1');
  } finally {
    child.kill('SIGKILL');
    await exited;
  }

  // A new worker: the model turn is retried there (once the dead worker's heartbeat is overdue).
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'notes.txt' }]), reply('Deleted notes.txt.')]);
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      // The caller of the message sent before the crash gets its answer: the interrupt.
      const waiting = await firstResponse;
      expect(waiting.state.status).toBe('awaiting_approval');
      expect(waiting.state.interrupts).toHaveLength(1);
      const interrupt = waiting.state.currentInterrupt!;
      expect(interrupt).toMatchObject({ toolName: 'delete_file', toolArgs: { path: 'notes.txt' }, turn: 1 });
      expect(fixture.runs).toHaveLength(0);

      const outcome = await airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' });
      expect(outcome.type).toBe('applied');
      const final = await airlock.awaitResponse(threadId);
      expect(final.content).toBe('Deleted notes.txt.');
      expect(final.state.turn).toBe(2);
      expect(final.state.interrupts).toHaveLength(1);

      // One interrupt on record, decided once, with the tool's single result.
      const trail = await airlock.auditTrail(threadId);
      expect(trail).toEqual([
        expect.objectContaining({ interruptId: interrupt.id, decision: 'accepted', approver: 'alice', result: 'delete_file done: {"path":"notes.txt"}' }),
      ]);
      // The first model turn was one activity, finished by its second attempt on the new worker.
      const events = (await airlock.handle(threadId).fetchHistory()).events!;
      const modelCalls = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel');
      expect(modelCalls).toHaveLength(2);
      const firstTurnId = String(modelCalls[0].eventId);
      const firstTurnStart = events.find((event) => String(event.activityTaskStartedEventAttributes?.scheduledEventId) === firstTurnId);
      expect(firstTurnStart?.activityTaskStartedEventAttributes?.attempt).toBe(2);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  expect(fixture.ran('delete_file')).toHaveLength(1);
  expect(fixture.ran('delete_file')[0]).toMatchObject({ args: { path: 'notes.txt' }, context: { idempotencyKey: `${threadId}/1/call_1` } });
  expect(existsSync(trace)).toBe(false);
  expect(model.requests.map((request) => request.turn)).toEqual([1, 2]);
  model.assertDone();
}, 180_000);
