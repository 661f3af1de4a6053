/** The approval HTTP API against a real dev server and worker: list, decide, every refusal, auth, validation, audit. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { defineAgent } from '../../src/agents';
import { AirlockClient, type PendingApproval } from '../../src/client';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import type { AuditEntry, ThreadState } from '../../src/core';
import { createDeleteFileTool, createSendEmailTool } from '../../src/tools';
import { createWorker } from '../../src/worker';
import { connectToDevServer, endThreads, quietRuntime, tempDir, unique, workflowBundle } from '../helpers';
import { airlock as runCli, eventually, startBackground } from './cli-process';

const ALICE = 'alice-6f1c2a9e0b7d4e83a5c9172f';
const BOB = 'bob-2d94e7a1c5b08f36e04a9d71';
/** Wrong tokens sent in these tests: no log line may hold them either. */
const WRONG_TOKENS = ['not-a-token-5b0e9c3a71d24f86', `${ALICE}x`];
const ALL_TOKENS = [ALICE, BOB, ...WRONG_TOKENS];

let dev: Awaited<ReturnType<typeof connectToDevServer>>;
let worker: Worker;
let running: Promise<void>;
let client: AirlockClient;
let service: ApprovalServer;
let baseUrl: string;
let sandbox: string;
const serverLog: string[] = [];
const threads: string[] = [];

beforeAll(async () => {
  quietRuntime();
  dev = await connectToDevServer();
  const home = tempDir();
  sandbox = path.join(home, 'sandbox');
  mkdirSync(sandbox);
  const taskQueue = unique('approval-api');
  const tools = () => [createDeleteFileTool(sandbox), createSendEmailTool(path.join(home, 'outbox.jsonl'))];
  const guarded = defineAgent({
    name: 'guarded',
    instructions: 'Delete files and send emails.',
    tools: tools(),
    interrupts: {
      delete_file: { allowAuto: false, note: 'Only alice may delete files', approvers: ['alice'] },
      send_email: { allowAuto: false, note: 'External communication requires review' },
    },
  });
  const hasty = defineAgent({
    name: 'hasty',
    instructions: 'Be quick.',
    tools: tools(),
    interrupts: { delete_file: { allowAuto: false, note: 'One second to decide', timeout: '1s' } },
  });
  worker = await createWorker({ agents: [guarded, hasty], taskQueue, connection: dev.nativeConnection, workflowBundle: workflowBundle() });
  running = worker.run();
  client = new AirlockClient({ client: dev.client, taskQueue });
  service = createApprovalServer({ client, tokens: createApproverTokens({ [ALICE]: 'alice', [BOB]: 'bob' }), log: (line) => serverLog.push(line) });
  baseUrl = await service.listen({ port: 0 });
});

afterAll(async () => {
  // While the worker still runs, so the threads really end and none is left waiting.
  if (client) await endThreads(client, threads);
  await service?.close();
  worker?.shutdown();
  await running;
  await dev?.close();
  expect(tokensIn(serverLog)).toEqual([]);
});

/** The tokens (whole, or their last 16 characters) that any of `lines` holds. */
const tokensIn = (lines: string[]) => ALL_TOKENS.filter((token) => lines.some((line) => line.includes(token) || line.includes(token.slice(-16))));

interface Answer<T = Record<string, any>> {
  status: number;
  body: T;
  headers: Headers;
}

async function api<T = Record<string, any>>(method: string, url: string, options: { token?: string | null; body?: unknown; raw?: string } = {}): Promise<Answer<T>> {
  const token = options.token === undefined ? ALICE : options.token;
  const headers: Record<string, string> = { 'Content-Type': 'application/json' };
  if (token) headers.Authorization = `Bearer ${token}`;
  const body = options.raw ?? (options.body === undefined ? undefined : JSON.stringify(options.body));
  const response = await fetch(`${baseUrl}${url}`, { method, headers, body });
  return { status: response.status, body: (await response.json()) as T, headers: response.headers };
}

const decide = (body: Record<string, unknown>, token: string | null = ALICE) => api('POST', '/api/approvals', { body, token });

