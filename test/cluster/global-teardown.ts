import { stopCluster } from '../../src/devtools/cluster';
import { TEST_CLUSTER_DIR } from './global-setup';

/** Stops the run's cluster (its data stays in .temporal/cluster-test/ for a look at the logs until the next run). */
export default async function globalTeardown(): Promise<void> {
  await stopCluster({ dir: TEST_CLUSTER_DIR });
}
