/**
 * What a worker's workflow bundle writes and costs: a short build id in history, and no stack
 * traces in workflow code unless the worker asks for them (Temporal's SDK captures one for every
 * promise a thread creates, and the Web UI's Stack Trace tab shows them).
 */
import { AirlockClient } from '../../src/client';
import type { CreateWorkerOptions } from '../../src/worker';
import { bundleAirlockWorkflows, createWorker } from '../../src/worker';
import { ScriptedModel, callTools } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const BUILD_ID = /^\d+\.\d+\.\d+\+[0-9a-f]{8}$/;

/** Parks a thread on an approval; returns its stack trace (the Web UI's query) and the build ids in its history. */
async function parkedThread(run: (options: CreateWorkerOptions, fn: () => Promise<void>) => Promise<void>, buildId = BUILD_ID) {
  const taskQueue = unique('bundle');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  let seen: { stackTrace: string; buildIds: string[] } | undefined;
  const model = new ScriptedModel([callTools(['delete_file', { path: '/tmp/a' }])]);
  await run({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const response = await airlock.handleMessage(threadId, 'delete /tmp/a');
      expect(response.state.status).toBe('awaiting_approval');
      const stackTrace: string = await airlock.handle(threadId).query('__stack_trace');
      const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
      const buildIds = events.map((event) => event.workflowTaskCompletedEventAttributes?.workerVersion?.buildId).filter((id): id is string => typeof id === 'string');
      seen = { stackTrace, buildIds };
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  expect(fixture.ran('delete_file')).toHaveLength(0);
  expect(seen!.buildIds.length).toBeGreaterThan(0);
  for (const id of seen!.buildIds) expect(id).toMatch(buildId);
  return seen!;
}

test('with a pre-built bundle (as tests and deployments use), a thread has no stack traces and a short build id', async () => {
  const { stackTrace } = await parkedThread((options, fn) => withWorker(options, fn));
  expect(stackTrace).not.toContain('holdForApproval');
  expect(stackTrace).not.toContain('src/workflows/');
});

/** A worker that bundles its own workflows, as `airlock worker` without --workflow-bundle does. */
const ownBundle = (extra: Partial<CreateWorkerOptions>) => async (options: CreateWorkerOptions, fn: () => Promise<void>) => {
  const worker = await createWorker({ ...options, ...extra });
  await worker.runUntil(fn());
};

test('a worker that bundles its own workflows runs threads without stack traces by default', async () => {
  const { stackTrace } = await parkedThread(ownBundle({}));
  expect(stackTrace).not.toContain('holdForApproval');
  expect(stackTrace).not.toContain('src/workflows/');
}, 60_000);

test('with workflowStackTraces, the stack trace shows where a thread waits, in its source files', async () => {
  const { stackTrace } = await parkedThread(ownBundle({ workflowStackTraces: true }));
  expect(stackTrace).toContain('holdForApproval');
  // Mapped through the bundle's source map, which such a bundle keeps.
  expect(stackTrace).toContain('src/workflows/');
}, 60_000);

/** The inline source map a bundle carries (Temporal's worker requires one). */
function sourceMapOf(code: string): { sources: string[]; mappings: string } {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64 = code.slice(code.indexOf('base64,', at) + 'base64,'.length).trim();
  return JSON.parse(Buffer.from(base64, 'base64').toString()) as { sources: string[]; mappings: string };
}

test('a bundle without stack traces leaves out its source map: a third of the size', async () => {
  const quiet = () => undefined;
  const logger = { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: quiet };
  const [lean, debuggable] = await Promise.all([bundleAirlockWorkflows({ logger }), bundleAirlockWorkflows({ logger, stackTraces: true })]);
  expect(sourceMapOf(lean.code)).toMatchObject({ sources: [], mappings: '' });
  expect(sourceMapOf(debuggable.code).sources.some((source) => source.includes('src/workflows/agent-thread.ts'))).toBe(true);
  expect(lean.code.length).toBeLessThan(debuggable.code.length / 2);
}, 60_000);

test('a worker that bundles its own workflows keeps the source map where something reads it: debug mode, or no shared context', async () => {
  const mapOf = async (workerOptions: CreateWorkerOptions['workerOptions']) => {
    const fixture = recordingAgent({ delete_file: protectedPolicy() });
    const worker = await createWorker({ agents: [fixture.agent], taskQueue: unique('bundle-map'), connection: server.nativeConnection, workerOptions });
    const bundle = worker.options.workflowBundle;
    await worker.runUntil(Promise.resolve());
    if (!bundle || !('code' in bundle)) throw new Error('the worker was not given its bundle as code');
    return sourceMapOf(bundle.code);
  };
  expect((await mapOf({})).sources).toEqual([]);
  expect((await mapOf({ debugMode: true })).sources.some((source) => source.includes('src/workflows/agent-thread.ts'))).toBe(true);
  expect((await mapOf({ reuseV8Context: false })).sources.some((source) => source.includes('src/workflows/agent-thread.ts'))).toBe(true);
}, 90_000);

test('a worker given its own workflowsPath lets Temporal bundle (its default build id), still without stack traces', async () => {
  const workerOptions = { workflowsPath: require.resolve('../../src/workflows') };
  const { stackTrace } = await parkedThread(ownBundle({ workerOptions }), /^@temporalio\/worker@/);
  expect(stackTrace).not.toContain('holdForApproval');
  expect(stackTrace).not.toContain('src/workflows/');
}, 60_000);
