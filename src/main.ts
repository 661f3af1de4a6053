/**
 * `npm start`: a local Temporal dev server (started or reused; state kept in .temporal/), a worker
 * hosting the example agent, and a terminal chat whose protected tools ask for approval.
 *
 * One Ctrl-C or SIGTERM, at any moment (start-up included), ends everything this program started
 * (the chat, the worker, the dev server it started), prints how to resume, and exits.
 */
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { Runtime, DefaultLogger, type Worker } from '@temporalio/worker';
import { DEFAULT_DB_FILE, ensureDevServer, type DevServer } from './devtools/dev-server';
import { prepareExampleAgent } from './agents';
import { AirlockClient } from './client';
import { CLIENT_CHANNEL_ARGS } from './client/airlock-client';
import { newChatThreadId, runTerminalChat } from './cli/terminal-chat';
import { parseArgs } from './cli/args';
import { readSettings } from './cli/config';
import { connectWorker, connectionOptions, describeTarget } from './cli/context';
import { dataConverterFor, payloadCodecFor } from './cli/codec-setting';
import { modelFromSettings } from './models';
import { createWorker } from './worker';

const USAGE = `npm start [-- <options>]: a local Temporal dev server, a worker for the example agent, and a terminal chat.

Options:
  --thread <id>           resume (or start) this thread
  --as <approver>         the approver name of your decisions (env AIRLOCK_APPROVER, default the OS user)
  --home <dir>            the example agent's sandbox and outbox (env AIRLOCK_HOME, default .airlock)
  --address <host:port>   use this Temporal server and start none (env TEMPORAL_ADDRESS)
  --profile <name>        a profile of Temporal's config file (env TEMPORAL_PROFILE; one that names
                          an address means no dev server is started); see docs/connecting.md
  --config-file <file>    Temporal's TOML config file (env TEMPORAL_CONFIG_FILE,
                          default ~/.config/temporalio/temporal.toml if it exists)
  --dev-port <n>          the port of the local dev server to start or reuse (default 7233; Web UI on n + 1000);
                          its state and binaries live in AIRLOCK_TEMPORAL_HOME (default .temporal)
  --namespace <name>      (env TEMPORAL_NAMESPACE, default default)
  --task-queue <name>     (env TEMPORAL_TASK_QUEUE, default airlock)
  --help                  this help

Leave with exit, quit, Ctrl-D, Ctrl-C or SIGTERM: the thread lives on in Temporal; resume it with --thread <id>.`;

/** What this program started, stopped in reverse order when it leaves. */
const started: { name: string; stop: () => Promise<unknown> }[] = [];
let threadId: string | undefined;
let leaving = false;

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { options: ['thread', 'as', 'home', 'dev-port'] });
  if (args.switches.has('help')) {
    console.log(USAGE);
    return;
  }
  if (args.positionals.length) throw new Error(`npm start takes only flags (npm start -- --help lists them)`);
  const devPort = args.options['dev-port'] === undefined ? 7233 : Number(args.options['dev-port']);
  if (!Number.isInteger(devPort) || devPort <= 0 || devPort > 65535) throw new Error('--dev-port takes a port number');
  const settings = readSettings(args, process.env);
  const config = { ...settings.temporal, home: settings.home, approver: settings.approver };
  // The Runtime's own signal handlers would stop the worker behind this program's back: it owns the signals.
  Runtime.install({ logger: new DefaultLogger('WARN'), shutdownSignals: [] });
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => void leave(signal));

  const example = prepareExampleAgent(config.home);

  let server: DevServer | undefined;
  if (!config.address) {
    console.log(`Starting the local Temporal dev server on port ${devPort} (state in ${path.relative(process.cwd(), DEFAULT_DB_FILE) || DEFAULT_DB_FILE})...`);
    server = await ensureDevServer({ port: devPort });
    if (leaving) return;
    if (server.started) started.push({ name: 'the dev server', stop: server.stop });
  }
  const address = config.address ?? server!.address;
  const target = { ...settings.temporal, address };
  const { model, description } = modelFromSettings(settings.openai);
  const payloadCodec = payloadCodecFor(settings.temporal);
  const nativeConnection = await connectWorker(target);
  started.push({ name: 'the worker connection', stop: () => nativeConnection.close() });
  const connection = await Connection.connect({ ...connectionOptions(target), channelArgs: CLIENT_CHANNEL_ARGS });
  started.push({ name: 'the client connection', stop: () => connection.close() });
  const worker = await createWorker({
    agents: [example.agent],
    model,
    taskQueue: config.taskQueue,
    namespace: config.namespace,
    connection: nativeConnection,
    payloadCodec,
  });
  if (leaving) return;
  const running = worker.run();
  started.push({ name: 'the worker', stop: () => stopWorker(worker, running) });

  threadId = args.options.thread ?? newChatThreadId();
  console.log(`Temporal:   ${describeTarget(target)}${server?.started ? ', started here' : ''}`);
  if (server?.uiUrl) console.log(`Web UI:     ${server.uiUrl}/namespaces/${config.namespace}/workflows/${threadId}`);
  console.log(`Model:      ${description}`);
  console.log(`Sandbox:    ${example.sandboxDir} (delete_file acts only here: ${example.sampleFiles.join(', ')})`);
  console.log(`Outbox:     ${example.outboxFile} (send_email appends here)`);
  console.log(`Thread:     ${threadId}  (resume later with: ${resumeCommand()})`);
  console.log(`Approver:   ${config.approver}`);
  console.log('Try: "delete the file notes.txt" or "send an email to ops@example.com about the release". Type exit to leave.');

  const client = new AirlockClient({ connection, namespace: config.namespace, taskQueue: config.taskQueue, dataConverter: dataConverterFor(payloadCodec) });
  await runTerminalChat({ client, threadId, agent: 'assistant', approver: config.approver });
  await leave();
}

/** The command that resumes this thread the way it was started. */
function resumeCommand(): string {
  const extra = process.argv.slice(2).filter((arg, index, all) => arg !== '--thread' && all[index - 1] !== '--thread');
  return `npm start -- --thread ${threadId}${extra.length ? ` ${extra.join(' ')}` : ''}`;
}

/** Stops the worker once and waits for it to finish the tasks in hand (at most 10 s). */
async function stopWorker(worker: Worker, running: Promise<void>): Promise<void> {
  if (worker.getState() === 'RUNNING') worker.shutdown();
  await Promise.race([running.catch(() => undefined), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
}

/**
 * Ends everything this program started, newest first, prints how to resume, and exits. A second
 * signal while that runs exits at once (the dev server child is still told to stop: see dev-server.ts).
 */
async function leave(signal?: NodeJS.Signals, code = 0): Promise<void> {
  if (leaving) {
    if (signal) process.exit(signal === 'SIGINT' ? 130 : 143);
    return;
  }
  leaving = true;
  if (signal) console.log(`\n(${signal}: stopping${started.length ? ` ${started.map((item) => item.name).reverse().join(', ')}` : ''}...)`);
  for (const item of started.reverse()) {
    await item.stop().catch((err: Error) => console.error(`airlock: stopping ${item.name}: ${err.message}`));
  }
  if (threadId) console.log(`\nThe thread lives on in Temporal. Resume it with: ${resumeCommand()}`);
  process.stdout.write('', () => process.exit(code));
}

main().catch((err) => {
  console.error(`airlock: ${err instanceof Error ? err.message : String(err)}`);
  void leave(undefined, 1);
});
