/**
 * `airlock worker` in operation, as a spawned process: its Prometheus endpoint after a scenario
 * (an approved call, a rejected call, a call that needs nobody, a call left waiting), its traces
 * (the worker bundles its own workflows with tracing), its health endpoints, and how it stops: on
 * SIGTERM a running tool finishes, the process exits 0 and the thread completes on the next
 * worker; a second signal exits at once.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/devtools/dev-server';
import { AirlockClient } from '../../src/client';
import { SPAN_ATTRIBUTES } from '../../src/core';
import { connectToDevServer, endThreads, tempDir, unique } from '../helpers';
import { airlock as runAirlock, eventually, startBackground } from './cli-process';
import { startOtlpReceiver } from './otlp-receiver';

const MODULE = path.join(__dirname, '../fixtures/probe-agents.js');
let server: Awaited<ReturnType<typeof connectToDevServer>>;
const threads = new Set<string>();
let airlock: AirlockClient;

beforeAll(async () => {
  server = await connectToDevServer();
});
afterAll(async () => {
  if (airlock) await endThreads(airlock, threads);
  await server.close();
});

/** A worker process for the probe agents on its own task queue, logging its tools' runs to a file. */
async function startWorker(taskQueue: string, log: string, flags: string[] = [], env: NodeJS.ProcessEnv = {}) {
  return startBackground(['worker', '--module', MODULE, '--address', server.address, '--task-queue', taskQueue, ...flags], 'Ready.', { AIRLOCK_PROBE_LOG: log, ...env });
}

function probeClient(taskQueue: string): AirlockClient {
  airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'probe' });
  return airlock;
}

/** A thread of its own, cleaned up when the file ends. */
function thread(prefix: string): string {
  const id = unique(prefix);
  threads.add(id);
  return id;
}

const call = (tool: string, label: string) => `call ${tool} with {"label": "${label}"}`;
const lines = (file: string) => readFileSync(file, 'utf8').split('\n').filter(Boolean);

/** The value of the sample `name{...}` whose labels include `labels`, or undefined. */
function sample(metrics: string, name: string, labels: Record<string, string>): number | undefined {
  for (const line of metrics.split('\n')) {
    const match = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!match || match[1] !== name) continue;
    const found = Object.fromEntries([...(match[2] ?? '').matchAll(/([a-zA-Z_]+)="((?:[^"\\]|\\.)*)"/g)].map((label) => [label[1], label[2]]));
    if (Object.entries(labels).every(([key, value]) => found[key] === value)) return Number(match[3]);
  }
  return undefined;
}

const scrape = async (address: string) => (await fetch(`http://${address}/metrics`)).text();

test("the worker's Prometheus endpoint counts decisions by outcome, tool runs by result, waiting threads, and Temporal's own metrics; its traces reach the collector", async () => {
  const taskQueue = unique('metrics');
  const log = path.join(tempDir(), 'probe.log');
  writeFileSync(log, '');
  const metrics = `127.0.0.1:${await freePort()}`;
  const health = `127.0.0.1:${await freePort()}`;
  const receiver = await startOtlpReceiver();
  const worker = await startWorker(taskQueue, log, ['--metrics', metrics, '--health', health], { OTEL_EXPORTER_OTLP_ENDPOINT: receiver.base, OTEL_SERVICE_NAME: 'probe-worker' });
  try {
    const client = probeClient(taskQueue);
    const approved = thread('approved');
    const interruptId = (await client.handleMessage(approved, call('probe_guarded', 'a'))).state.currentInterrupt!.id;
    await client.resumeWithApproval(approved, 'accept', { approver: 'alice' });
    const rejected = thread('rejected');
    await client.handleMessage(rejected, call('probe_guarded', 'b'));
    await client.resumeWithApproval(rejected, 'reject', { approver: 'bob', reason: 'no' });
    await client.handleMessage(thread('allowed'), call('probe_free', 'c'));
    const waiting = thread('waiting');
    await client.handleMessage(waiting, call('probe_guarded', 'd'));
    expect(lines(log)).toEqual(['guarded a', 'free c']);

    const ours = { tool: 'probe_guarded', taskQueue };
    const text = await eventually(async () => {
      const body = await scrape(metrics);
      // The gauge is counted from visibility every 15 s: wait for the count that includes the waiting thread.
      return sample(body, 'airlock_threads_awaiting_tool_approval', { tool: 'probe_guarded' }) === 1 ? body : undefined;
    }, 60_000);
    expect(sample(text, 'airlock_decisions_total', { ...ours, outcome: 'accepted', agent: 'probe' })).toBe(1);
    expect(sample(text, 'airlock_decisions_total', { ...ours, outcome: 'rejected' })).toBe(1);
    expect(sample(text, 'airlock_time_to_decide_count', { ...ours, outcome: 'accepted' })).toBe(1);
    expect(sample(text, 'airlock_tool_runs_total', { ...ours, result: 'ok' })).toBe(1);
    expect(sample(text, 'airlock_tool_runs_total', { tool: 'probe_free', taskQueue, result: 'ok' })).toBe(1);
    expect(sample(text, 'airlock_threads_awaiting_approval', {})).toBeGreaterThanOrEqual(1);
    // The runtime's own metrics share the endpoint.
    expect(sample(text, 'temporal_num_pollers', { task_queue: taskQueue, poller_type: 'activity_task' })).toBeGreaterThan(0);

    const healthz = await fetch(`http://${health}/healthz`);
    expect([healthz.status, await healthz.text()]).toEqual([200, 'ok\n']);
    const readyz = await fetch(`http://${health}/readyz`);
    expect([readyz.status, await readyz.text()]).toEqual([200, 'ready\n']);
    expect((await fetch(`http://${health}/anything`)).status).toBe(404);

    // The worker bundled its own workflows with tracing: the approved call's tool run is in the approval's trace.
    const approval = await eventually(async () => receiver.spans.find((span) => span.name === 'airlock.approval' && span.attributes[SPAN_ATTRIBUTES.interruptId] === interruptId && span.attributes[SPAN_ATTRIBUTES.threadId] === approved));
    expect(approval.service).toBe('probe-worker');
    await eventually(async () => receiver.spans.find((span) => span.traceId === approval.traceId && span.name === 'RunActivity:executeTool' && span.attributes[SPAN_ATTRIBUTES.interruptId] === interruptId));
  } finally {
    await worker.stop();
    await receiver.close();
  }
  expect(worker.child.exitCode).toBe(0);
});

