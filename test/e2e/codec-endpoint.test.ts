/**
 * The codec endpoint the Temporal Web UI calls (`airlock serve` with codec keys, under /codec/):
 * it decrypts only for a signed-in approver (bearer token or the session cookie of a sign-in),
 * answers CORS for the configured Web UI origin only, and refuses malformed input without
 * repeating it.
 */
import http from 'node:http';
import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { defaultPayloadConverter } from '@temporalio/common';
import { AirlockClient } from '../../src/client';
import { EncryptionCodec, createKeyring } from '../../src/codec';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { connectToDevServer, quietRuntime, unique } from '../helpers';

const ALICE = 'alice-codec-7f3e1b6c9d2a47e05b';
const UI_ORIGIN = 'http://localhost:8233';
const codec = new EncryptionCodec(createKeyring([{ id: 'k1', key: randomBytes(32).toString('base64') }]));

let dev: Awaited<ReturnType<typeof connectToDevServer>>;
let service: ApprovalServer;
let baseUrl: string;
const log: string[] = [];

beforeAll(async () => {
  quietRuntime();
  dev = await connectToDevServer();
  const client = new AirlockClient({ client: dev.client, taskQueue: unique('codec-endpoint') });
  service = createApprovalServer({
    client,
    tokens: createApproverTokens({ [ALICE]: 'alice' }),
    log: (line) => log.push(line),
    codec: { payloadCodec: codec, namespace: 'default', webUiOrigins: [UI_ORIGIN], maxBodyBytes: 64 * 1024 },
  });
  baseUrl = await service.listen({ port: 0, host: '127.0.0.1' });
});
afterAll(async () => {
  await service?.close();
  await dev?.close();
});

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
}