/** Starts a thread of `agent` and returns it with the interrupt it waits on. */
async function waiting(agent: string, message: string): Promise<{ threadId: string; interruptId: string }> {
  const threadId = unique(`api-${agent}`);
  threads.push(threadId);
  const response = await client.handleMessage(threadId, message, { agent });
  return { threadId, interruptId: response.state.currentInterrupt!.id };
}

function sandboxFile(name: string): string {
  const file = path.join(sandbox, name);
  writeFileSync(file, `${name}\n`);
  return file;
}

const pendingOf = async (threadIds: string[], query = '') =>
  (await api<{ approvals: PendingApproval[] }>('GET', `/api/approvals${query}`)).body.approvals.filter((approval) => threadIds.includes(approval.threadId));

const auditOf = async (threadId: string) => (await api<{ entries: AuditEntry[] }>('GET', `/api/threads/${encodeURIComponent(threadId)}/audit`)).body.entries;

test('list pending approvals (all, and by tool), approve and reject as the authenticated approvers, and find them in the audit trail', async () => {
  const file = sandboxFile('a.txt');
  const deletion = await waiting('guarded', 'delete the file a.txt');
  const email = await waiting('guarded', 'send an email to ops@example.com about the deploy');
  const both = [deletion.threadId, email.threadId];

  const listed = await eventually(async () => {
    const found = await pendingOf(both);
    return found.length === 2 ? found : undefined;
  });
  expect(listed.find((approval) => approval.threadId === deletion.threadId)).toMatchObject({
    id: deletion.interruptId,
    toolName: 'delete_file',
    args: { path: 'a.txt' },
    argsDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    policyNote: 'Only alice may delete files',
    approvers: ['alice'],
    agent: 'guarded',
  });
  expect((await pendingOf(both, '?tool=send_email')).map((approval) => approval.threadId)).toEqual([email.threadId]);
  const badTool = await api('GET', `/api/approvals?tool=${encodeURIComponent('x; drop')}`);
  expect(badTool.status).toBe(400);
  expect(badTool.body.error).toMatchObject({ type: 'RequestInvalid', message: expect.stringContaining('tool must be a tool name') });

  const approved = await decide({ threadId: deletion.threadId, interruptId: deletion.interruptId, approved: true, reason: 'cleanup' });
  expect(approved.status).toBe(200);
  expect(approved.body.outcome).toMatchObject({ type: 'applied', interruptId: deletion.interruptId, resolution: { type: 'accepted', approver: 'alice', reason: 'cleanup' } });
  await eventually(async () => (existsSync(file) ? undefined : true));

  const rejected = await decide({ threadId: email.threadId, interruptId: email.interruptId, action: 'reject', reason: 'not now' }, BOB);
  expect(rejected.status).toBe(200);
  expect(rejected.body.outcome.resolution).toMatchObject({ type: 'rejected', approver: 'bob', reason: 'not now' });

  const [deletionAudit] = await eventually(async () => {
    const entries = await auditOf(deletion.threadId);
    return entries[0]?.result ? entries : undefined;
  });
  expect(deletionAudit).toMatchObject({ decision: 'accepted', approver: 'alice', reason: 'cleanup', toolArgs: { path: 'a.txt' } });
  expect(deletionAudit.result).toMatch(/^Deleted .*a\.txt$/);
  expect(await auditOf(email.threadId)).toEqual([expect.objectContaining({ decision: 'rejected', approver: 'bob', reason: 'not now' })]);

  const thread = await eventually(async () => {
    const { body } = await api<{ state: ThreadState }>('GET', `/api/threads/${encodeURIComponent(deletion.threadId)}`);
    return body.state.status === 'idle' ? body.state : undefined;
  });
  expect(thread.messages[0]).toEqual({ role: 'user', content: 'delete the file a.txt' });
  expect(thread.messages).toContainEqual(expect.objectContaining({ role: 'tool', name: 'delete_file', content: expect.stringMatching(/^Deleted /) }));
  await eventually(async () => ((await pendingOf(both)).length === 0 ? true : undefined));
});

