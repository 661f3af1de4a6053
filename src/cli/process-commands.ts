/** Long-running commands: a worker, the terminal chat, a local dev server. */
import path from 'node:path';
import { ensureDevServer, DEFAULT_DB_FILE } from '../devtools/dev-server';
import { prepareExampleAgent, type Agent } from '../agents';
import { modelFromSettings, type ChatModel } from '../models';
import { DEFAULT_HEAP_GROWTH_PERCENT, createWorker, limitHeapGrowth } from '../worker';
import { payloadCodecFor } from './codec-setting';
import { loadTrustedKeys } from '../client/signing-keys';
import { newChatThreadId, runTerminalChat } from './terminal-chat';
import { UsageError } from './args';
import { CliError, EXIT, cliName, connect, connectWorker, describeTarget, resolveTarget, stopRequested } from './context';
import { DEFAULT_WAIT_SECONDS, waitForWorker, waitMs } from './waiting';
import { exitOnSecondSignal } from './second-signal';
import { installWorkerRuntime, startWorkerCompanions, tracingFrom } from './worker-operations';
import { DEFAULT_TASK_QUEUE } from '../core';
import type { Settings } from './config';
import type { ApprovalSettings } from '../activities';
import type { Command } from './command';

const log = (text: string) => process.stderr.write(`${text}\n`);


