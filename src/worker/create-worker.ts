import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import type { Agent } from '../agents';
import { DEFAULT_TASK_QUEUE } from '../core';
import { OfflineModel, type ChatModel } from '../models';

/** Options of `createWorker`. */
export interface CreateWorkerOptions {
  /** The agents this worker hosts (with their tools). */
  agents: Agent[];
  /** The model behind every agent. Default: the offline deterministic model. */
  model?: ChatModel;
  /** Default `'airlock'`. */
  taskQueue?: string;
  /** A connection to the Temporal server. Default: `localhost:7233`. */
  connection?: NativeConnection;
  /** Default `'default'`. */
  namespace?: string;
  /**
   * A pre-built workflow bundle (`bundleWorkflowCode`), e.g. shared by many test workers.
   * Default: the `agentThread` workflow is bundled when the worker is created.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /** Any other worker option (e.g. `maxCachedWorkflows`, `maxConcurrentActivityTaskExecutions`). */
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * Creates a worker that hosts the `agentThread` workflow, the model activity and the tool activity.
 * Run it with `worker.run()` or `worker.runUntil(promise)`.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const model = options.model ?? new OfflineModel();
  return Worker.create({
    connection: options.connection ?? (await NativeConnection.connect({ address: 'localhost:7233' })),
    namespace: options.namespace ?? 'default',
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ agents: options.agents, model }),
    ...options.workerOptions,
  });
}
