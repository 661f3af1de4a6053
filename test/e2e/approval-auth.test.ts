/** The approval service's authentication: token and name checks at load, throttled guessing per address, a log of refusals. */
import http from 'node:http';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, loadApproverTokens, type ApprovalServer } from '../../src/server';
import { AuthGuard } from '../../src/server/auth-guard';
import { connectToDevServer, quietRuntime, unique } from '../helpers';
import { eventually } from './cli-process';

const ALICE = 'alice-3f8e1b6c9d2a47e05b1c';
const WRONG = ['wrong-token-number-one-0000', 'wrong-token-number-two-1111', 'wrong-token-number-three-22'];
const WINDOW_MS = 1_500;

let dev: Awaited<ReturnType<typeof connectToDevServer>>;
let client: AirlockClient;
const servers: ApprovalServer[] = [];

beforeAll(async () => {
  quietRuntime();
  dev = await connectToDevServer();
  client = new AirlockClient({ client: dev.client, taskQueue: unique('approval-auth') });
});

afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await dev?.close();
});

/** A service on 127.0.0.1 that throttles an address after 3 invalid tokens within 1.5 s; its log lines go to `log`. */
async function serve(log: string[] = []): Promise<string> {
  const service = createApprovalServer({
    client,
    tokens: createApproverTokens({ [ALICE]: 'alice' }),
    authFailureLimit: 3,
    authFailureWindowMs: WINDOW_MS,
    log: (line) => log.push(line),
  });
  servers.push(service);
  return service.listen({ port: 0, host: '127.0.0.1' });
}

interface Answer {
  status: number;
  retryAfter?: string;
  body: { error?: { type: string; message: string }; approver?: string };
}

/** `GET /api/me` with an optional token, from a chosen local address (another loopback address is another client). */
function me(baseUrl: string, token?: string, from = '127.0.0.1'): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const headers = token === undefined ? {} : { Authorization: `Bearer ${token}` };
    const request = http.get(`${baseUrl}/api/me`, { headers, localAddress: from }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'], body: JSON.parse(text) }));
    });
    request.on('error', reject);
  });
}

test('a token shorter than 24 characters is refused when the tokens are loaded, and the message does not quote it', () => {
  const short = 'alice-short-token-7c1'; // 21 characters
  expect(() => createApproverTokens({ [short]: 'alice' })).toThrow('Invalid approver tokens: a token must be at least 24 characters long');
  expect(() => loadApproverTokens({ list: `${short}=alice` })).toThrow(/at least 24 characters/);
  try {
    createApproverTokens({ [short]: 'alice' });
  } catch (err) {
    expect((err as Error).message).not.toContain(short);
  }
  expect(createApproverTokens({ [ALICE]: 'alice' }).approvers).toEqual(['alice']);
});

test.each([
  ['a control character', 'ali\u0007ce'],
  ['an escape sequence', '\u001b[31malice'],
  ['a C1 control character', 'alice\u0085'],
  ['a right-to-left override', 'alice\u202Eecila'],
  ['a zero-width joiner', 'ali\u200Dce'],
  ['a lone surrogate', 'alice\uD800'],
  ['more than 100 characters', 'a'.repeat(101)],
])('an approver name with %s is refused when the tokens are loaded, without repeating it', (_what, name) => {
  let message = '';
  try {
    createApproverTokens({ [ALICE]: name });
  } catch (err) {
    message = (err as Error).message;
  }
  expect(message).toMatch(/^Invalid approver tokens: an approver name (holds control or format characters|is longer than 100 characters)/);
  expect(message).not.toContain(name);
  expect(message).not.toContain(ALICE);
});

test('after 3 invalid tokens an address gets 429 with Retry-After, even with a good token, until the window ends; another address is not affected', async () => {
  const baseUrl = await serve();
  // No token guesses nothing: it is refused but not counted.
  for (let i = 0; i < 5; i++) expect((await me(baseUrl)).status).toBe(401);
  const firstFailure = Date.now();
  for (const token of WRONG) expect((await me(baseUrl, token)).status).toBe(401);

  const throttled = await me(baseUrl, 'wrong-token-number-four-333');
  expect(throttled.status).toBe(429);
  expect(throttled.body.error?.type).toBe('TooManyAttempts');
  expect(Number(throttled.retryAfter)).toBeGreaterThanOrEqual(1);
  expect(Number(throttled.retryAfter)).toBeLessThanOrEqual(Math.ceil(WINDOW_MS / 1000));
  // The good token is not even checked while the address is throttled: a guesser learns nothing.
  const good = await me(baseUrl, ALICE);
  expect([good.status, good.body.error?.type]).toEqual([429, 'TooManyAttempts']);
  // Another client address, and another service (its own limiter) on the same address, still sign in.
  expect((await me(baseUrl, ALICE, '127.0.0.2')).body).toEqual({ approver: 'alice' });
  expect((await me(await serve(), ALICE)).body).toEqual({ approver: 'alice' });

  const after = await eventually(async () => {
    const answer = await me(baseUrl, ALICE);
    return answer.status === 200 ? answer : undefined;
  }, 10_000);
  expect(after.body).toEqual({ approver: 'alice' });
  expect(Date.now() - firstFailure).toBeGreaterThanOrEqual(WINDOW_MS - 50);
});

