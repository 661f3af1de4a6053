/**
 * What a thread keeps when it continues as new: its audit trail (decisions made in different runs,
 * read back as one trail) and every message sent to it around the moment it moves to a new run.
 * A dedicated dev server suggests continue-as-new after a few dozen history events.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import type { Client, WorkflowHandle } from '@temporalio/client';
import type { NativeConnection } from '@temporalio/worker';
import { AirlockClient } from '../../src/client';
import { AGENT_THREAD_WORKFLOW, sendMessageUpdate, type AgentResponse, type ChatMessage, type ThreadInput } from '../../src/core';
import { defineAgent } from '../../src/agents';
import { OfflineModel, reply, type ChatModel } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { threadRuns, waitUntil } from '../fixtures/threads';
import { endThreads, quietRuntime, unique, withWorker, SUGGEST_CONTINUE_AS_NEW_AT, startContinueAsNewServer } from '../helpers';

let server: Awaited<ReturnType<typeof startContinueAsNewServer>>;
let client: Client;
let nativeConnection: NativeConnection;

beforeAll(async () => {
  quietRuntime();
  server = await startContinueAsNewServer('test-guarantees-continue-as-new-server');
  ({ client, nativeConnection } = server);
}, 120_000);

afterAll(() => server?.close());

const currentRunId = async (handle: WorkflowHandle) => (await handle.describe()).runId;

/** A thread of an agent whose deletions need a person, its client, and a worker running the offline model for it. */
function deletionThread(label: string) {
  const taskQueue = unique(label);
  const threadId = unique('thread');
  const fixture = recordingAgent({ delete_file: protectedPolicy('Deleting is irreversible') });
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: fixture.agent.name });
  const withItsWorker = <T>(fn: () => Promise<T>) => withWorker({ agents: [fixture.agent], model: new OfflineModel(), taskQueue, connection: nativeConnection }, fn);
  return { threadId, fixture, airlock, handle: airlock.handle(threadId), withItsWorker };
}

