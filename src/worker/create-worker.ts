import { NativeConnection, Worker, type WorkerOptions } from '@temporalio/worker';
import { createActivities } from '../activities';
import { ensureSearchAttributes } from '../client/search-attribute-setup';
import type { Agent } from '../agents';
import { DEFAULT_TASK_QUEUE, airlockSearchAttributes } from '../core';
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
  /**
   * Register Airlock's search attributes on the server if they are missing (default `true`).
   * Threads upsert them, so a server without them fails every workflow task.
   */
  registerSearchAttributes?: boolean;
  /** Any other worker option (e.g. `maxCachedWorkflows`, `maxConcurrentActivityTaskExecutions`). */
  workerOptions?: Partial<WorkerOptions>;
}

/**
 * Creates a worker that hosts the `agentThread` workflow, the model activity and the tool activity.
 * Run it with `worker.run()` or `worker.runUntil(promise)`.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  const model = options.model ?? new OfflineModel();
  const connection = options.connection ?? (await NativeConnection.connect({ address: 'localhost:7233' }));
  const namespace = options.namespace ?? 'default';
  if (options.registerSearchAttributes !== false) {
    await ensureSearchAttributes(connection, namespace).catch((err: Error) => {
      throw new Error(
        `Could not register Airlock's search attributes in namespace '${namespace}': ${err.message}. ` +
          `Register ${airlockSearchAttributes.map((key) => `${key.name} (${key.type})`).join(', ')} on the server, ` +
          'then pass registerSearchAttributes: false.',
      );
    });
  }
  return Worker.create({
    connection,
    namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    ...(options.workflowBundle ? { workflowBundle: options.workflowBundle } : { workflowsPath: require.resolve('../workflows') }),
    activities: createActivities({ agents: options.agents, model }),
    ...options.workerOptions,
  });
}
