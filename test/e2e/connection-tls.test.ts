/**
 * TLS and mTLS end to end: a TLS-terminating proxy (tls-proxy.ts) in front of the run's dev
 * server, with certificates made by openssl (test/tls-certs.ts). The worker, the CLI and the
 * approval service connect through it with the `TEMPORAL_TLS_*` variables alone and a thread is
 * approved; `npm start` does the same with a profile's `tls` table; a CA that did not sign the server's certificate, a wrong server name and a client
 * certificate the server does not trust are each refused with a sentence that says so.
 */
import { existsSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { AirlockClient, type PendingApproval } from '../../src/client';
import { connectToDevServer, endThreads, tempDir, unique } from '../helpers';
import { createCa, createTlsCerts, issueCert, type TlsCerts } from '../tls-certs';
import { airlock, converse, eventually, startBackground } from './cli-process';
import { startTlsProxy, type TlsProxy } from './tls-proxy';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const SERVER_NAME = 'temporal.airlock.test';
let certs: TlsCerts;
let proxy: TlsProxy;
let home: string;
let taskQueue: string;
let worker: Awaited<ReturnType<typeof startBackground>> | undefined;
const threads: string[] = [];

/** mTLS by the variables alone: the proxy's address, the CA, the client certificate and key, the server name. */
const overTls = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: proxy.address,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca.cert,
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
  TEMPORAL_TLS_SERVER_NAME: SERVER_NAME,
  TEMPORAL_CONFIG_FILE: '',
  TEMPORAL_PROFILE: '',
  TEMPORAL_TASK_QUEUE: taskQueue,
  AIRLOCK_HOME: home,
  OPENAI_API_KEY: '',
  OPENAI_BASE_URL: '',
  ...extra,
});

beforeAll(async () => {
  // The server's certificate carries only a name: connecting by IP needs TEMPORAL_TLS_SERVER_NAME.
  certs = createTlsCerts({ serverNames: [SERVER_NAME] });
  proxy = await startTlsProxy({ server: certs.server, clientCa: certs.ca.cert, target: process.env.AIRLOCK_TEST_ADDRESS! });
  home = tempDir();
  taskQueue = unique('tls');
});
afterAll(async () => {
  if (worker) {
    const dev = await connectToDevServer();
    await endThreads(new AirlockClient({ client: dev.client, taskQueue }), threads).finally(() => dev.close());
    await worker.stop();
  }
  await proxy?.close();
});

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

test('over mTLS, by TEMPORAL_TLS_* variables only, the worker and the CLI approve a thread', async () => {
  worker = await startBackground(['worker'], 'Ready.', overTls());
  expect(worker.output()).toContain(`Worker on ${proxy.address} (namespace default, mTLS), task queue ${taskQueue}`);
  const threadId = unique('tls-thread');
  threads.push(threadId);
  const start = await airlock(['start', '--thread', threadId, 'delete the file notes.txt'], overTls());
  expect(start.code).toBe(0);
  expect(start.stdout).toContain(`Thread ${threadId} waits for approval:`);
  const pending = await eventually(async () => jsonLines<PendingApproval>((await airlock(['pending', '--json'], overTls())).stdout).find((approval) => approval.threadId === threadId));
  const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice'], overTls());
  expect(approved.code).toBe(0);
  expect(approved.stdout).toContain(`Applied: accepted ${pending.id} on ${threadId} by alice`);
  await eventually(async () => (existsSync(path.join(home, 'sandbox/notes.txt')) ? undefined : true));
  // The worker and every command came through the proxy's handshake.
  expect(proxy.accepted()).toBeGreaterThanOrEqual(4);
});

test('the approval service connects over mTLS too', async () => {
  const service = await startBackground(['serve', '--port', '0'], 'Ready.', overTls({ AIRLOCK_APPROVER_TOKENS: 'tls-token-5e0c8f3a91d47b26=alice' }));
  try {
    expect(service.output()).toContain(`Temporal ${proxy.address} (namespace default, mTLS); approvers: alice`);
    const url = /Approval inbox at (http:\/\/\S+)\//.exec(service.output())![1];
    const response = await fetch(`${url}/api/approvals`, { headers: { authorization: 'Bearer tls-token-5e0c8f3a91d47b26' } });
    expect(response.status).toBe(200);
  } finally {
    await service.stop();
  }
});

