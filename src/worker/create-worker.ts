import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { getHeapStatistics } from 'node:v8';
import { NativeConnection, Runtime, Worker, bundleWorkflowCode, type WorkerOptions } from '@temporalio/worker';
import type { PayloadCodec } from '@temporalio/common';
import { createActivities, type ApprovalSettings } from '../activities';
import { ensureSearchAttributes } from './search-attribute-setup';
import type { Agent } from '../agents';
import { DEFAULT_TASK_QUEUE, airlockSearchAttributes } from '../core';
import { OfflineModel, type ChatModel } from '../models';
import { tracingWorkerOptions, workflowInterceptorModules } from './worker-tracing';
import { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from './heap-growth';
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
   * meanwhile waits seconds, not as long as a caller's deadline. With a cache of fewer than 80
   * threads (`maxCachedWorkflows`, or Temporal's default on a small heap),
   * `maxConcurrentWorkflowTaskExecutions` defaults to half of it, at least 2 (Temporal's default is
   * 40; see docs/operations.md, "Worker tuning").
   */
  workerOptions?: Partial<WorkerOptions>;
  /**
   * Encrypts history (e.g. `new EncryptionCodec(keys)` from `loadCodecKeys`): every payload the
   * worker writes goes through it, and failure messages are encoded into payloads so it encrypts
   * them too. A `workflowBundle` given with it must come from `bundleAirlockWorkflows({ encryptedFailures: true })`.
   * Default: none (history in the clear).
   */
  payloadCodec?: PayloadCodec;
  /**
   * Stack traces in workflow code (default `false`). Temporal's SDK captures one for every promise a
   * thread creates, so that the Web UI's "Stack Trace" tab can show where it waits; that costs about
   * a sixth of the worker's CPU per thread. Airlock's threads say why they wait in their pending memo
   * and search attributes, so workers run them without: the tab is empty and errors thrown in
   * workflow code carry no stack. Turn them on to debug the workflow. With a pre-built
   * `workflowBundle`, the bundle decides (`bundleAirlockWorkflows({ stackTraces: true })`). They
   * stay on with `workerOptions.reuseV8Context: false` (the setting is preloaded into the shared
   * context, which that mode does not use).
   */
  workflowStackTraces?: boolean;
  /**
   * How far V8 lets the process's heaps grow past what is live before collecting, in percent
   * (default 20; `0` leaves V8's own factor, up to 300 %). V8's own lets a worker that parks
   * thousands of threads hold several times their memory in garbage; 20 % bounds that for a few
   * percent more CPU (bench/RESULTS.md). It is a V8 setting of the whole process: the first worker
   * that sets a percent sets it for all (a later, different one is ignored, with a warning), and a
   * process started with `node --heap-growing-percent=<n>` keeps its own.
   */
  heapGrowthPercent?: number;
}

/**
 * Creates a worker that hosts the `agentThread` workflow, the model activity and the tool activity.
 * Run it with `worker.run()` or `worker.runUntil(promise)`.
 */
export async function createWorker(options: CreateWorkerOptions): Promise<Worker> {
  limitHeapGrowth(options.heapGrowthPercent ?? DEFAULT_HEAP_GROWTH_PERCENT);
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
  const given = options.workerOptions ?? {};
  const common = {
    connection,
    namespace,
    taskQueue: options.taskQueue ?? DEFAULT_TASK_QUEUE,
    dataConverter: {
      payloadConverterPath: PAYLOAD_CONVERTER_PATH,
      failureConverterPath: failureConverterPath(Boolean(options.payloadCodec)),
      payloadCodecs: options.payloadCodec ? [options.payloadCodec] : [],
    },
    activities: createActivities({ agents: options.agents, model, approvals: options.approvals }),
    stickyQueueScheduleToStartTimeout: STICKY_QUEUE_TIMEOUT,
  };
  if (!options.workflowBundle && bundlesItsOwnWay(given, connection)) {
    // Other workflows, plugins or converters change what is bundled: Worker.create bundles, as it
    // would for them (the build id is then Temporal's default).
    return Worker.create({
      ...common,
      workflowsPath: WORKFLOWS_PATH,
      bundlerOptions: {
        ...given.bundlerOptions,
        preloadModules: preloadedModules(Boolean(options.workflowStackTraces), common.dataConverter.failureConverterPath, given.bundlerOptions?.preloadModules),
      },
      ...withTracing(withoutKeys(given, ['bundlerOptions']), tracingWorkerOptions(options.tracing, false)),
      // After the caller's options: a count given as `undefined` is no choice.
      ...workflowTaskSlots(given),
    });
  }
  // Bundled here rather than by Worker.create, so that the worker's build id (written into most of
  // a thread's history events) can be short: Temporal's default is about 90 characters.
  const workflowBundle =
    options.workflowBundle ??
    (await bundleAirlockWorkflows({
      logger: Runtime.instance().logger,
      tracing: options.tracing !== undefined,
      encryptedFailures: options.payloadCodec !== undefined,
      stackTraces: options.workflowStackTraces,
      // Without the shared context, stack traces stay on; a debugger reads the map too.
      sourceMap: options.workflowStackTraces === true || given.reuseV8Context === false || given.debugMode === true || debugFromEnvironment(),
      interceptorModules: given.interceptors?.workflowModules,
      ...given.bundlerOptions,
    }));
  // What went into the bundle is not given again (Worker.create would warn that it ignores it).
  const rest = options.workflowBundle ? given : { ...withoutKeys(given, ['bundlerOptions']), interceptors: withoutKeys(given.interceptors ?? {}, ['workflowModules']) };
  return Worker.create({
    ...common,
    workflowBundle,
    // With worker versioning the caller names the build (Worker.create refuses versioning without one).
    ...(!given.useVersioning && { buildId: await buildIdOf(workflowBundle) }),
    ...withTracing(rest, tracingWorkerOptions(options.tracing, true)),
    ...workflowTaskSlots(given),
  });
}

/**
 * Whether the caller's worker options change what is bundled in ways only Worker.create applies:
 * its own workflows (`workflowsPath`), plugins (the worker's or the connection's), or its own
 * payload or failure converter.
 */
function bundlesItsOwnWay(given: Partial<WorkerOptions>, connection: NativeConnection): boolean {
  return (
    given.workflowsPath !== undefined ||
    (given.plugins?.length ?? 0) > 0 ||
    (connection.plugins?.length ?? 0) > 0 ||
    given.dataConverter?.payloadConverterPath !== undefined ||
    given.dataConverter?.failureConverterPath !== undefined
  );
}

/**
 * The workflow tasks a worker with a small cache works on at once: half its cache (at least 2),
 * unless the caller chose (a count or a tuner); nothing with a cache of 80 or more. Threads run
 * local activities inside their workflow tasks (a model turn that answers at once, the agent's
 * settings, the review of an edit), and the task stays open meanwhile. With Temporal's default of
 * 40 tasks at once and a cache of fewer than twice that, the worker evicts threads whose task is
 * open; the Temporal Core in TypeScript SDK 1.24.0 then never completes that task ("This is an SDK
 * bug" in the worker's log), and the thread waits out its 10 s workflow task timeout. At half the
 * cache, no run measured showed it (bench/RESULTS.md).
 */
export function workflowTaskSlots(given: Partial<WorkerOptions>): { maxConcurrentWorkflowTaskExecutions?: number } {
  if (given.tuner !== undefined || given.maxConcurrentWorkflowTaskExecutions !== undefined) return {};
  const cache = given.maxCachedWorkflows ?? temporalDefaultCache(given.reuseV8Context !== false);
  if (cache === 0) return {};
  // Temporal takes any other cache below 2 as 2, and needs at least 2 tasks at once with a cache.
  const slots = Math.max(2, Math.floor(Math.max(2, cache) / 2));
  return slots < TEMPORAL_WORKFLOW_TASK_SLOTS ? { maxConcurrentWorkflowTaskExecutions: slots } : {};
}

/** Temporal's default `maxConcurrentWorkflowTaskExecutions`. */
const TEMPORAL_WORKFLOW_TASK_SLOTS = 40;

/** Temporal's default cache, sized from V8's heap limit as TypeScript SDK 1.24.0 sizes it. */
export function temporalDefaultCache(reuseV8Context: boolean): number {
  const heapMiB = getHeapStatistics().heap_size_limit / 2 ** 20;
  return reuseV8Context ? Math.max(Math.floor((Math.max(heapMiB - 200, 0) * 600) / 1024), 10) : Math.max(Math.floor((Math.max(heapMiB - 400, 0) * 250) / 1024), 10);
}

/** Whether `TEMPORAL_DEBUG` puts Temporal's worker in debug mode (as the SDK reads it). */
function debugFromEnvironment(): boolean {
  return ['1', 't', 'true'].includes(process.env.TEMPORAL_DEBUG?.toLowerCase() ?? '');
}

function withoutKeys<T extends object, K extends keyof T>(value: T, keys: K[]): Omit<T, K> {
  const copy = { ...value };
  for (const key of keys) delete copy[key];
  return copy;
}

/**
 * `<version>+<the first 8 hex digits of the bundle's SHA-256>`: names the workflow code as
 * Temporal's default does (`@temporalio/worker@<version>+<the whole digest>`) in a sixth of its
 * length, since history records it twice per workflow task (32 bits tell the builds of one version apart).
 */
async function buildIdOf(bundle: NonNullable<WorkerOptions['workflowBundle']>): Promise<string> {
  const code = 'code' in bundle ? bundle.code : await readFile(bundle.codePath, 'utf8');
  return `${PACKAGE_VERSION}+${createHash('sha256').update(code).digest('hex').slice(0, 8)}`;
}

/** This package's version, from its own package.json (two levels up in src/, three in dist/src/). */
const PACKAGE_VERSION = ((): string => {
  for (let dir = path.dirname(__dirname); dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const file = path.join(dir, 'package.json');
    if (!existsSync(file)) continue;
    try {
      const pkg = JSON.parse(readFileSync(file, 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'airlock-hitl' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // Not ours, or unreadable: look further up.
    }
  }
  return 'unknown';
})();
/** How long a thread's task waits for the worker that cached it before any worker may take it. */
const STICKY_QUEUE_TIMEOUT: WorkerOptions['stickyQueueScheduleToStartTimeout'] = '3s';
const WORKFLOWS_PATH = require.resolve('../workflows');
/**
 * What a bundle preloads: the module that turns stack traces off (unless they are kept), then
 * modules evaluated once per worker thread and shared by every thread it runs, instead of once for
 * each new sandbox (a thread started, or rebuilt after its eviction from the cache): Temporal's
 * `preloadModules`. Each is stateless at module level (definitions, checks and pure functions;
 * Temporal's workflow API finds the running thread through the sandbox's globals, which stay each
 * thread's own), and the context freezes what they export.
 * - The Ed25519 signature checks (the curve and its tables cost about 1.5 MB a copy). Named by our
 *   own file, which pulls in the library: the library is marked side-effect free and a bare preload
 *   of it would be dropped by the bundler.
 * - Airlock's core (its messages, checks and reply forms), with Temporal's workflow API, which it
 *   imports.
 * - The payload and failure converters, which the SDK otherwise loads for each new sandbox.
 * Together they were about three quarters of the module code a new sandbox evaluated
 * (bench/RESULTS.md).
 */
function preloadedModules(stackTraces: boolean, failureConverter: string, more: string[] = []): string[] {
  return [
    ...(stackTraces ? [] : [NO_STACK_TRACES_MODULE]),
    require.resolve('../core/decision-signing'),
    require.resolve('../core'),
    PAYLOAD_CONVERTER_PATH,
    failureConverter,
    ...more,
  ];
}
/** The failure converter bundled into workflow code: a worker with a payload codec encodes failure messages. */
function failureConverterPath(encrypted: boolean): string {
  return encrypted ? ENCRYPTED_FAILURE_CONVERTER_PATH : FAILURE_CONVERTER_PATH;
}
/** Preloaded when stack traces are off: sets the workflow context's `Error.stackTraceLimit` to 0. */
const NO_STACK_TRACES_MODULE = require.resolve('./workflow-stack-traces');
const FAILURE_CONVERTER_PATH = require.resolve('./failure-converter');
const PAYLOAD_CONVERTER_PATH = require.resolve('./payload-converter');
const ENCRYPTED_FAILURE_CONVERTER_PATH = require.resolve('./encrypted-failure-converter');

/**
 * Bundles the `agentThread` workflow with Airlock's failure converter, once, for many workers
 * (pass the result as `workflowBundle`). A bundle made without it would let a failure message that
 * cannot be encoded stop the worker. `encryptedFailures: true` bundles the converter of workers
 * with a `payloadCodec` (failure messages in encoded payloads). `tracing: true` for workers created
 * with `tracing`: threads they start are traced (every bundle carries the interceptors threads that
 * began traced need). `stackTraces: true` keeps stack traces in workflow code (see
 * `CreateWorkerOptions.workflowStackTraces`); by default they are off, and so is the bundle's
 * source map (`sourceMap`, default: as `stackTraces`): each workflow thread and the worker's main
 * thread would hold it, about 25 MiB a worker, and only stack traces and debuggers read it. A
 * bundle without either is for workers that share one V8 context (Temporal's default,
 * `reuseV8Context`): without that, stack traces stay on and would name no source. Keep the map
 * (`sourceMap: true`) to set breakpoints in workflow code.
 */
export async function bundleAirlockWorkflows(
  options: Pick<Parameters<typeof bundleWorkflowCode>[0], 'logger' | 'ignoreModules' | 'webpackConfigHook' | 'plugins' | 'preloadModules'> & {
    encryptedFailures?: boolean;
    tracing?: boolean;
    stackTraces?: boolean;
    /** Keep the inline source map (default: as `stackTraces`). */
    sourceMap?: boolean;
    /** More workflow interceptor modules, after Airlock's tracing gate. */
    interceptorModules?: string[];
  } = {},
): Promise<{ code: string }> {
  const { encryptedFailures, tracing, stackTraces, sourceMap, interceptorModules, preloadModules, ...rest } = options;
  const failureConverter = failureConverterPath(Boolean(encryptedFailures));
  const bundle = await bundleWorkflowCode({
    workflowsPath: WORKFLOWS_PATH,
    payloadConverterPath: PAYLOAD_CONVERTER_PATH,
    failureConverterPath: failureConverter,
    preloadModules: preloadedModules(Boolean(stackTraces), failureConverter, preloadModules),
    workflowInterceptorModules: [...workflowInterceptorModules(tracing === true), ...(interceptorModules ?? [])],
    ...rest,
  });
  return (sourceMap ?? stackTraces === true) ? bundle : { code: withEmptySourceMap(bundle.code) };
}

/**
 * The bundle with its inline source map (about two thirds of it) replaced by an empty one, which
 * Temporal's worker still requires: it names the bundle's file and maps nothing. Found the way the
 * worker finds it: the last `//# sourceMappingURL=data:` comment, base64 after `base64,`.
 */
function withEmptySourceMap(code: string): string {
  const at = code.lastIndexOf('//# sourceMappingURL=data:');
  const base64At = at < 0 ? -1 : code.indexOf('base64,', at);
  if (base64At < 0) return code;
  const map = JSON.parse(Buffer.from(code.slice(base64At + 'base64,'.length).trimEnd(), 'base64').toString()) as { file?: unknown };
  const empty = { version: 3, ...(typeof map.file === 'string' && { file: map.file }), sources: [], names: [], mappings: '' };
  return `${code.slice(0, at)}//# sourceMappingURL=data:application/json;base64,${Buffer.from(JSON.stringify(empty)).toString('base64')}\n`;
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
