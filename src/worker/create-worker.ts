import { NativeConnection, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { createActivities, type ApprovalSettings } from '../activities';
import { ensureSearchAttributes } from './search-attribute-setup';
import type { Agent } from '../agents';
import { DEFAULT_TASK_QUEUE, airlockSearchAttributes } from '../core';
import { OfflineModel, type ChatModel } from '../models';
import { tracingWorkerOptions, workflowInterceptorModules } from './worker-tracing';
import type { WorkerTracing } from '../telemetry/tracing';

/** Options of `createWorker`. */
export interface CreateWorkerOptions {
  /** The agents this worker hosts (with their tools). */
  agents: Agent[];
  /** The model behind every agent. Default: the offline deterministic model. */
  model?: ChatModel;
  /**
   * Who may sign decisions (approvers' public keys, the approval service's) and whether protected
   * tools require signed decisions by default. Default: no keys, signatures not required.
   */
  approvals?: ApprovalSettings;
  /** Default `'airlock'`. */
  taskQueue?: string;
  /** A connection to the Temporal server. Default: `localhost:7233`. */
  connection?: NativeConnection;
  /** Default `'default'`. */
  namespace?: string;
  /**
   * A pre-built workflow bundle (from `bundleAirlockWorkflows()`), e.g. shared by many test workers.
   * Default: the `agentThread` workflow is bundled when the worker is created.
   */
  workflowBundle?: WorkerOptions['workflowBundle'];
  /**
   * Register Airlock's search attributes on the server if they are missing (default `true`).
   * Threads upsert them, so a server without them fails every workflow task.
   */
  registerSearchAttributes?: boolean;
  /**
   * Trace threads with OpenTelemetry (from `startTracing`): Temporal's activity and workflow
   * interceptors, and Airlock's message and approval spans, exported through `spanProcessor`.
   * Default: no tracing, at no cost. With a pre-built `workflowBundle`, build it with
   * `bundleAirlockWorkflows({ tracing: true })`: workflow interceptors live in the bundle.
   */
  tracing?: WorkerTracing;
  /**
   * Any other worker option (e.g. `maxCachedWorkflows`, `maxConcurrentActivityTaskExecutions`).
   * `stickyQueueScheduleToStartTimeout` defaults to `'3s'` here (Temporal's default is 10 s): when a
   * worker dies, its cached threads move to another worker after that long, so a decision sent
   * meanwhile waits seconds, not as long as a caller's deadline.
   */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * Encrypts history (e.g. `new EncryptionCodec(keys)` from `loadCodecKeys`): every payload the
   * worker writes goes through it, and failure messages are encoded into payloads so it encrypts
   * them too. A `workflowBundle` given with it must come from `bundleAirlockWorkflows({ encryptedFailures: true })`.
   * Default: none (history in the clear).
   */
  payloadCodec?: PayloadCodec;
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
    ...(options.workflowBundle
      ? { workflowBundle: options.workflowBundle }
      : { workflowsPath: WORKFLOWS_PATH, bundlerOptions: { preloadModules: SHARED_MODULES } }),
    dataConverter: {
      payloadConverterPath: PAYLOAD_CONVERTER_PATH,
      failureConverterPath: options.payloadCodec ? ENCRYPTED_FAILURE_CONVERTER_PATH : FAILURE_CONVERTER_PATH,
      payloadCodecs: options.payloadCodec ? [options.payloadCodec] : [],
    },
    activities: createActivities({ agents: options.agents, model, approvals: options.approvals }),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
    ...withTracing(options.workerOptions ?? {}, tracingWorkerOptions(options.tracing, options.workflowBundle !== undefined)),
  });
}

/** How long a thread's task waits for the worker that cached it before any worker may take it. */
const STICKY_QUEUE_TIMEOUT = '3s';
const WORKFLOWS_PATH = require.resolve('../workflows');
/**
 * The Ed25519 signature checks the workflow uses, loaded once per worker and shared by every
 * cached thread instead of once per thread (the curve and its tables cost about 1.5 MB a copy).
 * Named by our own file, which pulls in the library: the library is marked side-effect free and
 * a bare preload of it would be dropped by the bundler. (The workflow's other checks use no
 * library at all, for the same reason.)
 */
const SHARED_MODULES = [require.resolve('../core/decision-signing')];
const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
const PAYLOAD_CONVERTER_PATH = require.resolve('./payload-converter');
const ENCRYPTED_FAILURE_CONVERTER_PATH = require.resolve('./encrypted-failure-converter');

/**
 * Bundles the `agentThread` workflow with Airlock's failure converter, once, for many workers
 * (pass the result as `workflowBundle`). A bundle made without it would let a failure message that
 * cannot be encoded stop the worker. `encryptedFailures: true` bundles the converter of workers
 * with a `payloadCodec` (failure messages in encoded payloads). `tracing: true` for workers created
 * with `tracing`: threads they start are traced (every bundle carries the interceptors threads that
 * began traced need).
 */
export async function bundleAirlockWorkflows(
  options: Pick<Parameters<typeof bundleWorkflowCode>[0], 'logger'> & { encryptedFailures?: boolean; tracing?: boolean } = {},
): Promise<{ code: string }> {
  const { encryptedFailures, tracing, ...rest } = options;
  return bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    payloadConverterPath: PAYLOAD_CONVERTER_PATH,
    failureConverterPath: encryptedFailures ? ENCRYPTED_FAILURE_CONVERTER_PATH : FAILURE_CONVERTER_PATH,
    preloadModules: SHARED_MODULES,
    workflowInterceptorModules: workflowInterceptorModules(tracing === true),
    ...rest,
  });
}

/**
 * The caller's worker options with the tracing gate's interceptors and sink added, never replaced:
 * a thread that began traced fails to replay on a worker without them.
 */
function withTracing(given: Partial<WorkerOptions>, tracing: ReturnType<typeof tracingWorkerOptions>): Partial<WorkerOptions> {
  const workflowModules = [...(tracing.interceptors?.workflowModules ?? []), ...(given.interceptors?.workflowModules ?? [])];
  return {
    ...given,
    interceptors: {
      ...given.interceptors,
      activity: [...(tracing.interceptors?.activity ?? []), ...(given.interceptors?.activity ?? [])],
      ...(workflowModules.length > 0 && { workflowModules }),
    },
    sinks: { ...given.sinks, ...tracing.sinks } as WorkerOptions['sinks'],
  };
}
