/**
 * The approval service in operation: `/healthz` and `/readyz` (no token, fixed words, in the
 * OpenAPI document), readiness that follows Temporal, and `airlock serve` draining on SIGTERM: the
 * live stream ends, a request in progress finishes with its answer, the process exits 0.
 */
import http from 'node:http';
import net from 'node:net';
import Ajv2020 from 'ajv/dist/2020';
import { Client, Connection } from '@temporalio/client';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, openApiDocument } from '../../src/server';
import { createWorker } from '../../src/worker';
import { ScriptedModel, callTools } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, unique, workflowBundle } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { eventually, startBackground } from './cli-process';

const TOKEN = 'serve-operations-token-5d1f0a7c93';
let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/** Checks a health body against the schema the OpenAPI document gives for it. */
function matchesDocument(path: string, status: number, body: unknown): string[] {
  const doc = openApiDocument() as unknown as { paths: Record<string, { get: { security?: unknown[]; responses: Record<number, { content: Record<string, { schema: { $ref: string } }> }> } }>; components: { schemas: Record<string, object> } };
  const operation = doc.paths[path].get;
  expect(operation.security).toEqual([]);
  const name = operation.responses[status].content['application/json'].schema.$ref.replace('#/components/schemas/', '');
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  return ajv.validate(doc.components.schemas[name], body) ? [] : (ajv.errors ?? []).map((error) => `${error.instancePath} ${error.message}`);
}

async function get(base: string, path: string) {
  const response = await fetch(`${base}${path}`);
  return { status: response.status, body: (await response.json()) as { status?: string } };
}

test('/healthz and /readyz answer without a token, as the OpenAPI document says; readiness follows Temporal', async () => {
  const reachable = createApprovalServer({ client: new AirlockClient({ client: server.client }), tokens: createApproverTokens({ [TOKEN]: 'alice' }), log: () => undefined });
  // A client of a server that is not there: alive, not ready.
  const nowhere = await Connection.lazy({ address: '127.0.0.1:1' });
  const unreachable = createApprovalServer({ client: new AirlockClient({ client: new Client({ connection: nowhere }) }), tokens: createApproverTokens({ [TOKEN]: 'alice' }), log: () => undefined });
  try {
    const base = await reachable.listen({ port: 0 });
    const healthz = await get(base, '/healthz');
    expect(healthz).toEqual({ status: 200, body: { status: 'ok' } });
    expect(matchesDocument('/healthz', 200, healthz.body)).toEqual([]);
    const readyz = await get(base, '/readyz');
    expect(readyz).toEqual({ status: 200, body: { status: 'ready' } });
    expect(matchesDocument('/readyz', 200, readyz.body)).toEqual([]);
    expect((await fetch(`${base}/readyz`, { method: 'POST' })).status).toBe(405);

    const down = await unreachable.listen({ port: 0 });
    expect(await get(down, '/healthz')).toEqual({ status: 200, body: { status: 'ok' } });
    const notReady = await get(down, '/readyz');
    expect(notReady).toEqual({ status: 503, body: { status: 'unavailable' } });
    expect(matchesDocument('/readyz', 503, notReady.body)).toEqual([]);
  } finally {
    await reachable.close();
    await unreachable.close();
    await nowhere.close();
  }
});

test('while the service drains, a request on a connection it still serves finds /readyz 503 draining, and the connection is closed after', async () => {
  const airlock = new AirlockClient({ client: server.client, taskQueue: unique('no-worker'), defaultAgent: 'recorder' });
  // A thread no worker runs: asking for its state waits for one.
  const threadId = unique('thread');
  await airlock.startThread({ threadId });
  const service = createApprovalServer({ client: airlock, tokens: createApproverTokens({ [TOKEN]: 'alice' }), log: () => undefined, workerTimeoutMs: 1_000 });
  const base = new URL(await service.listen({ port: 0 }));
  const socket = net.connect({ host: base.hostname, port: Number(base.port) });
  let received = '';
  const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
  socket.on('data', (chunk: Buffer) => (received += chunk.toString()));
  await new Promise((resolve) => socket.once('connect', resolve));
  // A request in progress keeps the connection: a thread's state, which waits for a worker (none runs).
  socket.write(`GET /api/threads/${threadId} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`);
  await new Promise((resolve) => setTimeout(resolve, 200));
  const closed = service.close();
  // Readiness asked on that connection once the service drains.
  socket.write('GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n');
  await Promise.all([closed, ended]);
  const responses = received.split(/(?=HTTP\/1\.1 )/);
  expect(responses).toHaveLength(2);
  expect(responses[1]).toMatch(/^HTTP\/1\.1 503 /);
  expect(responses[1]).toMatch(/\r\nConnection: close\r\n/i);
  expect(responses[1]).toContain('{"status":"draining"}');
  expect(responses[0]).toMatch(/^HTTP\/1\.1 503 /);
  await airlock.handle(threadId).terminate('test clean-up');
});

test('on SIGTERM `airlock serve` ends the live stream, finishes the request in progress, and exits 0', async () => {
  const taskQueue = unique('serve-drain');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'a.txt' }])]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' });
  const threadId = unique('thread');
  const worker = () => createWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle() });
  await (await worker()).runUntil(airlock.handleMessage(threadId, 'delete a.txt'));
  const serve = await startBackground(['serve', '--port', '0', '--address', server.address, '--task-queue', taskQueue], 'Ready.', { AIRLOCK_APPROVER_TOKENS: `${TOKEN}=alice` });
  try {
    const base = /Approval inbox at (http:\/\/[^/\s]+)\//.exec(serve.output())![1];
    const headers = { Authorization: `Bearer ${TOKEN}` };
    // A live stream, open until the service stops.
    const streamEnded = new Promise<string>((resolve, reject) => {
      http.get(`${base}/api/events`, { headers }, (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve(text));
      }).on('error', reject);
    });
    // A request in progress: the thread's state, which waits for a worker (none runs now).
    const inProgress = fetch(`${base}/api/threads/${threadId}`, { headers }).then(async (response) => ({ status: response.status, body: (await response.json()) as { state?: { threadId?: string } } }));
    await new Promise((resolve) => setTimeout(resolve, 500));
    const exited = new Promise<number | null>((resolve) => serve.child.once('exit', (code) => resolve(code)));
    serve.child.kill('SIGTERM');
    await eventually(async () => (serve.output().includes('Stopping:') ? true : undefined));
    expect(await streamEnded).toContain(': connected');
    // A worker comes back: the request in progress gets its answer, then the service exits.
    const answered = await (await worker()).runUntil(inProgress);
    expect(answered.status).toBe(200);
    expect(answered.body.state?.threadId).toBe(threadId);
    expect(await exited).toBe(0);
  } finally {
    await serve.stop();
    await (await worker()).runUntil(endThreads(airlock, [threadId]));
  }
});
