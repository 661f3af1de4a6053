import { stopCluster } from '../../src/devtools/cluster';
import { removeIsolatedConfig } from '../isolated-environment';
import { removeRunTempFolder } from '../run-temp';
import { TEST_CLUSTER_DIR } from './global-setup';

/**
 * Stops the run's cluster (its data stays in .temporal/cluster-test/ for a look at the logs until
 * the next run) and removes the run's temporary files.
 */
export default async function globalTeardown(): Promise<void> {
  await stopCluster({ dir: TEST_CLUSTER_DIR });
  removeIsolatedConfig();
  removeRunTempFolder();
}
