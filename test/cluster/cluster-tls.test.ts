/**
 * The cluster's frontend with mutual TLS (certificates made by openssl for this test): a worker and
 * the CLI connect to it through the TEMPORAL_TLS_* settings alone and a thread is approved; a plain
 * connection and one without a client certificate are refused. A second cluster of its own (its
 * own PostgreSQL and services, in a temporary folder), stopped at the end. Runs in `npm run test:cluster`.
 */
import { chmodSync, existsSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { PendingApproval } from '../../src/client';
import { startCluster, stopCluster, type Cluster } from '../../src/devtools/cluster';
import { tempDir, unique } from '../helpers';
import { createTlsCerts, type TlsCerts } from '../tls-certs';
import { airlock, eventually, startBackground } from '../e2e/cli-process';

let certs: TlsCerts;
let cluster: Cluster;
let clusterDir: string;
let home: string;
let worker: Awaited<ReturnType<typeof startBackground>> | undefined;
const taskQueue = unique('cluster-tls');

/** The address, the CA, the client certificate and key: nothing else says how to connect. */
const overTls = (extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({
  TEMPORAL_ADDRESS: cluster.address,
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: certs.ca.cert,
  TEMPORAL_TLS_CLIENT_CERT_PATH: certs.client.cert,
  TEMPORAL_TLS_CLIENT_KEY_PATH: certs.client.key,
  TEMPORAL_TASK_QUEUE: taskQueue,
  AIRLOCK_HOME: home,
  ...extra,
});

beforeAll(async () => {
  // The server's certificate names the address clients dial, so no server-name override is needed.
  certs = createTlsCerts({ serverNames: ['127.0.0.1', 'localhost'] });
  clusterDir = tempDir('airlock-tls-cluster-');
  chmodSync(clusterDir, 0o755); // PostgreSQL runs as its own user and must reach its data directory inside
  home = tempDir();
  cluster = await startCluster({
    dir: clusterDir,
    tls: { certFile: certs.server.cert, keyFile: certs.server.key, caFile: certs.ca.cert, requireClientCert: true },
    log: () => undefined,
  }).catch(async (err: Error) => {
    await stopCluster({ dir: clusterDir }).catch(() => undefined);
    throw err;
  });
}, 240_000);

afterAll(async () => {
  await worker?.stop();
  await stopCluster({ dir: clusterDir }).catch(() => undefined);
  rmSync(clusterDir, { recursive: true, force: true });
}, 60_000);

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

test('a worker and the CLI approve a thread on the mTLS frontend, configured by TEMPORAL_TLS_* alone', async () => {
  expect(cluster.tls).toBe(true);
  worker = await startBackground(['worker'], 'Ready.', overTls());
  expect(worker.output()).toContain(`Worker on ${cluster.address} (namespace default, mTLS), task queue ${taskQueue}`);

  const threadId = unique('tls-thread');
  const start = await airlock(['start', '--thread', threadId, 'delete the file notes.txt'], overTls());
  expect([start.code, start.stdout]).toEqual([0, expect.stringContaining(`Thread ${threadId} waits for approval:`)]);
  const pending = await eventually(async () => jsonLines<PendingApproval>((await airlock(['pending', '--json'], overTls())).stdout).find((approval) => approval.threadId === threadId));
  expect(pending).toMatchObject({ toolName: 'delete_file', args: { path: 'notes.txt' } });

  const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice'], overTls());
  expect([approved.code, approved.stdout]).toEqual([0, expect.stringContaining(`Applied: accepted ${pending.id} on ${threadId} by alice`)]);
  await eventually(async () => (existsSync(path.join(home, 'sandbox/notes.txt')) ? undefined : true));

  const audit = await airlock(['audit', threadId, '--json'], overTls());
  expect(jsonLines<{ decision: string; approver?: string }>(audit.stdout).find((entry) => entry.decision === 'accepted')).toMatchObject({ approver: 'alice' });
});

test('without TLS, or without a client certificate, the frontend refuses the connection', async () => {
  const plain = await airlock(['pending'], { TEMPORAL_ADDRESS: cluster.address });
  expect(plain.code).toBe(1);
  expect(plain.stderr).toContain(`Cannot reach Temporal at ${cluster.address}`);

  const noClientCert = await airlock(['pending'], overTls({ TEMPORAL_TLS_CLIENT_CERT_PATH: '', TEMPORAL_TLS_CLIENT_KEY_PATH: '' }));
  expect(noClientCert.code).toBe(1);
  expect(noClientCert.stderr).toMatch(/certificate/i);
});
