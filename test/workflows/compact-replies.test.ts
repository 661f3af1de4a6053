/**
 * Replies are written into history: Airlock's client asks for the compact form and gets the full
 * response back; a caller that does not ask (an older client, `executeUpdate` by hand) gets the
 * full form; a malformed reply option is refused before anything is written.
 */
import { AirlockClient } from '../../src/client';
import { awaitResponseReplyUpdate, decideReplyUpdate, sendMessageReplyUpdate, sendMessageUpdate, type AgentResponse } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/** Each Update's id, name and decoded result, from the thread's history. */
async function updatesOf(airlock: AirlockClient, threadId: string) {
  const converter = server.client.workflow.options.loadedDataConverter.payloadConverter;
  const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
  const names = new Map<string, string>();
  const updates: Array<{ id: string; name: string; result: Record<string, unknown> }> = [];
  for (const event of events) {
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted) names.set(accepted.meta!.updateId!, accepted.input!.name!);
    const completed = event.workflowExecutionUpdateCompletedEventAttributes;
    if (completed) {
      const id = completed.meta!.updateId!;
      updates.push({ id, name: names.get(id)!, result: converter.fromPayload(completed.outcome!.success!.payloads![0]) });
    }
  }
  return updates;
}

function setUp() {
  const taskQueue = unique('compact-replies');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const model = () => new ScriptedModel([callTools(['delete_file', { path: '/tmp/a' }]), reply('Deleted.')]);
  const worker = (fn: () => Promise<void>) => withWorker({ agents: [fixture.agent], model: model(), taskQueue, connection: server.nativeConnection }, fn);
  return { airlock, fixture, worker };
}

