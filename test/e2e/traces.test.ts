/**
 * Traces: a worker made with `tracing` (and a bundle built with `bundleAirlockWorkflows({ tracing:
 * true })`) sends its spans over OTLP HTTP to a local receiver. One message's model turns, the
 * approval it waited for (with the interrupt, the tool, the outcome and the approver) and the tool
 * call it led to arrive as spans of one trace, begun by the client that sent the message.
 */
import { Client } from '@temporalio/client';
import { OpenTelemetryWorkflowClientInterceptor } from '@temporalio/interceptors-opentelemetry';
import { SPANS, SPAN_ATTRIBUTES } from '../../src/core';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { startTracing, type Tracing } from '../../src/telemetry/tracing';
import { Worker } from '@temporalio/worker';
import { bundleAirlockWorkflows, createWorker } from '../../src/worker';
import { tracingWorkerOptions } from '../../src/worker/worker-tracing';
import { connectToDevServer, quietRuntime, unique, workflowBundle } from '../helpers';
import { recordingAgent, protectedPolicy } from '../fixtures';
import { startOtlpReceiver, type ReceivedSpan } from './otlp-receiver';

let server: Awaited<ReturnType<typeof connectToDevServer>>;
let receiver: Awaited<ReturnType<typeof startOtlpReceiver>>;
let tracing: Tracing;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
  receiver = await startOtlpReceiver();
  tracing = startTracing({ endpoint: receiver.url, serviceName: 'airlock-trace-test', flushDelayMs: 100 });
});
afterAll(async () => {
  await tracing?.shutdown();
  await receiver?.close();
  await server?.close();
});

/** Polls the receiver until `find` returns something. */
async function received<T>(find: (spans: ReceivedSpan[]) => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const found = find(receiver.spans);
    if (found !== undefined) return found;
    if (Date.now() > deadline) throw new Error(`not received in time; spans: ${receiver.spans.map((span) => span.name).join(', ')}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

test("one message's model turns, approval and tool call are spans of one trace, sent as OTLP JSON", async () => {
  const taskQueue = unique('traces');
  const fixture = recordingAgent({ delete_file: protectedPolicy('careful') });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'a.txt' }]), reply('deleted'), callTools(['delete_file', { path: 'b.txt' }]), reply('not deleted')]);
  const bundle = await bundleAirlockWorkflows({ tracing: true, logger: quiet() });
  const worker = await createWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workflowBundle: bundle, tracing });
  // The client begins the trace: its interceptor sends the span's context with each message.
  const client = new Client({ connection: server.connection, interceptors: { workflow: [new OpenTelemetryWorkflowClientInterceptor()] } });
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: 'recorder' });
  const threadId = unique('thread');
  await worker.runUntil(async () => {
    const first = await airlock.handleMessage(threadId, 'delete a.txt');
    const interruptId = first.state.currentInterrupt!.id;
    await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
    // A message to another thread (another workflow in the same worker), rejected: a trace of its own.
    const otherThread = unique('thread');
    const second = await airlock.handleMessage(otherThread, 'delete b.txt');
    const rejectedId = second.state.currentInterrupt!.id;
    await airlock.resumeWithApproval(otherThread, 'reject', { approver: 'bob', reason: 'keep it' });

    const approval = await received((spans) => spans.find((span) => span.name === SPANS.approval && span.attributes[SPAN_ATTRIBUTES.interruptId] === interruptId));
    expect(approval.attributes).toMatchObject({
      [SPAN_ATTRIBUTES.threadId]: threadId,
      [SPAN_ATTRIBUTES.tool]: 'delete_file',
      [SPAN_ATTRIBUTES.outcome]: 'accepted',
      [SPAN_ATTRIBUTES.approver]: 'alice',
    });
    const trace = approval.traceId;
    const inTrace = (spans: ReceivedSpan[]) => spans.filter((span) => span.traceId === trace);
    const tool = await received((spans) => inTrace(spans).find((span) => span.name === 'RunActivity:executeTool'));
    expect(tool.attributes).toMatchObject({ [SPAN_ATTRIBUTES.interruptId]: interruptId, [SPAN_ATTRIBUTES.tool]: 'delete_file', 'airlock.result': 'ok' });
    expect(tool.service).toBe('airlock-trace-test');
    // Both model turns of the message (the one that asked for the tool, the one that read its result).
    const turns = await received((spans) => {
      const found = inTrace(spans).filter((span) => span.name === 'RunActivity:callModel');
      return found.length === 2 ? found : undefined;
    });
    expect(turns.map((span) => [span.attributes[SPAN_ATTRIBUTES.threadId], span.attributes[SPAN_ATTRIBUTES.turn]]).sort()).toEqual([
      [threadId, '1'],
      [threadId, '2'],
    ]);
    const message = await received((spans) => inTrace(spans).find((span) => span.name === SPANS.message));
    expect(message.attributes[SPAN_ATTRIBUTES.threadId]).toBe(threadId);
    // The message's span is a child of the client's Update span: the trace begins where the message was sent.
    const sent = inTrace(receiver.spans).find((span) => span.spanId === message.parentSpanId);
    expect(sent?.name).toBe('HandleUpdate:sendMessage');
    const root = inTrace(receiver.spans).find((span) => span.spanId === sent?.parentSpanId);
    expect([root?.name, root?.parentSpanId]).toEqual(['UpdateWithStartWorkflow:sendMessage', undefined]);

    // The rejected call: its approval span in another trace, and no tool span there.
    const rejected = await received((spans) => spans.find((span) => span.name === SPANS.approval && span.attributes[SPAN_ATTRIBUTES.interruptId] === rejectedId && span.attributes[SPAN_ATTRIBUTES.threadId] === otherThread));
    expect(rejected.attributes).toMatchObject({ [SPAN_ATTRIBUTES.outcome]: 'rejected', [SPAN_ATTRIBUTES.approver]: 'bob' });
    expect(rejected.traceId).not.toBe(trace);
    await received((spans) => (spans.some((span) => span.traceId === rejected.traceId && span.name === 'RunActivity:callModel') ? true : undefined));
    expect(receiver.spans.some((span) => span.traceId === rejected.traceId && span.name === 'RunActivity:executeTool')).toBe(false);
  });
  expect(fixture.ran('delete_file')).toHaveLength(1);
  expect([...receiver.contentTypes]).toEqual(['application/json']);

  // The traced thread replays with tracing (its first task recorded that it began traced) and, should
  // tracing be turned off, without it.
  const history = await airlock.handle(threadId).fetchHistory();
  await tracing.spanProcessor.forceFlush();
  const spansBefore = receiver.spans.length;
  await Worker.runReplayHistory({ workflowBundle: bundle, sinks: tracingWorkerOptions(tracing, true).sinks }, history, threadId);
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, threadId);
  // Replay exports nothing: the spans went out once, when the thread ran.
  await tracing.spanProcessor.forceFlush();
  expect(receiver.spans.length).toBe(spansBefore);
});

function quiet() {
  const noop = () => undefined;
  return { log: noop, trace: noop, debug: noop, info: noop, warn: noop, error: console.error };
}
