/**
 * The bench's worker, in its own process so that its memory can be read apart from the client's.
 * Started by `worker-link.ts` with a `WorkerConfig` (JSON) as its only argument; talks over IPC.
 */
import { DefaultLogger, NativeConnection, Runtime, Worker } from '@temporalio/worker';
import { createBareActivities } from './bare/activities';
import { OfflineModel } from '../src/models';
import { createWorker } from '../src/worker';
import { workflowTaskSlots } from '../src/worker/create-worker';
import { createBenchAgent } from './bench-agent';
import type { FromWorker, ToWorker, WorkerConfig } from './ipc';

function send(message: FromWorker): void {
  if (process.connected) process.send!(message);
}

async function main(): Promise<void> {
  const config = JSON.parse(process.argv[2]) as WorkerConfig;
  Runtime.install({ logger: new DefaultLogger('WARN') });
  const connection = await NativeConnection.connect({ address: config.address });
  const agent = createBenchAgent((threadId, at) => send({ type: 'tool-started', threadId, at }));
  const worker = await createWorker({
    agents: [agent],
    model: new OfflineModel(),
    taskQueue: config.taskQueue,
    namespace: config.namespace,
    connection,
    workflowBundle: { codePath: config.workflowBundlePath },
    workerOptions: { maxCachedWorkflows: config.maxCachedWorkflows },
  });
  // The floor: the bare workflow, in the same process, on its own task queue, with Temporal's defaults otherwise.
  const bare = await Worker.create({
    connection,
    namespace: config.namespace,
    taskQueue: config.bareTaskQueue,
    workflowBundle: { codePath: config.bareBundlePath },
    activities: createBareActivities((threadId, at) => send({ type: 'tool-started', threadId, at })),
    maxCachedWorkflows: config.maxCachedWorkflows,
    // As many workflow tasks at once as Airlock's worker runs (fewer than Temporal's 40 with a cache below 80).
    ...workflowTaskSlots({ maxCachedWorkflows: config.maxCachedWorkflows }),
  });
  const stop = () => {
    if (worker.getState() === 'RUNNING') worker.shutdown();
    if (bare.getState() === 'RUNNING') bare.shutdown();
  };
  process.on('message', (message: ToWorker) => {
    if (message.type === 'stop') stop();
    else send({ type: 'memory', usage: process.memoryUsage() });
  });
  // The bench went away without saying so: stop too.
  process.on('disconnect', stop);
  const running = Promise.all([worker.run(), bare.run()]);
  send({ type: 'ready' });
  await running;
  await connection.close();
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error('bench worker failed:', err);
    process.exit(1);
  },
);
