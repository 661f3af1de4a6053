/**
 * A thread end to end through Temporal with the real `openai` client (`OpenAIChatModel`) talking to
 * a local chat-completions server: the wire messages of a tool call approved by a person,
 * and how the model activity's failures reach the thread (401 not retried, 429 retried).
 */
import { temporal as proto } from '@temporalio/proto';
import { AirlockClient } from '../../src/client';
import { OpenAIChatModel } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, quietRuntime, unique, withWorker } from '../helpers';
import { apiError, completion, startChatCompletionsServer, type ChatCompletionsServer, type Reply } from './chat-completions-server';

type HistoryEvent = proto.api.history.v1.IHistoryEvent;

/** A request body as the server received it. */
interface WireRequest {
  model: string;
  messages: Array<Record<string, unknown>>;
  tools?: Array<{ type: string; function: { name: string; description: string; parameters: unknown } }>;
}

/** One test's endpoint: the replies it plays in order and the requests it received. */
interface Route {
  replies: Reply[];
  received: Array<{ url: string; body: WireRequest; at: number }>;
}

let temporal: Awaited<ReturnType<typeof connectToDevServer>>;
let server: ChatCompletionsServer;
/** Each test has its own path prefix, so a late request of one test is never counted by another. */
const routes = new Map<string, Route>();

beforeAll(async () => {
  quietRuntime();
  temporal = await connectToDevServer();
  server = await startChatCompletionsServer(({ method, url, body, at }) => {
    const route = routes.get(url.split('/')[1]);
    route?.received.push({ url, body: body as WireRequest, at });
    return route?.replies.shift() ?? apiError(500, `Nothing scripted for ${method} ${url}`);
  });
});

afterAll(async () => {
  await server?.close();
  await temporal?.close();
});

/** A thread whose worker runs `OpenAIChatModel` against a fresh route of the local server. */
function setup(replies: Reply[]) {
  const prefix = unique('route');
  const route: Route = { replies: [...replies], received: [] };
  routes.set(prefix, route);
  const taskQueue = unique('openai-thread');
  const fixture = recordingAgent({ delete_file: protectedPolicy('Deleting is irreversible') });
  const model = new OpenAIChatModel({ apiKey: 'sk-test-key', baseURL: `${server.origin}/${prefix}/v1`, model: 'test-model' });
  const airlock = new AirlockClient({ client: temporal.client, taskQueue, defaultAgent: fixture.agent.name });
  const run = <T>(fn: () => Promise<T>) =>
    withWorker({ agents: [fixture.agent], model, taskQueue, connection: temporal.nativeConnection }, fn);
  return { ...fixture, route, airlock, run, threadId: unique('thread') };
}

/** The `callModel` activity's events in a thread's history. */
async function modelActivityEvents(airlock: AirlockClient, threadId: string) {
  const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
  const scheduledIds = new Set(
    events
      .filter((e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'callModel')
      .map((e) => String(e.eventId)),
  );
  const of = (e: HistoryEvent) =>
    String(
      e.activityTaskStartedEventAttributes?.scheduledEventId ??
        e.activityTaskCompletedEventAttributes?.scheduledEventId ??
        e.activityTaskFailedEventAttributes?.scheduledEventId ??
        '',
    );
  const mine = events.filter((e) => scheduledIds.has(of(e)));
  return {
    all: events,
    scheduled: scheduledIds.size,
    started: mine.flatMap((e) => (e.activityTaskStartedEventAttributes ? [e.activityTaskStartedEventAttributes] : [])),
    failed: mine.flatMap((e) => (e.activityTaskFailedEventAttributes ? [e.activityTaskFailedEventAttributes] : [])),
  };
}

test('a protected tool call from the API is approved, and the next request carries the call and its result', async () => {
  const t = setup([
    completion(
      {
        content: null,
        tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'delete_file', arguments: '{"path":"notes.txt"}' } }],
      },
      'tool_calls',
    ),
    completion({ content: 'I deleted notes.txt.' }),
  ]);
  await t.run(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'Please delete notes.txt');

    expect(first.content).toBe('');
    expect(first.state.status).toBe('awaiting_approval');
    expect(first.state.currentInterrupt).toMatchObject({
      toolName: 'delete_file',
      toolArgs: { path: 'notes.txt' },
      toolCallId: 'call_abc123',
      policyNote: 'Deleting is irreversible',
    });
    expect(t.runs).toHaveLength(0);
    expect(t.route.received).toHaveLength(1);
    const [turn1] = t.route.received;
    expect(turn1.url).toMatch(/\/v1\/chat\/completions$/);
    expect(turn1.body.model).toBe('test-model');
    expect(turn1.body.messages).toEqual([
      { role: 'system', content: 'Test agent.' },
      { role: 'user', content: 'Please delete notes.txt' },
    ]);
    expect(turn1.body.tools?.map((tool) => tool.function.name)).toEqual(['delete_file', 'send_email', 'lookup']);
    expect(turn1.body.tools?.[0]).toMatchObject({
      type: 'function',
      function: { name: 'delete_file', description: 'Delete a file', parameters: { type: 'object', properties: { path: { type: 'string' } } } },
    });

    const final = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'alice' });

    expect(final.content).toBe('I deleted notes.txt.');
    expect(final.state.status).toBe('idle');
    expect(final.state.turn).toBe(2);
    expect(t.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'notes.txt' }]);
    expect(t.ran('delete_file')[0].context).toMatchObject({ toolCallId: 'call_abc123', idempotencyKey: `${t.threadId}/1/call_abc123` });
    expect(t.route.received).toHaveLength(2);
    expect(t.route.received[1].body.messages).toEqual([
      { role: 'system', content: 'Test agent.' },
      { role: 'user', content: 'Please delete notes.txt' },
      {
        role: 'assistant',
        content: null,
        tool_calls: [{ id: 'call_abc123', type: 'function', function: { name: 'delete_file', arguments: '{"path":"notes.txt"}' } }],
      },
      { role: 'tool', tool_call_id: 'call_abc123', content: 'delete_file done: {"path":"notes.txt"}' },
    ]);
    expect(final.state.messages).toEqual([
      { role: 'user', content: 'Please delete notes.txt' },
      { role: 'assistant', content: '', toolCalls: [{ id: 'call_abc123', name: 'delete_file', arguments: '{"path":"notes.txt"}' }] },
      { role: 'tool', toolCallId: 'call_abc123', name: 'delete_file', content: 'delete_file done: {"path":"notes.txt"}' },
      { role: 'assistant', content: 'I deleted notes.txt.' },
    ]);
  });
});