export const workerCommand: Command = {
  name: 'worker',
  usage:
    'airlock worker [--module <file>] [--home <dir>] [--approver-keys <file>] [--require-signatures]\n' +
    '               [--metrics <ip:port>] [--health <host:port>] [--shutdown-grace <seconds>] [--workflow-bundle <file>] [--stack-traces]\n' +
    '               [--max-cached-threads <n>] [--heap-growth <percent>]\n' +
    '  --approver-keys (or AIRLOCK_APPROVER_KEYS): a JSON list of the public keys (airlock keys create) whose signed decisions count\n' +
    '  --require-signatures (or AIRLOCK_REQUIRE_SIGNATURES=true): every protected tool needs a signed decision unless its policy says otherwise\n' +
    '  --metrics (or AIRLOCK_METRICS_ADDRESS): serve Prometheus metrics at http://<ip:port>/metrics\n' +
    '  --health (or AIRLOCK_HEALTH_ADDRESS): serve /healthz and /readyz (503 while starting or draining)\n' +
    '  --shutdown-grace (or AIRLOCK_SHUTDOWN_GRACE, default 30): on SIGTERM, seconds running tools may finish before they are cancelled and retried elsewhere\n' +
    '  --workflow-bundle: a bundle from airlock bundle (--tracing for a worker that exports traces): the worker starts without bundling\n' +
    '  --stack-traces: keep stack traces in workflow code (the Web UI\'s Stack Trace tab), at about a sixth more worker CPU per thread\n' +
    '                  (with --workflow-bundle, the bundle decides: airlock bundle --stack-traces)\n' +
    '  --max-cached-threads: threads kept in memory between their steps (default: Temporal\'s, from the heap limit); a thread\n' +
    '                        out of the cache is replayed from history at its next step. About 200 KiB each; 0: no cache.\n' +
    '                        Below 80, the worker runs half as many workflow tasks at once (docs/operations.md)\n' +
    `  --heap-growth (default ${DEFAULT_HEAP_GROWTH_PERCENT}): how far, in percent, the heaps may grow past what is live before V8 collects;\n` +
    '                 0 leaves V8\'s own factor (more memory, a little less CPU)\n' +
    '  Traces: OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT (OTLP over HTTP), OTEL_SERVICE_NAME',
  summary: 'Run a worker for the example agent, or for the agents a module exports (`agents`, optional `model`)',
  spec: { options: ['module', 'home', 'approver-keys', 'metrics', 'health', 'shutdown-grace', 'workflow-bundle', 'max-cached-threads', 'heap-growth'], switches: ['require-signatures', 'stack-traces'] },
  async run(args, settings) {
    if (args.switches.has('stack-traces') && args.options['workflow-bundle']) {
      throw new UsageError('--stack-traces goes to airlock bundle when the worker starts from a bundle');
    }
    const maxCachedThreads = wholeNumberOption(args.options['max-cached-threads'], 'max-cached-threads', 0, 1_000_000);
    // Temporal takes 0 (no cache: every step replays the thread) or at least 2.
    if (maxCachedThreads === 1) throw new UsageError('--max-cached-threads takes 0 (no cache) or a whole number from 2 to 1000000');
    const heapGrowthPercent = wholeNumberOption(args.options['heap-growth'], 'heap-growth', 0, 300);
    const target = resolveTarget(settings);
    const approvals = approvalSettings(settings.approverKeysFile, settings.requireSignatures);
    const { agents, model, description } = loadAgents(args.options.module, settings);
    const payloadCodec = payloadCodecFor(target);
    // Once per process, before any connection; its own signal handlers are off: this command owns the signals.
    installWorkerRuntime(settings.telemetry);
    const tracing = tracingFrom(settings.telemetry);
    // Listening before anything is printed: whoever reads 'Ready.' may signal at once.
    let stopping = false;
    const stop = stopRequested().then(() => {
      stopping = true;
    });
    const connection = await connectWorker(target);
    // Set here (createWorker would set the same) so that the worker can say what is in force.
    const heapGrowth = limitHeapGrowth(heapGrowthPercent ?? DEFAULT_HEAP_GROWTH_PERCENT);
    const worker = await createWorker({
      agents,
      model,
      connection,
      namespace: target.namespace,
      taskQueue: target.taskQueue,
      approvals,
      payloadCodec,
      tracing,
      workflowStackTraces: args.switches.has('stack-traces'),
      ...(heapGrowthPercent !== undefined && { heapGrowthPercent }),
      ...(args.options['workflow-bundle'] && { workflowBundle: { codePath: path.resolve(args.options['workflow-bundle']) } }),
      // On SIGTERM, running tools get this long to finish; then they are cancelled and retried on another worker.
      workerOptions: {
        shutdownGraceTime: settings.telemetry.shutdownGraceSeconds * 1000,
        ...(maxCachedThreads !== undefined && { maxCachedWorkflows: maxCachedThreads }),
      },
    });
    log(`Worker on ${describeTarget(target)}, task queue ${target.taskQueue}`);
    const keys = approvals.trustedKeys ?? [];
    log(`Signed decisions: ${approvals.requireSignedDecisions ? 'required by default' : 'accepted, not required by default'}; trusted keys: ${keys.map((key) => `${key.keyId} (${key.kind} ${key.owner})`).join(', ') || 'none'}`);
    log(`Agents: ${agents.map((agent) => agent.name).join(', ')}; model: ${description}`);
    log(`Threads cached: up to ${worker.options.maxCachedWorkflows}; heap growth: ${heapGrowth === undefined ? "as V8 or node's --heap-growing-percent sets it" : `${heapGrowth} %`}`);
    if (payloadCodec) log(`History encrypted with key ${payloadCodec.currentKeyId}.`);
    if (tracing) log(`Traces: ${withoutCredentials(settings.telemetry.tracesEndpoint)} (service ${settings.telemetry.serviceName})`);
    if (stopping) {
      await tracing?.shutdown();
      await connection.close();
      return EXIT.ok;
    }
    // Before the worker polls: an address already taken fails the command before any task is taken.
    const companions = await startWorkerCompanions({ telemetry: settings.telemetry, worker, connection, namespace: target.namespace, agents, accepting: () => !stopping, log });
    const running = worker.run();
    void stop.then(() => {
      exitOnSecondSignal();
      if (worker.getState() !== 'RUNNING') return;
      log(`Stopping: finishing the tasks in hand, up to ${settings.telemetry.shutdownGraceSeconds} s for running tools (Ctrl-C again to quit at once)...`);
      worker.shutdown();
    });
    log('Ready. Ctrl-C to stop.');
    await running;
    log('Worker stopped.');
    await companions.stop();
    await tracing?.shutdown();
    await connection.close();
    return EXIT.ok;
  },
};

/** A whole number from `min` to `max` from a flag, or `undefined` when the flag is absent (the error never echoes the value). */
function wholeNumberOption(value: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  const number = /^\d{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(number >= min && number <= max)) throw new UsageError(`--${flag} takes a whole number from ${min} to ${max}`);
  return number;
}

