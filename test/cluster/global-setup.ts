/**
 * Starts a fresh local cluster for the run (PostgreSQL and one process per Temporal service, see
 * src/devtools/cluster.ts) and bundles the workflow code once; tests read the address, the cluster's
 * folder and the bundle from the environment, as they do with the dev server.
 */
import { rmSync } from 'node:fs';
import path from 'node:path';
import { startCluster, stopCluster } from '../../src/devtools/cluster';
import { TEMPORAL_HOME } from '../../src/devtools/temporal-binaries';
import { isolateFromUserTemporalSettings } from '../isolated-environment';
import { useRunTempFolder } from '../run-temp';
import { writeTestBundle } from '../test-bundle';

export const TEST_CLUSTER_DIR = path.join(TEMPORAL_HOME, 'cluster-test');

export default async function globalSetup(): Promise<void> {
  isolateFromUserTemporalSettings();
  // A cluster left over by an interrupted run is stopped, and every run starts from empty databases.
  await stopCluster({ dir: TEST_CLUSTER_DIR });
  rmSync(TEST_CLUSTER_DIR, { recursive: true, force: true });
  const started = Date.now();
  const cluster = await startCluster({ dir: TEST_CLUSTER_DIR, log: (line) => process.stderr.write(`\n[cluster] ${line}`) }).catch(async (err: Error) => {
    // Jest runs no teardown after a failed setup: stop whatever did start.
    await stopCluster({ dir: TEST_CLUSTER_DIR }).catch(() => undefined);
    throw err;
  });
  process.stderr.write(`\n[cluster] ready at ${cluster.address} in ${((Date.now() - started) / 1000).toFixed(1)} s; logs in ${cluster.dir}\n`);
  process.env.AIRLOCK_TEST_ADDRESS = cluster.address;
  process.env.AIRLOCK_TEST_CLUSTER_DIR = cluster.dir;
  process.env.AIRLOCK_TEST_UI_URL = '';
  // Only the tests' own files go to the run's temporary folder: the cluster's processes started with the machine's.
  useRunTempFolder();

  await writeTestBundle('test-cluster-workflow-bundle.js');
}