test('refusals: not allowed 403, unknown interrupt or thread 404, already decided, timed out and ended 409; none changes anything, each is on record', async () => {
  const file = sandboxFile('b.txt');
  const { threadId, interruptId } = await waiting('guarded', 'delete the file b.txt');

  const notAllowed = await decide({ threadId, interruptId, approved: true }, BOB);
  expect(notAllowed.status).toBe(403);
  expect(notAllowed.body.error).toEqual({ type: 'DecisionNotAllowed', label: 'Not allowed', message: "That approver may not decide 'delete_file': allowed approvers are alice" });
  const unknownInterrupt = await decide({ threadId, interruptId: 'no-such-interrupt', approved: true });
  expect(unknownInterrupt.status).toBe(404);
  expect(unknownInterrupt.body.error.type).toBe('InterruptNotFound');
  const unknownThread = await decide({ threadId: unique('no-such-thread'), interruptId, approved: true });
  expect(unknownThread.status).toBe(404);
  expect(unknownThread.body.error.type).toBe('ThreadNotFound');
  expect((await api('GET', `/api/threads/${unique('no-such-thread')}`)).status).toBe(404);
  expect((await api('GET', `/api/threads/${unique('no-such-thread')}/audit`)).status).toBe(404);
  expect(existsSync(file)).toBe(true);
  expect(await auditOf(threadId)).toEqual([
    expect.objectContaining({ decision: 'pending' }),
    expect.objectContaining({ decision: 'refused', approver: 'bob', refusal: expect.objectContaining({ errorType: 'DecisionNotAllowed' }) }),
    expect.objectContaining({ decision: 'refused', approver: 'alice', interruptId: 'no-such-interrupt', refusal: expect.objectContaining({ errorType: 'InterruptNotFound' }) }),
  ]);

  expect((await decide({ threadId, interruptId, action: 'reject' })).status).toBe(200);
  const twice = await decide({ threadId, interruptId, approved: true });
  expect(twice.status).toBe(409);
  expect(twice.body.error).toMatchObject({ type: 'InterruptAlreadyDecided', message: expect.stringContaining('already rejected by alice') });
  expect((await auditOf(threadId)).map((entry) => [entry.decision, entry.approver, entry.refusal?.errorType])).toEqual([
    ['rejected', 'alice', undefined],
    ['refused', 'bob', 'DecisionNotAllowed'],
    ['refused', 'alice', 'InterruptNotFound'],
    ['refused', 'alice', 'InterruptAlreadyDecided'],
  ]);

  const late = await waiting('hasty', 'delete the file b.txt');
  await eventually(async () => ((await auditOf(late.threadId))[0]?.decision === 'timed-out' ? true : undefined));
  const timedOut = await decide({ threadId: late.threadId, interruptId: late.interruptId, approved: true });
  expect(timedOut.status).toBe(409);
  expect(timedOut.body.error).toMatchObject({ type: 'InterruptTimedOut', message: expect.stringContaining("resolved as 'reject'") });

  const ended = await waiting('guarded', 'send an email to ops@example.com about the end');
  await client.endThread(ended.threadId);
  const afterEnd = await eventually(async () => {
    const answer = await decide({ threadId: ended.threadId, interruptId: ended.interruptId, approved: true });
    return answer.status === 409 ? answer : undefined;
  });
  expect(afterEnd.body.error.type).toBe('ThreadEnded');
  expect(existsSync(file)).toBe(true);
});

test('no token or a wrong one gets 401 with a bearer challenge, on reads and decisions alike, and decides nothing', async () => {
  const { threadId, interruptId } = await waiting('guarded', 'send an email to ops@example.com about auth');
  for (const token of [null, ...WRONG_TOKENS]) {
    for (const [method, url] of [['GET', '/api/approvals'], ['GET', `/api/threads/${threadId}`], ['GET', `/api/threads/${threadId}/audit`], ['GET', '/api/events'], ['GET', '/api/me']]) {
      const answer = await api(method, url, { token });
      expect([url, answer.status]).toEqual([url, 401]);
      expect(answer.headers.get('www-authenticate')).toBe('Bearer realm="airlock"');
    }
    const post = await decide({ threadId, interruptId, approved: true }, token);
    expect(post.status).toBe(401);
    expect(post.body.error.type).toBe('Unauthorized');
  }
  expect((await api('GET', '/api/me', { token: BOB })).body).toEqual({ approver: 'bob' });
  expect(await auditOf(threadId)).toEqual([expect.objectContaining({ decision: 'pending' })]);
});

