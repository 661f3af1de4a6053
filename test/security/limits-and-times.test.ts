/**
 * Large inputs fail at once with a clear message, not after minutes of retries; and the audit's
 * times are the real ones: a timeout is dated by its deadline even when no worker ran then.
 */
import { z } from 'zod';
import { AirlockClient } from '../../src/client';
import { LIMITS } from '../../src/core';
import type { ChatMessage } from '../../src/core';
import { defineAgent } from '../../src/agents';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { defineTool } from '../../src/tools';
import { createWorker } from '../../src/worker';
import { connectToDevServer, quietRuntime, unique, withWorker, workflowBundle } from '../helpers';
import { recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const toolText = (messages: ChatMessage[]) => messages.filter((m) => m.role === 'tool').map((m) => m.content);

test('oversized messages, arguments, replies and tool results are refused at once with a clear message', async () => {
  const taskQueue = unique('limits');
  const big = defineTool({ name: 'dump', description: 'Returns a lot', parameters: z.object({}), execute: () => 'x'.repeat(LIMITS.toolResultChars + 1) });
  const fixture = recordingAgent({ send_email: { allowAuto: false } });
  const agent = defineAgent({ name: 'limits', instructions: 'x', tools: [...fixture.agent.tools, big], interrupts: { send_email: { allowAuto: false } } });
  const model = new ScriptedModel([
    callTools(['send_email', { to: 'a@b.co', subject: 's', body: 'y'.repeat(1_500_000) }]),
    reply('too big, sorry'),
    callTools(['dump', {}]),
    reply('that was a lot'),
    reply('z'.repeat(LIMITS.modelTextChars + 1)),
  ]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'limits' });
  await withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const threadId = unique('thread');
    const tooLong = await airlock.handleMessage(threadId, 'm'.repeat(LIMITS.messageChars + 1)).catch((err) => err);
    expect(tooLong).toMatchObject({ name: 'MessageInvalid', message: `A message may have at most ${LIMITS.messageChars} characters` });

    const first = await airlock.handleMessage(threadId, 'send a huge email');
    expect(first.content).toBe('too big, sorry');
    expect(first.state.interrupts).toHaveLength(0);
    expect(toolText(model.requests[1].messages)[0]).toMatch(/^Error \(ToolArgumentsInvalid\): Arguments for send_email are 1\.5 M characters; at most 64 K characters are accepted/);

    const second = await airlock.handleMessage(threadId, 'dump it');
    expect(second.content).toBe('that was a lot');
    expect(toolText(model.requests[3].messages).at(-1)).toMatch(/^Error \(ToolResultTooLarge\): dump ran, but its result .* is over/);

    const third = await airlock.handleMessage(threadId, 'say a lot');
    expect(third.state.lastError).toMatchObject({ type: 'ModelResponseTooLarge' });
    expect(third.state.lastError!.message).toMatch(/a turn may hold at most/);
  });
  // Every model call happened exactly once: nothing was retried.
  expect(model.requests).toHaveLength(5);
  expect(fixture.runs).toHaveLength(0);
});

test("a model reply under the character limit but over a megabyte of UTF-8 (Temporal counts bytes) fails the turn with a clear message, and the thread goes on", async () => {
  const taskQueue = unique('limits-bytes');
  const fixture = recordingAgent({ send_email: { allowAuto: false } });
  // 20 calls of 20,000 three-byte characters: 400 K characters, 1.2 MB.
  const calls = Array.from({ length: 20 }, (_, index): [string, unknown] => ['send_email', { to: 'a@b.co', subject: `s${index}`, body: '中'.repeat(20_000) }]);
  const model = new ScriptedModel([callTools(...calls), reply('still here')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const threadId = unique('thread');
    const first = await airlock.handleMessage(threadId, 'send twenty long emails');
    expect(first.state.interrupts).toHaveLength(0);
    expect(first.state.lastError).toMatchObject({ type: 'ModelResponseTooLarge' });
    expect(first.state.lastError!.message).toMatch(/ K characters \(\d\.\d MB\); a turn may hold at most 1\.0 M characters and 1\.0 MB$/);
    expect((await airlock.handleMessage(threadId, 'hello?')).content).toBe('still here');
  });
  expect(fixture.runs).toHaveLength(0);
});