test('a success does not reset the counter of another address, nor its own', async () => {
  const baseUrl = await serve();
  for (const token of WRONG.slice(0, 2)) expect((await me(baseUrl, token, '127.0.0.3')).status).toBe(401);
  expect((await me(baseUrl, ALICE, '127.0.0.4')).status).toBe(200);
  expect((await me(baseUrl, ALICE, '127.0.0.3')).status).toBe(200);
  expect((await me(baseUrl, WRONG[2], '127.0.0.3')).status).toBe(401);
  expect((await me(baseUrl, ALICE, '127.0.0.3')).status).toBe(429);
  expect((await me(baseUrl, ALICE, '127.0.0.4')).status).toBe(200);
});

test('refused attempts are logged with time, address, method, path and reason, never with a token', async () => {
  const log: string[] = [];
  const baseUrl = await serve(log);
  await me(baseUrl);
  for (const token of WRONG) await me(baseUrl, token);
  await me(baseUrl, ALICE);
  await me(baseUrl, ALICE);

  const stamp = '\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z';
  expect(log).toEqual([
    expect.stringMatching(new RegExp(`^${stamp} authentication refused \\(no token\\) from 127\\.0\\.0\\.1: GET "/api/me"$`)),
    ...WRONG.map(() => expect.stringMatching(new RegExp(`^${stamp} authentication refused \\(invalid token\\) from 127\\.0\\.0\\.1: GET "/api/me"$`))),
    // One line per throttled window, not one per refused request.
    expect.stringMatching(new RegExp(`^${stamp} authentication refused \\(throttled\\) from 127\\.0\\.0\\.1: GET "/api/me" \\(3 invalid tokens; refused for \\d s`)),
  ]);
  for (const token of [ALICE, ...WRONG]) expect(log.join('\n')).not.toContain(token);
  expect(log.join('\n')).not.toMatch(/Bearer/i);
});

test('the OpenAPI description gives every authenticated endpoint a 429 with Retry-After', async () => {
  const baseUrl = await serve();
  const document = (await (await fetch(`${baseUrl}/api/openapi.json`)).json()) as {
    paths: Record<string, Record<string, { security?: unknown[]; responses: Record<string, { headers?: Record<string, unknown> }> }>>;
  };
  for (const [path, operations] of Object.entries(document.paths)) {
    for (const [method, operation] of Object.entries(operations)) {
      if (operation.security?.length === 0) continue;
      expect([path, method, Object.keys(operation.responses['429']?.headers ?? {})]).toEqual([path, method, ['Retry-After']]);
    }
  }
});

describe('the auth guard keeps its memory bounded', () => {
  test('past maxAddresses the oldest window is dropped, and ended windows are forgotten', () => {
    let now = 0;
    const guard = new AuthGuard({ limit: 1, windowMs: 1_000, maxAddresses: 2, log: () => undefined, now: () => now });
    const from = (address: string) => ({ address, method: 'GET', path: '/api/me' });
    guard.recordFailure(from('a'), 'invalid token');
    guard.recordFailure(from('b'), 'invalid token');
    expect([guard.retryAfterSeconds(from('a')), guard.retryAfterSeconds(from('b'))]).toEqual([1, 1]);
    guard.recordFailure(from('c'), 'invalid token');
    expect(['a', 'b', 'c'].map((address) => guard.retryAfterSeconds(from(address)))).toEqual([0, 1, 1]);
    now = 1_000;
    expect(['b', 'c'].map((address) => guard.retryAfterSeconds(from(address)))).toEqual([0, 0]);
  });

  test('limits must be positive whole numbers', () => {
    expect(() => new AuthGuard({ limit: 0, log: () => undefined })).toThrow('authFailureLimit must be a positive integer');
    expect(() => createApprovalServer({ client, tokens: createApproverTokens({ [ALICE]: 'alice' }), authFailureWindowMs: 1.5 })).toThrow(
      'authFailureWindowMs must be a positive integer',
    );
  });
});