/** A bundle from `airlock bundle`, for the workers of the tests below (built once). */
let prebuilt: string | undefined;
async function workflowBundleFile(): Promise<string> {
  if (prebuilt) return prebuilt;
  const file = path.join(tempDir(), 'workflows.js');
  const built = await runAirlock(['bundle', file]);
  expect(built.code).toBe(0);
  expect(readFileSync(file, 'utf8')).toContain('agentThread');
  prebuilt = file;
  return file;
}

test('on SIGTERM the worker drains: /readyz turns 503, the running tool finishes, the process exits 0, and the thread completes on the next worker', async () => {
  const taskQueue = unique('drain');
  const log = path.join(tempDir(), 'probe.log');
  writeFileSync(log, '');
  const health = `127.0.0.1:${await freePort()}`;
  const slow = { AIRLOCK_PROBE_SLOW_MS: '4000' };
  const bundle = ['--workflow-bundle', await workflowBundleFile()];
  const first = await startWorker(taskQueue, log, ['--health', health, '--shutdown-grace', '60', ...bundle], slow);
  const client = probeClient(taskQueue);
  const threadId = thread('drain');
  const answer = client.handleMessage(threadId, call('probe_slow', 's'));
  await eventually(async () => (lines(log).includes('slow s started attempt 1') ? true : undefined));
  const exited = new Promise<number | null>((resolve) => first.child.once('exit', (code) => resolve(code)));
  first.child.kill('SIGTERM');
  // Draining: not ready any more, while the tool still runs.
  await eventually(async () => ((await fetch(`http://${health}/readyz`)).status === 503 ? true : undefined));
  expect(await exited).toBe(0);
  expect(lines(log)).toEqual(['slow s started attempt 1', 'slow s finished attempt 1']);
  expect(first.output()).toContain('Worker stopped.');

  // The tool's result is in history: the next worker only asks the model for the answer.
  const second = await startWorker(taskQueue, log, bundle, slow);
  try {
    const response = await answer;
    expect(response.content).toContain('slow s finished');
    expect(lines(log)).toEqual(['slow s started attempt 1', 'slow s finished attempt 1']);
  } finally {
    await second.stop();
  }
});

test('a second SIGTERM stops a draining worker at once', async () => {
  const taskQueue = unique('twice');
  const log = path.join(tempDir(), 'probe.log');
  writeFileSync(log, '');
  const worker = await startWorker(taskQueue, log, ['--shutdown-grace', '60', '--workflow-bundle', await workflowBundleFile()], { AIRLOCK_PROBE_SLOW_MS: '60000' });
  const client = probeClient(taskQueue);
  void client.handleMessage(thread('twice'), call('probe_slow', 't')).catch(() => undefined);
  await eventually(async () => (lines(log).includes('slow t started attempt 1') ? true : undefined));
  const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
  worker.child.kill('SIGTERM');
  await eventually(async () => (worker.output().includes('Stopping:') ? true : undefined));
  worker.child.kill('SIGTERM');
  expect(await exited).toBe(143);
  // The tool (a minute long) did not finish: the process did not wait for it.
  expect(lines(log)).not.toContain('slow t finished attempt 1');
});