test.each(['local', 'activity'] as const)("with modelTurns '%s', tool results that add up to more than a payload may hold reach the model whole; the reply carries the longest shortened, and the thread goes on", async (modelTurns) => {
  const taskQueue = unique('limits-reply');
  // Four results of 190,000 three-byte characters: 2.3 MB in one exchange.
  const read = defineTool({ name: 'read', description: 'Reads a file', parameters: z.object({ file: z.string() }), execute: ({ file }) => `${file}:${'中'.repeat(190_000)}` });
  const agent = defineAgent({ name: 'reader', instructions: 'Read files.', tools: [read], interrupts: {}, modelTurns });
  const model = new ScriptedModel([callTools(...['a', 'b', 'c', 'd'].map((file): [string, unknown] => ['read', { file }])), reply('Read all four.'), reply('Still here.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'reader' });
  await withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const threadId = unique('thread');
    const response = await airlock.handleMessage(threadId, 'read a, b, c and d');
    expect(response.content).toBe('Read all four.');
    const results = toolText(response.state.messages);
    expect(results.map((text) => text.slice(0, 2))).toEqual(['a:', 'b:', 'c:', 'd:']);
    const shortened = results.filter((text) => /\n\[\d+ more characters are in the thread \(getState\) but not in this reply\]$/.test(text));
    expect(shortened.length).toBeGreaterThanOrEqual(2);
    expect(Buffer.byteLength(JSON.stringify(response.state.messages))).toBeLessThanOrEqual(1_000_000);
    // The model read every result whole.
    expect(toolText(model.requests[1].messages).map((text) => text.length)).toEqual([190_002, 190_002, 190_002, 190_002]);
    expect((await airlock.handleMessage(threadId, 'anything else?')).content).toBe('Still here.');
  });
});

test('a timeout whose deadline passes with no worker up is dated by the deadline, and so is a late refusal', async () => {
  const taskQueue = unique('times');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, timeout: '2s' } });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'a' }]), reply('timed out, not deleted')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' });
  const threadId = unique('thread');
  const worker = (identity: string) =>
    createWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle(), workerOptions: { identity, maxCachedWorkflows: 0 } });
  const first = await worker('first-worker');
  const interrupt = await first.runUntil(async () => (await airlock.handleMessage(threadId, 'delete a')).state.currentInterrupt!);

  // No worker runs now. Wait until the server has fired the timer, then some more.
  const events = async () => (await airlock.handle(threadId).fetchHistory()).events ?? [];
  for (let tries = 0; !(await events()).some((event) => event.timerFiredEventAttributes); tries++) {
    if (tries > 100) throw new Error('the timer did not fire');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  await new Promise((resolve) => setTimeout(resolve, 2_000));
  const secondStarted = new Date().toISOString();
  const second = await worker('second-worker');
  await second.runUntil(async () => {
    // The fired timer and this Update may reach the thread in one task; the answer follows at once.
    let response = await airlock.awaitResponse(threadId);
    while (response.state.status === 'awaiting_approval') response = await airlock.awaitResponse(threadId);
    expect(response.content).toBe('timed out, not deleted');
    const late = await airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' });
    expect(late).toMatchObject({ type: 'refused', errorType: 'InterruptTimedOut', reason: `Interrupt '${interrupt.id}' timed out at ${interrupt.deadline} and was resolved as 'reject'` });
  });
  const [entry, refusal] = await airlock.auditTrail(threadId);
  expect(entry).toMatchObject({ decision: 'timed-out', timestamp: interrupt.deadline, outcome: 'reject' });
  expect(entry.timestamp < secondStarted).toBe(true);
  expect(refusal).toMatchObject({ decision: 'refused', via: 'update', refusal: { errorType: 'InterruptTimedOut' } });
  expect(fixture.runs).toHaveLength(0);
});