test('a caller that asks for the answer only after the run has continued as new gets the same response, with the decided call', async () => {
  const { threadId, fixture, airlock, handle, withItsWorker } = deletionThread('late-response');

  await withItsWorker(async () => {
    try {
      // Deletions, each decided without waiting for the answer, until a run continues as new
      // right after answering one: the answer is then asked of the next run.
      for (let i = 0; ; i++) {
        if (i === 12) throw new Error('no run continued as new right after a decision');
        const interrupt = (await airlock.handleMessage(threadId, `delete the file f${i}.txt`)).state.currentInterrupt!;
        const run = await currentRunId(handle);
        expect((await airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' })).type).toBe('applied');
        let moved = false;
        for (const deadline = Date.now() + 2_000; !moved && Date.now() < deadline; await new Promise((resolve) => setTimeout(resolve, 50))) {
          moved = (await currentRunId(handle)) !== run;
        }
        const response = await airlock.awaitResponse(threadId);
        expect(response.state.status).toBe('idle');
        expect(response.content).toContain(`delete_file: delete_file done: {"path":"f${i}.txt"}`);
        expect(response.state.messages[0]).toEqual({ role: 'user', content: `delete the file f${i}.txt` });
        expect(response.state.interrupts).toEqual([expect.objectContaining({ id: interrupt.id, toolName: 'delete_file', resolution: expect.objectContaining({ type: 'accepted', approver: 'alice' }) })]);
        if (moved) break;
      }
      expect(fixture.ran('delete_file').length).toBeGreaterThan(0);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('the audit trail spans continue-as-new: decisions made in two runs come back in order, with their results', async () => {
  const { threadId, fixture, airlock, handle, withItsWorker } = deletionThread('audit-runs');

  await withItsWorker(async () => {
    try {
      // Run 1: a deletion, accepted by alice.
      const first = (await airlock.handleMessage(threadId, 'delete the file a.txt')).state.currentInterrupt!;
      expect(first).toMatchObject({ toolName: 'delete_file', toolArgs: { path: 'a.txt' } });
      const firstRun = await currentRunId(handle);
      expect((await airlock.decide(threadId, { interruptId: first.id, action: 'accept', approver: 'alice', reason: 'old file' })).type).toBe('applied');
      expect((await airlock.awaitResponse(threadId)).content).toContain('delete_file: delete_file done: {"path":"a.txt"}');

      // Unprotected calls until the thread has moved on to a new run.
      for (let i = 0; (await currentRunId(handle)) === firstRun; i++) {
        if (i === 10) throw new Error('the thread did not continue as new');
        await airlock.handleMessage(threadId, `call lookup with {"q":"filler ${i}"}`);
      }

      // A later run: another deletion, rejected by bob.
      const second = (await airlock.handleMessage(threadId, 'delete the file b.txt')).state.currentInterrupt!;
      expect(second).toMatchObject({ toolName: 'delete_file', toolArgs: { path: 'b.txt' } });
      const secondRun = await currentRunId(handle);
      expect(secondRun).not.toBe(firstRun);
      expect((await airlock.decide(threadId, { interruptId: second.id, action: 'reject', approver: 'bob', reason: 'keep b' })).type).toBe('applied');
      await airlock.awaitResponse(threadId);

      const trail = await airlock.auditTrail(threadId);
      expect(trail).toEqual([
        expect.objectContaining({
          interruptId: first.id,
          toolName: 'delete_file',
          toolArgs: { path: 'a.txt' },
          decision: 'accepted',
          approver: 'alice',
          reason: 'old file',
          policyNote: 'Deleting is irreversible',
          result: 'delete_file done: {"path":"a.txt"}',
        }),
        expect.objectContaining({
          interruptId: second.id,
          toolName: 'delete_file',
          toolArgs: { path: 'b.txt' },
          decision: 'rejected',
          approver: 'bob',
          reason: 'keep b',
        }),
      ]);
      expect(trail[1].result).toBeUndefined();
      expect(Date.parse(trail[0].timestamp)).toBeLessThanOrEqual(Date.parse(trail[1].createdAt));
      // The two decisions really live in different runs' histories.
      const runs = (await threadRuns(client, threadId)).map((run) => run.runId);
      expect(runs.indexOf(firstRun)).toBeLessThan(runs.indexOf(secondRun));
      expect(runs.indexOf(firstRun)).toBeGreaterThanOrEqual(0);

      // The thread completed: its trail reads the same.
      await airlock.endThread(threadId);
      await handle.result();
      expect(await airlock.auditTrail(threadId)).toEqual(trail);
      expect(fixture.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'a.txt' }]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

/** The agent of the message tests: no tools; its model (here and in the stop-at-continue-as-new worker) answers `echo: <message>`. */
const echoAgent = defineAgent({ name: 'echo', instructions: 'Repeat what you are told.', tools: [], interrupts: {} });

/**
 * The echo model, which holds its answer to one message until the test releases it and counts how
 * often it answered each message.
 */
function echoModel(held?: string) {
  const answered = new Map<string, number>();
  let release!: () => void;
  let holding!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const holds = new Promise<void>((resolve) => (holding = resolve));
  const model: ChatModel = {
    name: 'echo',
    async complete({ messages }) {
      const last = messages[messages.length - 1];
      if (last.role !== 'user') throw new Error(`echo model: expected a user message last, got ${last.role}`);
      if (last.content === held) {
        holding();
        await released;
      }
      answered.set(last.content, (answered.get(last.content) ?? 0) + 1);
      return reply(`echo: ${last.content}`);
    },
  };
  return { model, answered, holds, release };
}

/** The conversation of messages each answered by the echo model, in the given order. */
const echoed = (texts: string[]): ChatMessage[] =>
  texts.flatMap((text) => [
    { role: 'user' as const, content: text },
    { role: 'assistant' as const, content: `echo: ${text}` },
  ]);

/**
 * Sends messages to a thread by signal (`sendMessage`) or by Update (`handleMessage`), each only
 * once the thread has the one before, so the order they were sent in is the order they arrived in.
 */
function messenger(airlock: AirlockClient, threadId: string) {
  const decode = (payload: unknown) => client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload as never);
  const sent: string[] = [];
  const updates: Array<{ text: string; response: Promise<AgentResponse> }> = [];
  /** Whether the thread has accepted the sendMessage Update carrying `text` (in any of its runs; no thread yet: no). */
  const accepted = async (text: string) =>
    (await threadRuns(client, threadId).catch(() => [])).some((run) =>
      run.events.some((event) => {
        const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
        return request?.input?.name === sendMessageUpdate.name && decode(request.input.args?.payloads?.[0]) === text;
      }),
    );
  return {
    sent,
    updates,
    /** Sends and returns once the server has the signal, or the thread has accepted the Update (unless told not to wait). */
    async send(text: string, by: 'signal' | 'update', { waitForUpdate = true } = {}) {
      sent.push(text);
      if (by === 'signal') return airlock.sendMessage(threadId, text);
      updates.push({ text, response: airlock.handleMessage(threadId, text) });
      const deadline = Date.now() + 20_000;
      while (waitForUpdate && !(await accepted(text))) {
        if (Date.now() > deadline) throw new Error(`the thread did not accept '${text}'`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    },
    /** Every Update's response, checked to be the echo of its own message. */
    async expectUpdatesAnswered() {
      for (const { text, response } of updates) expect((await response).content).toBe(`echo: ${text}`);
    },
  };
}

test('messages queued by signal and by update while the thread is due to continue as new are each answered once, in order', async () => {
  const taskQueue = unique('queued-runs');
  const threadId = unique('thread');
  const slow = 'second (the model takes its time)';
  const echo = echoModel(slow);
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: echoAgent.name });
  const handle = airlock.handle(threadId);
  const messages = messenger(airlock, threadId);

  await withWorker({ agents: [echoAgent], model: echo.model, taskQueue, connection: nativeConnection }, async () => {
    try {
      await messages.send('first', 'update');
      const firstRun = await currentRunId(handle);

      // While the model works on the second message, more queue up, by signal and by Update, until
      // the server suggests continue-as-new for this run: the thread is due to move on.
      await messages.send(slow, 'signal');
      await echo.holds;
      for (let i = 1; i <= 4 || (await handle.fetchHistory()).events!.length < SUGGEST_CONTINUE_AS_NEW_AT; i++) {
        await messages.send(`queued ${i}`, i % 2 === 1 ? 'signal' : 'update');
      }
      expect(await currentRunId(handle)).toBe(firstRun);
      echo.release();

      await messages.expectUpdatesAnswered();
      expect((await airlock.awaitResponse(threadId)).state.status).toBe('idle');
      // One question, one answer, in the order sent; the model answered each message once.
      expect((await airlock.getState(threadId)).messages).toEqual(echoed(messages.sent));
      expect([...echo.answered.entries()]).toEqual(messages.sent.map((text) => [text, 1]));
      // The thread moved on to a new run, and goes on answering there.
      const runs = await threadRuns(client, threadId);
      expect(runs.length).toBeGreaterThan(1);
      expect(runs[0].runId).toBe(firstRun);
      expect((await airlock.handleMessage(threadId, 'after')).content).toBe('echo: after');
      expect((await airlock.getState(threadId)).messages).toEqual(echoed([...messages.sent, 'after']));
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

// Known defect: in a run's first workflow task, the SDK hands the workflow every Update before any
// signal (buffered until the workflow registers its handlers, sendMessage's first), so a signal that
// reached the new run before an Update is answered after it.
test.failing('messages that reach the new run before its first workflow task, a signal then an update, are answered in the order sent', async () => {
  const taskQueue = unique('new-run-order');
  const threadId = unique('thread');
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: echoAgent.name });
  const handle = airlock.handle(threadId);
  const messages = messenger(airlock, threadId);

  // A worker process that stops polling the moment the thread continues as new.
  const child = spawn(process.execPath, [path.join(__dirname, '../fixtures/stop-at-continue-as-new-worker.js')], {
    env: { ...process.env, AIRLOCK_ADDRESS: server.dev.address, AIRLOCK_TASK_QUEUE: taskQueue, AIRLOCK_BUNDLE: process.env.AIRLOCK_TEST_BUNDLE },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const echo = echoModel();
  try {
    await waitUntil(() => output.includes('ready') || child.exitCode !== null);
    expect(output).toContain('ready');
    for (let i = 1; !output.includes('continued-as-new'); i++) {
      if (i > 10) throw new Error('the thread did not continue as new');
      await messages.send(`before ${i}`, 'update');
      await messages.expectUpdatesAnswered();
    }
    await exited;
    // No worker runs: the new run has not had a workflow task yet.
    const [newRun] = (await threadRuns(client, threadId)).slice(-1);
    expect(newRun.events.some((event) => event.workflowTaskCompletedEventAttributes)).toBe(false);

    await messages.send('after, by signal', 'signal');
    await messages.send('after, by update', 'update', { waitForUpdate: false });
    await withWorker({ agents: [echoAgent], model: echo.model, taskQueue, connection: nativeConnection }, async () => {
      try {
        await messages.expectUpdatesAnswered();
        expect((await airlock.awaitResponse(threadId)).state.status).toBe('idle');
        expect((await airlock.getState(threadId)).messages).toEqual(echoed(messages.sent));
        expect([...echo.answered.keys()]).toEqual(['after, by signal', 'after, by update']);
      } finally {
        await endThreads(airlock, [threadId]);
      }
    });
    expect((await threadRuns(client, threadId)).length).toBeGreaterThan(1);
  } finally {
    child.kill('SIGKILL');
    await exited;
    await handle.terminate('test clean-up').catch(() => undefined);
  }
});

// Version 5 loads the settings as a run with grants starts, 4 as every run starts, 3 with the first
// model turn: the revocation waits for them, or, without them, only the granter may revoke.
test.each([5, 4, 3])("a run (input version %i) that carries a grant checks a revocation against the agent's approvers before any message reaches it", async (version) => {
  const taskQueue = unique('grant-approvers');
  const threadId = unique('thread');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'Only Alice deletes', approvers: ['alice'] } });
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: fixture.agent.name });
  const handle = airlock.handle(threadId);
  await client.workflow.start(AGENT_THREAD_WORKFLOW, { workflowId: threadId, taskQueue, args: [{ version, agent: fixture.agent.name } as ThreadInput] });
  await withWorker({ agents: [fixture.agent], model: new OfflineModel(), taskQueue, connection: nativeConnection }, async () => {
    try {
      const first = (await airlock.handleMessage(threadId, 'delete the file scratch/a.txt')).state.currentInterrupt!;
      const firstRun = await currentRunId(handle);
      await airlock.decide(threadId, { interruptId: first.id, action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/*' } } });
      await airlock.awaitResponse(threadId);
      for (let i = 0; (await currentRunId(handle)) === firstRun; i++) {
        if (i === 10) throw new Error('the thread did not continue as new');
        await airlock.handleMessage(threadId, `call lookup with {"q":"filler ${i}"}`);
      }
      // The new run has answered nothing yet: its settings came with its start.
      expect(await airlock.revokeGrant(threadId, `g-${first.id}`, 'mallory')).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed' });
      expect(await airlock.revokeGrant(threadId, `g-${first.id}`, 'alice')).toMatchObject({ type: 'revoked' });
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('an active grant carries over to the next run: a matching call in the new run runs without asking, and revoking it there works', async () => {
  const { threadId, fixture, airlock, handle, withItsWorker } = deletionThread('grant-runs');

  await withItsWorker(async () => {
    try {
      const first = (await airlock.handleMessage(threadId, 'delete the file scratch/a.txt')).state.currentInterrupt!;
      const firstRun = await currentRunId(handle);
      const outcome = await airlock.decide(threadId, { interruptId: first.id, action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/*' } } });
      expect(outcome.type).toBe('applied');
      await airlock.awaitResponse(threadId);
      for (let i = 0; (await currentRunId(handle)) === firstRun; i++) {
        if (i === 10) throw new Error('the thread did not continue as new');
        await airlock.handleMessage(threadId, `call lookup with {"q":"filler ${i}"}`);
      }
      expect((await airlock.handleMessage(threadId, 'delete the file scratch/b.txt')).state.status).toBe('idle');
      expect(fixture.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'scratch/a.txt' }, { path: 'scratch/b.txt' }]);
      expect((await airlock.getState(threadId)).grants).toEqual([expect.objectContaining({ id: `g-${first.id}`, uses: 1 })]);
      expect(await airlock.revokeGrant(threadId, `g-${first.id}`, 'alice')).toMatchObject({ type: 'revoked' });
      expect((await airlock.handleMessage(threadId, 'delete the file scratch/c.txt')).state.status).toBe('awaiting_approval');
      expect(fixture.ran('delete_file')).toHaveLength(2);
      // Read from history across both runs: one grant, one use, revoked.
      expect(await airlock.grants(threadId)).toEqual([expect.objectContaining({ id: `g-${first.id}`, uses: 1, ended: expect.objectContaining({ type: 'revoked', by: 'alice' }) })]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});