/** One request to the service, raw: any method, headers and body. */
function request(method: string, path: string, headers: Record<string, string> = {}, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${baseUrl}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode!, headers: res.headers, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

const json = { 'Content-Type': 'application/json', 'X-Namespace': 'default' };
const bearer = { ...json, Authorization: `Bearer ${ALICE}` };
const asJson = (value: unknown) => {
  const payload = defaultPayloadConverter.toPayload(value)!;
  return { metadata: Object.fromEntries(Object.entries(payload.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(payload.data!).toString('base64') };
};
const metadataText = (payload: { metadata: Record<string, string> }, key: string) => Buffer.from(payload.metadata[key], 'base64').toString();

test('without credentials, or with a wrong token, nothing is decrypted (401)', async () => {
  const [sealed] = await codec.encode([defaultPayloadConverter.toPayload({ path: '/srv/customers.db' })!]);
  const body = JSON.stringify({ payloads: [{ metadata: { encoding: Buffer.from(sealed.metadata!.encoding!).toString('base64'), 'encryption-key-id': Buffer.from('k1').toString('base64') }, data: Buffer.from(sealed.data!).toString('base64') }] });
  for (const headers of [json, { ...json, Authorization: 'Bearer not-the-token-of-anyone-at-all' }, { ...json, Cookie: 'airlock_codec_session=forged' }]) {
    const answer = await request('POST', '/codec/decode', headers, body);
    expect(answer.status).toBe(401);
    expect(answer.text).not.toContain('customers');
    expect(JSON.parse(answer.text).payloads).toBeUndefined();
  }
  expect(log.some((line) => line.includes('authentication refused (invalid token)') && line.includes('/codec/decode'))).toBe(true);
});

test('with a token, encode then decode gives back the payloads exactly', async () => {
  const originals = [asJson({ path: '/srv/customers.db' }), asJson('a user message'), asJson(null)];
  const encoded = await request('POST', '/codec/encode', bearer, JSON.stringify({ payloads: originals }));
  expect(encoded.status).toBe(200);
  const sealed = JSON.parse(encoded.text).payloads as Array<{ metadata: Record<string, string>; data: string }>;
  expect(sealed.map((payload) => [metadataText(payload, 'encoding'), metadataText(payload, 'encryption-key-id')])).toEqual(Array(3).fill(['binary/encrypted', 'k1']));
  expect(encoded.text).not.toContain(Buffer.from('customers').toString('base64').slice(0, 8));
  const decoded = await request('POST', '/codec/decode?preserveStorageRefs=true', bearer, JSON.stringify({ payloads: sealed }));
  expect(decoded.status).toBe(200);
  expect(JSON.parse(decoded.text).payloads).toEqual(originals);
  // An empty list, as protobuf's JSON writes it (what the temporal CLI sends): no payloads back.
  const empty = await request('POST', '/codec/decode', bearer, '{}');
  expect([empty.status, JSON.parse(empty.text)]).toEqual([200, { payloads: [] }]);
});

test('a browser signs in once with its token and its session cookie then decodes; signing out ends it', async () => {
  const page = await request('GET', '/codec/');
  expect(page.status).toBe(200);
  expect(page.headers['content-type']).toMatch(/^text\/html/);
  expect(page.text).toContain('action="/codec/session"');
  const form = { 'Content-Type': 'application/x-www-form-urlencoded' };
  const wrong = await request('POST', '/codec/session', form, 'token=not-the-token-of-anyone-at-all');
  expect(wrong.status).toBe(401);
  expect(wrong.headers['set-cookie']).toBeUndefined();
  const signedIn = await request('POST', '/codec/session', form, `token=${encodeURIComponent(ALICE)}`);
  expect(signedIn.status).toBe(200);
  const cookie = signedIn.headers['set-cookie']![0];
  expect(cookie).toMatch(/^airlock_codec_session=[A-Za-z0-9_-]{43}; Path=\/codec; HttpOnly; SameSite=Strict; Max-Age=\d+$/);
  const session = cookie.split(';')[0];
  const body = JSON.stringify({ payloads: [asJson('hello')] });
  expect((await request('POST', '/codec/encode', { ...json, Cookie: session }, body)).status).toBe(200);
  expect((await request('GET', '/codec/', { Cookie: session })).text).toContain('Signed in as alice');
  // Behind a TLS proxy, the cookie never travels over plain HTTP.
  const proxied = await request('POST', '/codec/session', { ...form, 'X-Forwarded-Proto': 'https' }, `token=${encodeURIComponent(ALICE)}`);
  expect(proxied.headers['set-cookie']![0]).toMatch(/; Secure$/);
  await request('POST', '/codec/sign-out', { Cookie: session });
  expect((await request('POST', '/codec/encode', { ...json, Cookie: session }, body)).status).toBe(401);
});

test('CORS: the Web UI origin gets its preflight and its answers; any other origin does not', async () => {
  const preflight = await request('OPTIONS', '/codec/decode', { Origin: UI_ORIGIN, 'Access-Control-Request-Method': 'POST', 'Access-Control-Request-Headers': 'content-type,x-namespace,authorization' });
  expect(preflight.status).toBe(204);
  expect(preflight.headers).toMatchObject({
    'access-control-allow-origin': UI_ORIGIN,
    'access-control-allow-credentials': 'true',
    'access-control-allow-methods': 'POST, OPTIONS',
    'access-control-allow-headers': 'Content-Type, X-Namespace, Authorization',
    vary: 'Origin',
  });
  const other = await request('OPTIONS', '/codec/decode', { Origin: 'http://evil.example', 'Access-Control-Request-Method': 'POST' });
  expect(other.status).toBe(403);
  expect(other.headers['access-control-allow-origin']).toBeUndefined();

  const body = JSON.stringify({ payloads: [asJson('hello')] });
  const fromUi = await request('POST', '/codec/encode', { ...bearer, Origin: UI_ORIGIN }, body);
  expect(fromUi.status).toBe(200);
  expect(fromUi.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  // The UI can read why it was refused, too.
  const refused = await request('POST', '/codec/decode', { ...json, Origin: UI_ORIGIN }, body);
  expect(refused.status).toBe(401);
  expect(refused.headers['access-control-allow-origin']).toBe(UI_ORIGIN);
  // A page of another origin gets nothing, even with valid credentials.
  const fromOther = await request('POST', '/codec/decode', { ...bearer, Origin: 'http://evil.example' }, body);
  expect(fromOther.status).toBe(403);
  expect(fromOther.headers['access-control-allow-origin']).toBeUndefined();
});

test('malformed input gets 400 (or 413, 403, 422) with a fixed message that does not repeat it', async () => {
  const marker = 'NOT-JSON-<script>alert(1)</script>';
  const cases: Array<[string, Record<string, string>, string, number]> = [
    ['invalid JSON', bearer, `{"payloads": [${marker}`, 400],
    ['the wrong shape', bearer, JSON.stringify({ payloads: [{ data: marker }] }), 400],
    ['not a list', bearer, JSON.stringify({ payloads: marker }), 400],
    ['another content type', { ...bearer, 'Content-Type': 'text/plain' }, JSON.stringify({ payloads: [] }), 400],
    ['another namespace', { ...bearer, 'X-Namespace': `${marker}` }, JSON.stringify({ payloads: [] }), 403],
    ['a body over the limit', bearer, JSON.stringify({ payloads: [{ data: 'A'.repeat(70 * 1024) }], marker }), 413],
  ];
  for (const [name, headers, body, status] of cases) {
    const answer = await request('POST', '/codec/decode', headers, body);
    expect([name, answer.status]).toEqual([name, status]);
    expect(answer.text).not.toContain('NOT-JSON');
    expect(answer.text).not.toContain('<script>');
  }
  // A payload under a key the service lacks: 422 naming the key id, nothing decrypted.
  const [foreign] = await new EncryptionCodec(createKeyring([{ id: 'k-elsewhere', key: randomBytes(32).toString('base64') }])).encode([defaultPayloadConverter.toPayload('secret')!]);
  const unknown = await request('POST', '/codec/decode', bearer, JSON.stringify({ payloads: [{ metadata: Object.fromEntries(Object.entries(foreign.metadata!).map(([k, v]) => [k, Buffer.from(v!).toString('base64')])), data: Buffer.from(foreign.data!).toString('base64') }] }));
  expect(unknown.status).toBe(422);
  expect(JSON.parse(unknown.text).error.message).toContain("'k-elsewhere'");
});

test('any body thrown at decode gets an answer below 500 that never repeats it', async () => {
  const marked = fc.string({ minLength: 1, maxLength: 40 }).map((text) => `MARK${text}`);
  const body = fc.oneof(
    marked,
    marked.map((text) => JSON.stringify({ payloads: [{ metadata: { encoding: text }, data: text }] })),
    marked.map((text) => JSON.stringify({ payloads: [{ metadata: { [text]: 'AA==' }, data: 'AA==' }] })),
    marked.map((text) => JSON.stringify({ payloads: text })),
    fc.jsonValue().map((value) => JSON.stringify({ payloads: [value], note: 'MARK' })),
  );
  await fc.assert(
    fc.asyncProperty(body, async (text) => {
      const answer = await request('POST', '/codec/decode', bearer, text);
      expect(answer.status).toBeLessThan(500);
      if (answer.status !== 200) expect(answer.text).not.toContain('MARK');
    }),
    { numRuns: 150 },
  );
});