test('npm start with a profile whose tls table names the certificates chats and approves over mTLS', async () => {
  const configFile = path.join(certs.dir, 'temporal.toml');
  writeFileSync(
    configFile,
    `[profile.mtls]
address = "${proxy.address}"
[profile.mtls.tls]
server_ca_cert_path = "${certs.ca.cert}"
client_cert_path = "${certs.client.cert}"
client_key_path = "${certs.client.key}"
server_name = "${SERVER_NAME}"
`,
  );
  const threadId = unique('tls-start');
  threads.push(threadId);
  const acceptedBefore = proxy.accepted();
  const onlyProfile = { TEMPORAL_ADDRESS: '', TEMPORAL_TLS_SERVER_CA_CERT_PATH: '', TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '', TEMPORAL_TLS_SERVER_NAME: '' };
  const session = converse(MAIN, ['--thread', threadId], overTls({ ...onlyProfile, TEMPORAL_CONFIG_FILE: configFile, TEMPORAL_PROFILE: 'mtls', AIRLOCK_APPROVER: 'erin' }));
  await session.waitFor('Type exit to leave.');
  session.type('delete the file draft.md');
  await session.waitFor('Approve?');
  session.type('y');
  await session.waitFor('Agent:');
  session.type('exit');
  session.child.stdin!.end();
  expect((await session.exited).code).toBe(0);
  expect(session.output()).not.toContain('Starting the local Temporal dev server');
  expect(session.output()).toContain(`Temporal:   ${proxy.address} (namespace default, mTLS, profile mtls)\n`);
  expect(session.output()).toContain(`- delete_file: Deleted ${path.join(home, 'sandbox', 'draft.md')}`);
  expect(proxy.accepted()).toBeGreaterThan(acceptedBefore);
}, 120_000);

describe('a TLS connection that cannot be trusted is refused with a sentence that says why', () => {
  test('a server CA that did not sign the server certificate', async () => {
    const otherCa = createCa(tempDir('airlock-tls-other-'), 'Some other CA');
    const cli = await airlock(['pending'], overTls({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: otherCa.cert }));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(new RegExp(`^airlock pending: Cannot reach Temporal at ${proxy.address} over TLS \\(the server's certificate is not signed by a trusted CA \\([A-Z_]+\\): check the server CA certificate\\)`));
    const workerRun = await airlock(['worker'], overTls({ TEMPORAL_TLS_SERVER_CA_CERT_PATH: otherCa.cert }));
    expect(workerRun.code).toBe(1);
    expect(workerRun.stderr).toContain("over TLS (the server's certificate is not signed by a trusted CA");
  });

  test('a server name the certificate does not carry', async () => {
    const cli = await airlock(['pending'], overTls({ TEMPORAL_TLS_SERVER_NAME: '' }));
    expect(cli.code).toBe(1);
    expect(cli.stderr).toContain(`over TLS (the server's certificate is not for '127.0.0.1': check the address or the TLS server name)`);
  });

  test('a client certificate the server does not trust, or none', async () => {
    const strangerDir = tempDir('airlock-tls-stranger-');
    const stranger = issueCert(createCa(strangerDir, 'Stranger CA'), strangerDir, 'stranger', { clientName: 'stranger' });
    const refusedBefore = proxy.refused();
    const untrusted = await airlock(['pending'], overTls({ TEMPORAL_TLS_CLIENT_CERT_PATH: stranger.cert, TEMPORAL_TLS_CLIENT_KEY_PATH: stranger.key }));
expect(untrusted.code).toBe(1);
    expect(untrusted.stderr).toMatch(/over TLS \(the server (refused the TLS connection \([A-Z0-9_]+\)|closed the TLS connection without answering): it may require a client certificate it trusts\)/);
    const none = await airlock(['pending'], overTls({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' }));
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('it may require a client certificate it trusts');
    expect(proxy.refused()).toBeGreaterThanOrEqual(refusedBefore + 2);
  });
});