test('malformed, mistyped and oversized bodies get 400 or 413 with a message, and change nothing', async () => {
  const { threadId, interruptId } = await waiting('guarded', 'send an email to ops@example.com about validation');
  const cases: Array<[string, { raw?: string; body?: unknown }, RegExp]> = [
    ['not JSON', { raw: '{"threadId": ' }, /^Malformed JSON/],
    ['not JSON that the parser would quote', { raw: 'secret-token-5f2a' }, /^Malformed JSON: the body is not valid JSON$/],
    ['empty', { raw: '' }, /needs a JSON body/],
    ['an array', { body: [threadId, interruptId] }, /expected object, received array/],
    ['a wrong type', { body: { threadId, interruptId, approved: 'yes' } }, /approved: Invalid input: expected boolean, received string/],
    ['an unknown action', { body: { threadId, interruptId, action: 'maybe' } }, /action/],
    ['both approved and action', { body: { threadId, interruptId, approved: true, action: 'accept' } }, /exactly one of approved/],
    ['neither approved nor action', { body: { threadId, interruptId } }, /exactly one of approved/],
    ['a self-declared approver', { body: { threadId, interruptId, approved: true, approver: 'mallory' } }, /approver is not accepted/],
    ['an unknown field', { body: { threadId, interruptId, approved: true, force: true } }, /unknown field force/],
    ['an unknown field with a hostile name', { body: { threadId, interruptId, approved: true, '\u001b[2J': true } }, /^Invalid decision: unknown field$/],
    ['a lone surrogate', { raw: `{"threadId":${JSON.stringify(threadId)},"interruptId":"\\udfff","approved":true}` }, /interruptId: must be text without control characters/],
    ['a missing thread id', { body: { interruptId, approved: true } }, /threadId/],
  ];
  for (const [what, request, message] of cases) {
    const answer = await api('POST', '/api/approvals', request);
    expect([what, answer.status]).toEqual([what, 400]);
    expect(answer.body.error.type).toBe('RequestInvalid');
    expect(answer.body.error.message).toMatch(message);
  }
  const oversized = await api('POST', '/api/approvals', { body: { threadId, interruptId, approved: true, reason: 'x'.repeat(70 * 1024) } });
  expect(oversized.status).toBe(413);
  expect(oversized.body.error).toEqual({ type: 'PayloadTooLarge', message: 'The body is larger than 65536 bytes' });
  expect(await auditOf(threadId)).toEqual([expect.objectContaining({ decision: 'pending' })]);
});

test('with no worker for the thread, a decision and a state read answer 503 after the deadline', async () => {
  const threadId = unique('api-no-worker');
  const orphan = new AirlockClient({ client: dev.client, taskQueue: unique('nobody-polls') });
  await orphan.startThread({ threadId, agent: 'guarded' });
  const impatient = createApprovalServer({ client: orphan, tokens: createApproverTokens({ [ALICE]: 'alice' }), workerTimeoutMs: 1_000, log: (line) => serverLog.push(line) });
  const url = await impatient.listen({ port: 0 });
  try {
    const headers = { Authorization: `Bearer ${ALICE}` };
    // The service gives up at its own deadline (1 s here, not the default 10 s) and says so.
    const post = await fetch(`${url}/api/approvals`, { method: 'POST', headers, body: JSON.stringify({ threadId, interruptId: 't1-call_1_1', approved: true }) });
    expect(post.status).toBe(503);
    expect(((await post.json()) as any).error).toEqual({
      type: 'WorkerUnavailable',
      label: 'No worker',
      message: expect.stringMatching(new RegExp(`^No worker answered for thread '${threadId}' within 1s; .*The decision may still be applied`)),
    });
    const read = await fetch(`${url}/api/threads/${threadId}`, { headers });
    expect(read.status).toBe(503);
    expect(((await read.json()) as any).error).toMatchObject({ type: 'WorkerUnavailable', message: expect.stringContaining('within 1s') });
  } finally {
    await impatient.close();
    await orphan.handle(threadId).terminate('test over');
  }
});

