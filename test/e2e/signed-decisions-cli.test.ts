/**
 * Signed decisions as an operator sets them up: `airlock keys create`, a worker that requires
 * signatures, `airlock approve --key`, and `airlock serve --signing-key` relaying a browser's
 * decision, all as spawned processes against a real dev server.
 */
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { AirlockClient } from '../../src/client';
import type { AuditEntry } from '../../src/core';
import { endThreads, tempDir, unique } from '../helpers';
import { airlock, eventually, startBackground } from './cli-process';

const TOKEN = 'carol-signed-cli-4b9e2d7a1c6f08e3';
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;
let taskQueue: string;
let home: string;
let keys: string;
const processes: Array<Awaited<ReturnType<typeof startBackground>>> = [];
/** Threads the tests started: ended before the worker stops, so a failure leaves none waiting. */
const threads: string[] = [];
const connection = () => ['--address', address(), '--task-queue', taskQueue];
const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

beforeAll(async () => {
  taskQueue = unique('signed-cli');
  home = tempDir();
  keys = tempDir('airlock-keys-');
  for (const args of [['--id', 'alice-laptop', '--owner', 'alice'], ['--id', 'inbox', '--owner', 'approval-service', '--service']]) {
    const created = await airlock(['keys', 'create', ...args, '--out', keys]);
    expect(created.code).toBe(0);
  }
  const trusted = ['alice-laptop', 'inbox'].map((id) => JSON.parse(readFileSync(path.join(keys, `${id}.pub.json`), 'utf8')));
  writeFileSync(path.join(keys, 'trusted.json'), JSON.stringify(trusted));
  processes.push(await startBackground(['worker', '--home', home, '--approver-keys', path.join(keys, 'trusted.json'), '--require-signatures', ...connection()], 'Ready.'));
});
afterAll(async () => {
  const connection = await Connection.connect({ address: address() });
  await endThreads(new AirlockClient({ client: new Client({ connection }) }), threads);
  await connection.close();
  for (const running of processes) await running.stop();
});

async function waitingThread(message: string): Promise<{ threadId: string; interruptId: string }> {
  const threadId = unique('signed');
  threads.push(threadId);
  const started = await airlock(['start', '--thread', threadId, '--json', message, ...connection()]);
  expect(started.code).toBe(0);
  return { threadId, interruptId: JSON.parse(started.stdout).state.currentInterrupt.id };
}

test('keys create writes a private key only its owner can read, and refuses to overwrite it', async () => {
  const privateFile = path.join(keys, 'alice-laptop.key.json');
  expect(statSync(privateFile).mode & 0o777).toBe(0o600);
  expect(JSON.parse(readFileSync(path.join(keys, 'alice-laptop.pub.json'), 'utf8'))).toEqual({
    keyId: 'alice-laptop',
    kind: 'approver',
    owner: 'alice',
    publicKey: expect.stringMatching(/^[A-Za-z0-9+/]{43}=$/),
  });
  const again = await airlock(['keys', 'create', '--id', 'alice-laptop', '--owner', 'alice', '--out', keys]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/exists already/);
});

test('an unsigned approval, or one as someone else, is refused; a signed one deletes the file and the audit says who signed', async () => {
  const { threadId, interruptId } = await waitingThread('delete the file notes.txt');
  const unsigned = await airlock(['approve', threadId, interruptId, '--as', 'alice', ...connection()]);
  expect(unsigned.code).toBe(3);
  expect(unsigned.stderr).toMatch(/Refused \(DecisionSignatureRequired\)/);
  const keyFile = path.join(keys, 'alice-laptop.key.json');
  const impersonating = await airlock(['approve', threadId, interruptId, '--key', keyFile, '--as', 'bob', ...connection()]);
  expect(impersonating.code).toBe(2);
  expect(impersonating.stderr).toMatch(/signs for alice only/);
  expect(existsSync(path.join(home, 'sandbox/notes.txt'))).toBe(true);

  const signed = await airlock(['approve', threadId, interruptId, '--key', keyFile, '--reason', 'old', ...connection()]);
  expect(signed.stderr).toBe('');
  expect(signed.code).toBe(0);
  expect(signed.stdout).toContain('by alice (signed with key alice-laptop)');
  await eventually(async () => (existsSync(path.join(home, 'sandbox/notes.txt')) ? undefined : true));

  const audit = jsonLines<AuditEntry>((await airlock(['audit', threadId, '--json', ...connection()])).stdout);
  expect(audit.map((entry) => [entry.decision, entry.approver, entry.refusal?.errorType, entry.signedBy?.keyId])).toEqual([
    ['accepted', 'alice', undefined, 'alice-laptop'],
    ['refused', 'alice', 'DecisionSignatureRequired', undefined],
  ]);
  expect(audit.every((entry) => entry.sender?.startsWith('airlock-cli '))).toBe(true);
  // The table says it too: which key signed, and which Temporal identity sent each decision.
  const table = (await airlock(['audit', threadId, ...connection()])).stdout;
  expect(table).toMatch(/accepted\s+alice\s+old\s+Deleted .*key alice-laptop\s+airlock-cli .*\(update\)/);
  expect(table).toMatch(/refused\s+alice\s+DecisionSignatureRequired.*airlock-cli .*\(update\)/);
});

test('the approval service signs what it relays with its service key, under the approver its token names', async () => {
  const service = await startBackground(['serve', '--port', '0', '--signing-key', path.join(keys, 'inbox.key.json'), ...connection()], 'Ready.', {
    AIRLOCK_APPROVER_TOKENS: `${TOKEN}=carol`,
  });
  processes.push(service);
  const base = /Approval inbox at (http:\/\/[^/]+)\//.exec(service.output())![1];
  const { threadId, interruptId } = await waitingThread('send an email to ops@example.com about keys');
  const response = await fetch(`${base}/api/approvals`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({ threadId, interruptId, approved: true }),
  });
  expect(response.status).toBe(200);
  expect(await response.json()).toMatchObject({ outcome: { resolution: { type: 'accepted', approver: 'carol', signedBy: { keyId: 'inbox', kind: 'service' } } } });
  const [entry] = jsonLines<AuditEntry>((await airlock(['audit', threadId, '--json', ...connection()])).stdout);
  expect(entry).toMatchObject({ decision: 'accepted', approver: 'carol', signedBy: { keyId: 'inbox', owner: 'approval-service' } });
  expect(entry.sender).toMatch(/^airlock-approval-service /);
  expect(service.output()).toContain('Decisions are signed with service key inbox.');
});
