/**
 * Every program reads an encrypted thread as before once its codec keys are set
 * (`AIRLOCK_CODEC_KEYS`): `airlock worker` writes it encrypted, `airlock pending`, `approve` and
 * `audit` read and decide it, `airlock serve` lists it on the approval API and serves the codec
 * endpoint. Without the keys, reading fails saying why; keys that cannot be used are refused at
 * start without printing them.
 */
import { randomBytes } from 'node:crypto';
import { Client, Connection } from '@temporalio/client';
import type { AuditEntry } from '../../src/core';
import { AirlockClient, type PendingApproval } from '../../src/client';
import { EncryptionCodec, createKeyring } from '../../src/codec';
import { endThreads, tempDir, unique } from '../helpers';
import { airlock, eventually, startBackground } from './cli-process';

const TOKEN = 'alice-doors-5e0c8f3a91d47b26e8c3';
const KEY = { id: 'k-doors', key: randomBytes(32).toString('base64') };
const withKeys = { AIRLOCK_CODEC_KEYS: `${KEY.id}=${KEY.key}` };
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;
let taskQueue: string;
let temporal: Connection;
let client: AirlockClient;
const processes: Array<Awaited<ReturnType<typeof startBackground>>> = [];
const threads: string[] = [];
const connection = () => ['--address', address(), '--task-queue', taskQueue];
const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

beforeAll(async () => {
  taskQueue = unique('doors');
  temporal = await Connection.connect({ address: address() });
  const codec = new EncryptionCodec(createKeyring([KEY]));
  client = new AirlockClient({ client: new Client({ connection: temporal, dataConverter: { payloadCodecs: [codec] } }), taskQueue, defaultAgent: 'assistant' });
  const worker = await startBackground(['worker', '--home', tempDir(), ...connection()], 'Ready.', withKeys);
  processes.push(worker);
  expect(worker.output()).toContain(`History encrypted with key ${KEY.id}.`);
});
afterAll(async () => {
  if (client) await endThreads(client, threads);
  await Promise.all(processes.map((child) => child.stop()));
  await temporal?.close();
});

test(
  'pending, the approval API, approve and audit read and decide an encrypted thread; without keys, audit says it cannot',
  async () => {
    const threadId = unique('doors');
    threads.push(threadId);
    expect((await client.handleMessage(threadId, 'delete the file notes.txt')).state.status).toBe('awaiting_approval');

    const [pending] = await eventually(async () => {
      const result = await airlock(['pending', '--json', ...connection()], withKeys);
      expect(result.code).toBe(0);
      const mine = jsonLines<PendingApproval>(result.stdout).filter((approval) => approval.threadId === threadId);
      return mine.length ? mine : undefined;
    });
    expect(pending).toMatchObject({ toolName: 'delete_file', args: { path: 'notes.txt' }, policyNote: 'File deletion is irreversible' });
    // Without keys the encrypted thread is left out and said to be, and the listing still works.
    const keyless = await airlock(['pending', '--json', ...connection()]);
    expect(keyless.code).toBe(0);
    expect(jsonLines<PendingApproval>(keyless.stdout).filter((approval) => approval.threadId === threadId)).toEqual([]);
    expect(keyless.stderr).toMatch(/\d+ waiting thread\(s\) left out: their history is encrypted/);

    const serve = await startBackground(['serve', '--port', '0', '--web-ui-origin', 'http://localhost:8233', ...connection()], 'Ready.', { ...withKeys, AIRLOCK_APPROVER_TOKENS: `${TOKEN}=alice` });
    processes.push(serve);
    const url = /Approval inbox at (http:\/\/\S+)\//.exec(serve.output())![1];
    expect(serve.output()).toContain(`Web UI codec endpoint ${url}/codec`);
    const listed = (await (await fetch(`${url}/api/approvals`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { approvals: PendingApproval[] };
    expect(listed.approvals.find((approval) => approval.threadId === threadId)).toMatchObject({ args: { path: 'notes.txt' } });
    const decoded = await fetch(`${url}/codec/decode`, { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Namespace': 'default' }, body: JSON.stringify({ payloads: [] }) });
    expect(decoded.status).toBe(401);

    // A service without the keys leaves the thread out of its inbox, and its log says so.
    const keylessService = await startBackground(['serve', '--port', '0', ...connection()], 'Ready.', { AIRLOCK_APPROVER_TOKENS: `${TOKEN}=alice` });
    processes.push(keylessService);
    const keylessUrl = /Approval inbox at (http:\/\/\S+)\//.exec(keylessService.output())![1];
    const blindList = (await (await fetch(`${keylessUrl}/api/approvals`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { approvals: PendingApproval[] };
    expect(blindList.approvals.filter((approval) => approval.threadId === threadId)).toEqual([]);
    await eventually(async () => (/\d+ waiting thread\(s\) cannot be read with this service's codec keys/.test(keylessService.output()) ? true : undefined));

    const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice', ...connection()], withKeys);
    expect([approved.code, approved.stderr]).toEqual([0, expect.any(String)]);

    const audit = await airlock(['audit', threadId, '--json', ...connection()], withKeys);
    expect(audit.code).toBe(0);
    const entry = jsonLines<AuditEntry>(audit.stdout).find((line) => line.interruptId === pending.id && line.decision === 'accepted');
    expect(entry).toMatchObject({ toolName: 'delete_file', toolArgs: { path: 'notes.txt' }, approver: 'alice', result: expect.stringContaining('notes.txt') });
    const apiAudit = (await (await fetch(`${url}/api/threads/${threadId}/audit`, { headers: { Authorization: `Bearer ${TOKEN}` } })).json()) as { entries: AuditEntry[] };
    expect(JSON.stringify(apiAudit)).toContain('"approver":"alice"');

    const shown = await airlock(['show', threadId, ...connection()], withKeys);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain('notes.txt');

    const blind = await airlock(['audit', threadId, ...connection()]);
    expect(blind.code).toBe(1);
    expect(blind.stderr).toContain(`This thread's history is encrypted (key '${KEY.id}') and this client has no codec keys`);
  },
  180_000,
);

test('codec keys that cannot be used stop a program at start, and the message never prints them', async () => {
  const short = randomBytes(16).toString('base64');
  const result = await airlock(['pending', ...connection()], { AIRLOCK_CODEC_KEYS: `k-short=${short}` });
  expect(result.code).toBe(2);
  expect(result.stderr).toContain("Key #1 of the codec keys ('k-short') is not 32 bytes in base64");
  expect(result.stderr).not.toContain(short);
  const missing = await airlock(['worker', ...connection()], { AIRLOCK_CODEC_KEYS_FILE: '/nonexistent/keys.json' });
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('Cannot read the codec keys file /nonexistent/keys.json: no such file');
});
