/**
 * A crash-matrix worker, in its own process so that the matrix can SIGKILL it. Started by
 * `crash-worker-link.ts` with a `CrashWorkerConfig` (JSON) as its only argument; says `ready` over IPC.
 */
import { DefaultLogger, NativeConnection, Runtime } from '@temporalio/worker';
import { createWorker } from '../../src/worker';
import { createCrashAgent, createCrashModel } from './crash-agent';

/** How a crash-matrix worker is set up. */
export interface CrashWorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  /** The pre-built workflow bundle. */
  workflowBundlePath: string;
  /** The ledger and hold markers (shared by every worker of the run). */
  dir: string;
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as CrashWorkerConfig;
  // The core's warnings after a server restart ("Task not found when completing") are expected here.
  Runtime.install({ logger: new DefaultLogger('ERROR'), telemetryOptions: { logging: { filter: { core: 'ERROR' }, forward: {} } } });
  const connection = await NativeConnection.connect({ address: config.address });
  const worker = await createWorker({
    agents: [createCrashAgent(config.dir)],
    model: createCrashModel(config.dir),
    taskQueue: config.taskQueue,
    namespace: config.namespace,
    connection,
    workflowBundle: { codePath: config.workflowBundlePath },
  });
  // The matrix went away without killing this process: stop too.
  process.on('disconnect', () => worker.shutdown());
  const running = worker.run();
  process.send?.({ type: 'ready' });
  await running;
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('crash-matrix worker failed:', err);
    process.exit(1);
  },
);