export const chatCommand: Command = {
  name: 'chat',
  usage: `airlock chat [--thread <id>] [--agent <name>] [--as <approver>] [--wait <seconds>]\n  --wait <seconds>: how long to wait for a worker before giving up (exit 1), default ${DEFAULT_WAIT_SECONDS}`,
  summary: 'The terminal chat of npm start, against any server with a worker running',
  spec: { options: ['thread', 'agent', 'as', 'wait'] },
  async run(args, settings) {
    if (args.positionals.length) throw new UsageError('chat takes no positional arguments');
    const target = resolveTarget(settings);
    const { airlock, client, close } = await connect(target);
    const threadId = args.options.thread ?? newChatThreadId();
    const resume = `${cliName()} chat --thread ${threadId}${target.taskQueue === DEFAULT_TASK_QUEUE ? '' : ` --task-queue ${target.taskQueue}`}`;
    log(`Thread ${threadId} on ${target.address} (resume with: ${resume})`);
    // Ctrl-C or SIGTERM at any moment leaves like exit: the thread lives on.
    void stopRequested().then(() => {
      log(`\nThe thread lives on in Temporal. Resume it with: ${resume}`);
      process.stderr.write('', () => process.exit(EXIT.ok));
    });
    try {
      await waitForWorker(client, target.namespace, target.taskQueue, Date.now() + waitMs(args), 'The chat did not start');
      await runTerminalChat({ client: airlock, threadId, agent: args.options.agent ?? 'assistant', approver: settings.approver });
    } finally {
      await close();
    }
    log(`The thread lives on in Temporal. Resume it with: ${resume}`);
    return EXIT.ok;
  },
};

export const devServerCommand: Command = {
  name: 'dev-server',
  usage: 'airlock dev-server [--port <n>] [--ui-port <n>] [--db <file>]',
  summary: "Run a local Temporal dev server with Airlock's search attributes (state in .temporal/dev-server.db)",
  spec: { options: ['port', 'ui-port', 'db'] },
  async run(args) {
    const port = Number(args.options.port ?? 7233);
    const uiPort = args.options['ui-port'] === undefined ? undefined : Number(args.options['ui-port']);
    if (!Number.isInteger(port) || (uiPort !== undefined && !Number.isInteger(uiPort))) throw new UsageError('--port and --ui-port take numbers');
    // Listening from the start, so a signal during start-up stops the server too (and one right after 'Ctrl-C to stop.' is not missed).
    const stop = stopRequested();
    const server = await ensureDevServer({ port, uiPort, dbFilename: args.options.db ? path.resolve(args.options.db) : DEFAULT_DB_FILE });
    log(`Temporal dev server ${server.started ? 'started' : 'already running'} at ${server.address}${server.uiUrl ? `, Web UI ${server.uiUrl}` : ''}`);
    if (!server.started) return EXIT.ok;
    log('Ctrl-C to stop.');
    await stop;
    await server.stop();
    return EXIT.ok;
  },
};

function approvalSettings(keysFile: string | undefined, requireSignedDecisions: boolean): ApprovalSettings {
  let trustedKeys: ApprovalSettings['trustedKeys'];
  try {
    trustedKeys = keysFile ? loadTrustedKeys(keysFile) : [];
  } catch (err) {
    throw new CliError((err as Error).message);
  }
  if (requireSignedDecisions && trustedKeys.length === 0) throw new UsageError('--require-signatures needs --approver-keys: no decision could be signed by a trusted key');
  return { trustedKeys, requireSignedDecisions };
}

function loadAgents(modulePath: string | undefined, settings: Settings): { agents: Agent[]; model: ChatModel; description: string } {
  const fromEnv = modelFromSettings(settings.openai);
  if (!modulePath) {
    const example = prepareExampleAgent(settings.home);
    return { agents: [example.agent], ...fromEnv, description: `${fromEnv.description}; sandbox ${example.sandboxDir}` };
  }
  const loaded = require(path.resolve(modulePath)) as { agents?: Agent[]; model?: ChatModel };
  if (!Array.isArray(loaded.agents) || loaded.agents.length === 0) throw new UsageError(`${modulePath} must export 'agents': an array of defineAgent(...) results`);
  return loaded.model ? { agents: loaded.agents, model: loaded.model, description: loaded.model.name } : { agents: loaded.agents, ...fromEnv };
}

/** A URL as it may be logged: without user name, password, query or fragment (which may hold a token). */
function withoutCredentials(url: string | undefined): string {
  try {
    const parsed = new URL(url ?? '');
    return `${parsed.origin}${parsed.pathname}`;
  } catch {
    return 'the configured endpoint';
  }
}
