/**
 * How a thread of this release runs its model turns is the worker's choice, recorded in history:
 * local activities (one marker each) for a model that answers at once, activities for one that
 * takes seconds, or whatever the agent says. Either way the thread answers the same, the audit
 * and the conversation read from history alone are whole, and a failed turn leaves it usable.
 */
import { AirlockClient } from '../../src/client';
import { AGENT_THREAD_WORKFLOW, type ThreadInput } from '../../src/core';
import { readConversationFromHistory } from '../../src/client/thread-history';
import { defineAgent } from '../../src/agents';
import type { ChatModel } from '../../src/models';
import { ModelRequestRejectedError, ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { isLocalModelTurn } from '../fixtures/threads';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/**
 * How the thread's model turns ran: callModel markers that answered or failed (local), that brought only the
 * settings (deferred: the agent's turns are activities), callModel activities, and loadAgent markers.
 */
async function modelTurnsOf(airlock: AirlockClient, threadId: string) {
  const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
  const converter = airlock.client.workflow.options.loadedDataConverter.payloadConverter;
  // A failed turn's marker holds its failure and no result.
  const results = events.filter(isLocalModelTurn).map((event) => {
    const payload = event.markerRecordedEventAttributes?.details?.result?.payloads?.[0];
    return payload ? converter.fromPayload<Record<string, unknown>>(payload) : {};
  });
  const deferred = results.filter((result) => result.deferred === true && result.spec).length;
  return {
    local: results.length - deferred,
    deferred,
    activities: events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel').length,
    settingsLoads: events.filter((event) => Buffer.from(event.markerRecordedEventAttributes?.details?.data?.payloads?.[0]?.data ?? []).toString().includes('"activity_type":"loadAgent"')).length,
  };
}

/** The agent's settings the thread's first model turn recorded (its marker, local or deferred). */
async function firstSettings(airlock: AirlockClient, threadId: string): Promise<Record<string, unknown>> {
  const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
  const converter = airlock.client.workflow.options.loadedDataConverter.payloadConverter;
  const payload = events.find(isLocalModelTurn)?.markerRecordedEventAttributes?.details?.result?.payloads?.[0];
  return (payload ? converter.fromPayload<{ spec?: Record<string, unknown> }>(payload).spec : undefined) ?? {};
}

/** The tool results local model turns echoed, and whether with their text. */
async function toolResultsEchoed(airlock: AirlockClient, threadId: string) {
  const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
  const converter = airlock.client.workflow.options.loadedDataConverter.payloadConverter;
  return events.filter(isLocalModelTurn).flatMap((event) => {
    const payload = event.markerRecordedEventAttributes?.details?.result?.payloads?.[0];
    const given = payload ? converter.fromPayload<{ given?: { added: Array<Record<string, unknown>> } }>(payload).given : undefined;
    return (given?.added ?? []).filter((message) => message.role === 'tool').map((message) => ({ withText: 'content' in message }));
  });
}

/** One protected call, approved, then the answer; the conversation and audit read from history. */
async function approvedCall(model: ChatModel, agentTurns?: 'local' | 'activity') {
  const taskQueue = unique('model-turns');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const agent = agentTurns ? defineAgent({ ...fixture.agent, modelTurns: agentTurns }) : fixture.agent;
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });
  const threadId = unique('thread');
  return withWorker({ agents: [agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const first = await airlock.handleMessage(threadId, 'delete /tmp/a');
      expect(first.state.currentInterrupt?.toolName).toBe('delete_file');
      const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
      expect(final.content).toBe('Deleted.');
      expect(fixture.ran('delete_file')).toHaveLength(1);
      const conversation = await readConversationFromHistory(server.client, threadId);
      expect(conversation.map((message) => message.role)).toEqual(['user', 'assistant', 'tool', 'assistant']);
      expect(conversation[2].content).toBe('delete_file done: {"path":"/tmp/a"}');
      const [entry] = await airlock.auditTrail(threadId);
      expect(entry).toMatchObject({ toolName: 'delete_file', decision: 'accepted', approver: 'alice', toolArgs: { path: '/tmp/a' }, policy: protectedPolicy() });
      // History holds the tool's output once: a local turn echoes the result without its text (the reader above put it back).
      const turns = await modelTurnsOf(airlock, threadId);
      expect(await toolResultsEchoed(airlock, threadId)).toEqual(turns.local > 0 ? [{ withText: false }] : []);
      // The settings recorded are what the thread reads: no name, instructions or tool list.
      expect(Object.keys(await firstSettings(airlock, threadId)).sort()).toEqual(['interrupts', 'modelTurns']);
      return turns;
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
}

const script = () => new ScriptedModel([callTools(['delete_file', { path: '/tmp/a' }]), reply('Deleted.')]);

test('a model that answers at once (the scripted model) runs its turns as local activities: one marker each, no activity, the settings with the first', async () => {
  expect(await approvedCall(script())).toEqual({ local: 2, deferred: 0, activities: 0, settingsLoads: 0 });
});

test('a thread of input version 5 records its local turns whole, as a worker of the release before, which may replay them, reads them', async () => {
  const taskQueue = unique('model-turns');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  await withWorker({ agents: [fixture.agent], model: script(), taskQueue, connection: server.nativeConnection }, async () => {
    try {
      await server.client.workflow.start(AGENT_THREAD_WORKFLOW, { workflowId: threadId, taskQueue, args: [{ version: 5, agent: fixture.agent.name } as ThreadInput] });
      await airlock.handleMessage(threadId, 'delete /tmp/a');
      await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
      const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
      const converter = airlock.client.workflow.options.loadedDataConverter.payloadConverter;
      const results = events.filter(isLocalModelTurn).map((event) => converter.fromPayload<Record<string, any>>(event.markerRecordedEventAttributes!.details!.result!.payloads![0]));
      expect(results).toHaveLength(2);
      expect(results[0].toolCalls).toEqual([{ id: expect.any(String), name: 'delete_file', status: 'valid', args: { path: '/tmp/a' }, policy: protectedPolicy() }]);
      expect(results[1].toolCalls).toEqual([]);
      // ... and its tool results echoed with their text.
      expect(results[1].given.added).toEqual([expect.objectContaining({ role: 'tool', content: 'delete_file done: {"path":"/tmp/a"}' })]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test("a model that says its turns take seconds runs them as activities; an agent's modelTurns overrides its model", async () => {
  const slow = script();
  const asActivity: ChatModel = { name: 'slow', turns: 'activity', complete: (request) => slow.complete(request) };
  // The first turn's local activity finds the turns are activities: it brings the settings alone.
  expect(await approvedCall(asActivity)).toEqual({ local: 0, deferred: 1, activities: 2, settingsLoads: 0 });
  expect(await approvedCall(script(), 'activity')).toEqual({ local: 0, deferred: 1, activities: 2, settingsLoads: 0 });
});

test('a local model turn that fails for good leaves the thread usable, with the reason in lastError', async () => {
  const taskQueue = unique('model-turns');
  const fixture = recordingAgent({});
  const model = new ScriptedModel([
    () => {
      throw new ModelRequestRejectedError('The provider refused the request', 400);
    },
    reply('Back again.'),
  ]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const failed = await airlock.handleMessage(threadId, 'first');
      expect(failed.state.lastError).toMatchObject({ type: 'ModelRequestRejected', message: 'The provider refused the request' });
      const answered = await airlock.handleMessage(threadId, 'second');
      expect(answered.content).toBe('Back again.');
      expect(await modelTurnsOf(airlock, threadId)).toEqual({ local: 2, deferred: 0, activities: 0, settingsLoads: 0 });
      // The failed turn recorded nothing: what it was given is echoed by the next, so the
      // conversation read from history alone is the thread's own.
      const { messages } = await airlock.getState(threadId);
      expect(messages.map((message) => message.content)).toEqual(['first', 'second', 'Back again.']);
      expect(await readConversationFromHistory(server.client, threadId)).toEqual(messages);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test("a worker that does not host the thread's agent hands the first turn to an activity, which a worker that does host it answers", async () => {
  const taskQueue = unique('model-turns');
  const fixture = recordingAgent({});
  const other = recordingAgent({}, 'other');
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  try {
    // This worker hosts another agent only: the local turn finds no agent, the activity neither.
    await withWorker({ agents: [other.agent], model: new ScriptedModel([]), taskQueue, connection: server.nativeConnection }, async () => {
      const failed = await airlock.handleMessage(threadId, 'first');
      expect(failed.state.lastError).toMatchObject({ type: 'AgentNotFound' });
      expect(await modelTurnsOf(airlock, threadId)).toEqual({ local: 1, deferred: 0, activities: 1, settingsLoads: 0 });
    });
    await withWorker({ agents: [fixture.agent], model: new ScriptedModel([reply('Here now.')]), taskQueue, connection: server.nativeConnection }, async () => {
      const answered = await airlock.handleMessage(threadId, 'second');
      expect(answered.content).toBe('Here now.');
      expect(answered.state.lastError).toBeUndefined();
      await endThreads(airlock, [threadId]);
    });
  } finally {
    await airlock.endThread(threadId).catch(() => undefined);
  }
});

test('defineAgent refuses a modelTurns it does not know', () => {
  const { agent } = recordingAgent({});
  expect(() => defineAgent({ ...agent, modelTurns: 'remote' as never })).toThrow("modelTurns must be 'local' or 'activity'");
});