test('the OpenAPI description lists every endpoint; the inbox page is served with a strict Content-Security-Policy', async () => {
  const openapi = await fetch(`${baseUrl}/api/openapi.json`);
  expect(openapi.status).toBe(200);
  const document = (await openapi.json()) as { openapi: string; paths: Record<string, Record<string, { responses: Record<string, unknown> }>> };
  expect(document.openapi).toBe('3.1.0');
  expect(Object.keys(document.paths)).toEqual(
    expect.arrayContaining(['/api/approvals', '/api/threads/{id}', '/api/threads/{id}/audit', '/api/threads/{id}/grants', '/api/threads/{id}/grants/{grantId}/revoke', '/api/events', '/api/me']),
  );
  expect(Object.keys(document.paths['/api/approvals'].post.responses)).toEqual(expect.arrayContaining(['200', '202', '400', '401', '403', '404', '409', '413', '422', '503']));

  const page = await fetch(`${baseUrl}/`);
  expect(page.status).toBe(200);
  expect(page.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(page.headers.get('content-security-policy')).toContain("script-src 'self'");
  expect(await page.text()).toContain('<script type="module" src="/assets/inbox.js"></script>');
  expect((await fetch(`${baseUrl}/assets/inbox.js`)).headers.get('content-type')).toBe('text/javascript; charset=utf-8');
  expect((await api('GET', '/api/nothing-here')).status).toBe(404);
  expect((await api('DELETE', '/api/approvals')).status).toBe(405);
});

/** A GET with the path sent exactly as written (`fetch` would resolve dot segments first). */
function rawGet(base: string, rawPath: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/`, { method: 'GET', path: rawPath, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

test('dot segments in an asset path, plain or percent-encoded, reach no file outside the inbox', async () => {
  const packageJson = readFileSync(path.join(__dirname, '../../package.json'), 'utf8');
  const paths = [
    '/assets/../package.json',
    '/assets/%2e%2e/package.json',
    '/assets/%2E%2E/package.json',
    '/assets/.%2e/package.json',
    '/assets/..%2fpackage.json',
    '/assets/%2e%2e%2fpackage.json',
    '/assets/..%5cpackage.json',
    '/assets/../../../../package.json',
    '/assets/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fpackage.json',
    '/../package.json',
    '/%2e%2e/package.json',
  ];
  for (const rawPath of paths) {
    const answer = await rawGet(baseUrl, rawPath);
    expect([rawPath, answer.status]).toEqual([rawPath, 404]);
    expect(answer.body).not.toContain('"name": "airlock"');
    expect(answer.body).not.toBe(packageJson);
  }
  // The same route serves the inbox's own files.
  expect((await rawGet(baseUrl, '/assets/inbox.css')).status).toBe(200);
});

test('a request target the URL parser cannot read gets 400, and the service goes on serving; errors never repeat the path', async () => {
  // Node passes these absolute-form targets through to the handler.
  for (const target of ['http://[/', 'http://a:b:c/', 'http://%zz/', 'http://:99999/']) {
    const answer = await rawGet(baseUrl, target);
    expect([target, answer.status]).toEqual([target, 400]);
    expect(JSON.parse(answer.body)).toEqual({ error: { type: 'RequestInvalid', message: 'The request target is not a path this service can read' } });
  }
  expect((await rawGet(baseUrl, '/healthz')).status).toBe(200);
  const marker = 'x<script>alert(1)</script>';
  for (const [target, status] of [
    [`/api/${encodeURIComponent(marker)}`, 404],
    [`/api/threads/%E0%A4%A/${encodeURIComponent(marker)}`, 404],
    [`/api/threads/%E0%A4%A${encodeURIComponent(marker)}/audit`, 400],
  ] as const) {
    const answer = await rawGet(baseUrl, target, { Authorization: `Bearer ${ALICE}` });
    expect([target, answer.status]).toEqual([target, status]);
    expect(answer.body).not.toContain('script');
    expect(answer.body).not.toContain('%E0');
  }
});

test('refused sign-ins and refused decisions are logged, without any token', async () => {
  const lines: string[] = [];
  const logged = createApprovalServer({ client, tokens: createApproverTokens({ [ALICE]: 'alice', [BOB]: 'bob' }), log: (line) => lines.push(line) });
  const url = await logged.listen({ port: 0 });
  try {
    const { threadId, interruptId } = await waiting('guarded', 'delete the file logged.txt');
    const send = (method: string, route: string, token: string | null, body?: unknown) =>
      fetch(`${url}${route}`, {
        method,
        headers: { 'Content-Type': 'application/json', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
        body: body === undefined ? undefined : JSON.stringify(body),
      });
    expect((await send('GET', '/api/approvals', null)).status).toBe(401);
    for (const token of WRONG_TOKENS) expect((await send('GET', '/api/approvals', token)).status).toBe(401);
    expect((await send('POST', '/api/approvals', WRONG_TOKENS[1], { threadId, interruptId, approved: true })).status).toBe(401);
    // Bob may not delete files; and a decision with a field nobody accepts.
    expect((await send('POST', '/api/approvals', BOB, { threadId, interruptId, approved: true })).status).toBe(403);
    expect((await send('POST', '/api/approvals', ALICE, { threadId, interruptId, approved: true, force: true })).status).toBe(400);

    expect(lines.length).toBeGreaterThan(0);
    expect(tokensIn(lines)).toEqual([]);
    expect(lines.join('\n')).not.toContain('Bearer');
    // One line per refusal, saying when, from where, on what and why.
    expect(lines).toEqual([
      expect.stringMatching(/^\S+ authentication refused \(no token\) from 127\.0\.0\.1: GET "\/api\/approvals"$/),
      expect.stringMatching(/^\S+ authentication refused \(invalid token\) from 127\.0\.0\.1: GET "\/api\/approvals"$/),
      expect.stringMatching(/^\S+ authentication refused \(invalid token\) from 127\.0\.0\.1: GET "\/api\/approvals"$/),
      expect.stringMatching(/^\S+ authentication refused \(invalid token\) from 127\.0\.0\.1: POST "\/api\/approvals"$/),
      expect.stringMatching(new RegExp(`^\\S+ decision refused: approver "bob" thread "${threadId}" interrupt "${interruptId}" from 127\\.0\\.0\\.1: DecisionNotAllowed: `)),
      expect.stringMatching(/^\S+ decision refused: approver "alice" from 127\.0\.0\.1: RequestInvalid: Invalid decision: unknown field force/),
    ]);
  } finally {
    await logged.close();
  }
});

test('airlock serve refuses to start without tokens, and serves the inbox and the API from the built package', async () => {
  const address = process.env.AIRLOCK_TEST_ADDRESS!;
  const refused = await runCli(['serve', '--address', address], { AIRLOCK_APPROVER_TOKENS: '' });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('No approver tokens configured');

  const tokensFile = path.join(tempDir(), 'tokens.json');
  writeFileSync(tokensFile, JSON.stringify({ [ALICE]: 'alice' }));
  const serve = await startBackground(['serve', '--port', '0', '--tokens-file', tokensFile, '--address', address], 'Ready.', { AIRLOCK_APPROVER_TOKENS: '' });
  try {
    const url = /Approval inbox at (http:\/\/\S+)\//.exec(serve.output())![1];
    expect(serve.output()).toContain('approvers: alice');
    expect(serve.output()).not.toContain(ALICE);
    expect((await fetch(`${url}/`)).status).toBe(200);
    expect((await fetch(`${url}/assets/inbox.css`)).status).toBe(200);
    expect(await (await fetch(`${url}/api/me`, { headers: { Authorization: `Bearer ${ALICE}` } })).json()).toEqual({ approver: 'alice' });
  } finally {
    await serve.stop();
  }
});