test("the client's replies are compact in history and whole in its hands", async () => {
  const { airlock, fixture, worker } = setUp();
  const threadId = unique('thread');
  await worker(async () => {
    try {
      const first = await airlock.handleMessage(threadId, 'delete /tmp/a');
      const state = await airlock.getState(threadId);
      // What the reply left out is back: the thread id, the message sent, the interrupt as the thread holds it.
      expect(first.state.threadId).toBe(threadId);
      expect(first.state.messages).toEqual(state.messages);
      expect(first.state.currentInterrupt).toEqual(state.pendingInterrupts[0]);
      expect(first.state.currentInterrupt).toMatchObject({ toolCallId: expect.any(String), argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/), callDigest: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
      expect(final.content).toBe('Deleted.');
      expect(final.state.messages.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      expect(final.state.interrupts).toEqual((await airlock.getState(threadId)).interrupts);
      expect(fixture.ran('delete_file')).toHaveLength(1);

      const updates = await updatesOf(airlock, threadId);
      expect(updates.map((update) => update.name)).toEqual(['sendMessage', 'decide', 'awaitResponse']);
      const [sent, decided, awaited] = updates;
      // The decision's outcome leaves out what its request and Update id hold; the audit puts them back.
      expect(decided.result).toEqual({ form: 3, resolution: { at: expect.any(String) } });
      const [entry] = await airlock.auditTrail(threadId);
      expect(entry).toMatchObject({ interruptId: first.state.currentInterrupt!.id, decision: 'accepted', approver: 'alice', via: 'update', sender: expect.any(String) });
      expect(sent.result).toMatchObject({ form: 4, sent: 1 });
      expect(sent.result.state).not.toHaveProperty('status');
      // The client said what it held since the first reply, and its decision's resolution: the second leaves them out.
      expect(awaited.result).toMatchObject({ form: 4, known: 2 });
      expect(JSON.stringify(awaited.result)).not.toMatch(/delete \/tmp\/a|toolArgs|createdAt|resolution|alice/);
      for (const { result } of [sent, awaited]) expect(JSON.stringify(result)).not.toMatch(/argsDigest|callDigest|threadId/);
      // Form 3 leaves out the arguments the model wrote in the reply's own messages.
      expect(JSON.stringify(sent.result)).not.toMatch(/toolArgs/);
      // A client that holds nothing of the thread gets the whole exchange, the same as the one that did.
      const fresh = new AirlockClient({ client: server.client, taskQueue: 'unused' });
      expect(await fresh.awaitResponse(threadId)).toEqual(final);
      const again = (await updatesOf(airlock, threadId)).pop()!;
      expect(again.result).not.toHaveProperty('known');
      expect(again.result).toMatchObject({ state: { messages: [{ role: 'user', content: 'delete /tmp/a' }, {}, {}, {}] } });
      // Update ids are written four times each: the client's are short.
      for (const update of updates) expect(update.id.length).toBeLessThanOrEqual(13);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test("a client of the release before (form 2) gets each interrupt's arguments, which it reads", async () => {
  const { airlock, worker } = setUp();
  const threadId = unique('thread');
  await worker(async () => {
    try {
      await airlock.startThread({ threadId, agent: 'recorder' });
      const reply = await airlock.handle(threadId).executeUpdate(sendMessageReplyUpdate, { args: ['delete /tmp/a', { form: 2 }] });
      expect(reply).toMatchObject({ form: 2, state: { pendingInterrupts: [{ toolArgs: { path: '/tmp/a' } }] } });
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('a caller that asks for no reply form gets the full response, in history too', async () => {
  const { airlock, worker } = setUp();
  const threadId = unique('thread');
  await worker(async () => {
    try {
      await airlock.startThread({ threadId, agent: 'recorder' });
      const response: AgentResponse = await airlock.handle(threadId).executeUpdate(sendMessageUpdate, { args: ['delete /tmp/a'] });
      expect(response.state).toMatchObject({ threadId, messages: [{ role: 'user', content: 'delete /tmp/a' }, { role: 'assistant' }] });
      expect(response.state.pendingInterrupts[0]).toMatchObject({ argsDigest: expect.any(String), callDigest: expect.any(String), toolCallId: expect.any(String) });
      const [recorded] = await updatesOf(airlock, threadId);
      expect(recorded.result).not.toHaveProperty('form');
      expect(recorded.result).toEqual(JSON.parse(JSON.stringify(response)));
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('a malformed reply option is refused without being repeated, and nothing is written', async () => {
  const { airlock, worker } = setUp();
  const threadId = unique('thread');
  const marker = 'HOSTILE-<script>';
  await worker(async () => {
    try {
      await airlock.startThread({ threadId, agent: 'recorder' });
      const handle = airlock.handle(threadId);
      const sends = [{ form: marker }, { form: 2, [marker]: 1 }, [2], { form: 1.5 }].map((options) =>
        handle.executeUpdate(sendMessageReplyUpdate, { args: ['delete /tmp/a', options as never] }),
      );
      const awaits = [[{ form: 0 }], [marker], [{ form: 2 }, marker], [{ form: 2 }, `0:1:1:${'a'.repeat(15)}`], [{ form: 2, known: '0:1:1:0123456789abcdef' }]].map((args) =>
        handle.executeUpdate(awaitResponseReplyUpdate, { args: args as never }),
      );
      for (const settled of await Promise.allSettled([...sends, ...awaits])) {
        const error = settled.status === 'rejected' ? (settled.reason as Error & { cause?: Error & { type?: string } }) : undefined;
        expect(error?.cause).toMatchObject({ type: 'MessageInvalid', message: expect.stringMatching(/^(Reply options must be \{ form: <a whole number from 1> \}|What the client holds must be as its knowledgeOf gives it .*)$/) });
        expect(JSON.stringify(error)).not.toContain(marker);
      }
      expect(await updatesOf(airlock, threadId)).toEqual([]);
      expect((await airlock.getState(threadId)).messages).toEqual([]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test("a decision's malformed reply option is refused as an invalid decision, without being repeated, and the interrupt still waits", async () => {
  const { airlock, fixture, worker } = setUp();
  const threadId = unique('thread');
  const marker = 'HOSTILE-<script>';
  await worker(async () => {
    try {
      const first = await airlock.handleMessage(threadId, 'delete /tmp/a');
      const interruptId = first.state.currentInterrupt!.id;
      const decision = { interruptId, action: 'accept', approver: 'alice' };
      const handle = airlock.handle(threadId);
      for (const options of [{ form: marker }, { form: 2, [marker]: 1 }, [2], { form: 0 }]) {
        const error = await handle.executeUpdate(decideReplyUpdate, { args: [decision, options] as never }).then(
          () => undefined,
          (err: Error & { cause?: Error & { type?: string } }) => err,
        );
        expect(error?.cause).toMatchObject({ type: 'DecisionInvalid', message: 'Reply options must be { form: <a whole number from 1> }' });
        expect(JSON.stringify(error)).not.toContain(marker);
      }
      // Nothing was applied or written (history holds the message's Update alone): the interrupt
      // waits, and a well-formed decision still lands.
      expect((await updatesOf(airlock, threadId)).map((update) => update.name)).toEqual([sendMessageUpdate.name]);
      expect((await airlock.getState(threadId)).currentInterrupt?.id).toBe(interruptId);
      expect(fixture.runs).toEqual([]);
      expect(await airlock.decide(threadId, { interruptId, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});