test('a rejected key (401) fails the model activity once, without retries; the thread stays usable', async () => {
  const t = setup([apiError(401, 'Incorrect API key provided.'), completion({ content: 'Hello again!' })]);
  await t.run(async () => {
    const response = await t.airlock.handleMessage(t.threadId, 'hi');

    // What the user sees: no answer, the reason, and a thread that is still idle (not failed).
    expect(response.content).toBe('');
    expect(response.state.status).toBe('idle');
    expect(response.state.messages).toEqual([{ role: 'user', content: 'hi' }]);
    expect(response.state.lastError).toMatchObject({
      type: 'ModelRequestRejected',
      message: 'OpenAI request rejected (401): Incorrect API key provided.',
    });
    expect(t.route.received).toHaveLength(1);

    // What the history says: one attempt, failed as non-retryable with the Airlock error type.
    const model = await modelActivityEvents(t.airlock, t.threadId);
    expect(model.scheduled).toBe(1);
    expect(model.started.map((e) => e.attempt)).toEqual([1]);
    expect(model.failed).toHaveLength(1);
    expect(model.failed[0].failure?.applicationFailureInfo).toMatchObject({ type: 'ModelRequestRejected', nonRetryable: true });
    expect(model.failed[0].failure?.message).toBe('OpenAI request rejected (401): Incorrect API key provided.');
    expect(model.failed[0].retryState).toBe(proto.api.enums.v1.RetryState.RETRY_STATE_NON_RETRYABLE_FAILURE);
    expect(model.all.some((e) => e.workflowTaskFailedEventAttributes)).toBe(false);
    expect((await t.airlock.handle(t.threadId).describe()).status.name).toBe('RUNNING');

    // Once the provider accepts requests again, the next message is answered.
    const next = await t.airlock.handleMessage(t.threadId, 'are you there?');
    expect(next.content).toBe('Hello again!');
    expect(next.state.lastError).toBeUndefined();
    expect(t.route.received).toHaveLength(2);
    // The unanswered message stays in the conversation the model sees.
    expect(t.route.received[1].body.messages).toEqual([
      { role: 'system', content: 'Test agent.' },
      { role: 'user', content: 'hi' },
      { role: 'user', content: 'are you there?' },
    ]);
  });
});

test('a rate limit (429, retry-after: 1) is retried after the delay the server asked for, and the thread answers', async () => {
  const t = setup([apiError(429, 'Rate limit reached.', { 'retry-after': '1' }), completion({ content: 'Hello!' })]);
  await t.run(async () => {
    const response = await t.airlock.handleMessage(t.threadId, 'hi');

    expect(response.content).toBe('Hello!');
    expect(response.state.lastError).toBeUndefined();
    expect(response.state.turn).toBe(1);
    expect(t.route.received).toHaveLength(2);
    expect(t.route.received[1].body).toEqual(t.route.received[0].body);
    expect(t.route.received[1].at - t.route.received[0].at).toBeGreaterThanOrEqual(900);

    // One activity, two attempts: the second started after a failure carrying the server's delay.
    const model = await modelActivityEvents(t.airlock, t.threadId);
    expect(model.scheduled).toBe(1);
    expect(model.failed).toHaveLength(0);
    expect(model.started).toHaveLength(1);
    expect(model.started[0].attempt).toBe(2);
    expect(model.started[0].lastFailure?.message).toBe('OpenAI unavailable (429): Rate limit reached.');
    expect(model.started[0].lastFailure?.applicationFailureInfo).toMatchObject({ type: 'ModelUnavailable' });
    expect(Number(model.started[0].lastFailure?.applicationFailureInfo?.nextRetryDelay?.seconds)).toBe(1);
  });
});
