/**
 * `npm start`: a local Temporal dev server (started or reused; state kept in .temporal/), a worker
 * hosting the example agent, and a terminal chat whose protected tools ask for approval.
 */
import { Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { ensureDevServer, type DevServer } from './devtools/dev-server';
import { prepareExampleAgent } from './agents';
import { AirlockClient } from './client';
import { newChatThreadId, runTerminalChat } from './cli/terminal-chat';
import { parseArgs } from './cli/args';
import { readSettings } from './cli/config';
import { modelFromSettings } from './models';
import { createWorker } from './worker';

async function main(): Promise<void> {
  const args = parseArgs(process.argv.slice(2), { options: ['thread', 'as', 'home'] });
  if (args.positionals.length) throw new Error(`npm start takes only flags: --thread <id>, --as <approver>, --home <dir>, --address, --namespace, --task-queue`);
  const settings = readSettings(args, process.env);
  const config = { ...settings.temporal, home: settings.home, approver: settings.approver, threadId: args.options.thread };
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const example = prepareExampleAgent(config.home);

  let server: DevServer | undefined;
  if (!config.address) {
    console.log('Starting the local Temporal dev server (state in .temporal/dev-server.db)...');
    server = await ensureDevServer();
  }
  const address = config.address ?? server!.address;
  const connectionOptions = { address, tls: config.tls || undefined, apiKey: config.apiKey };
  const { model, description } = modelFromSettings(settings.openai);
  const nativeConnection = await NativeConnection.connect(connectionOptions);
  const connection = await Connection.connect(connectionOptions);
  const worker = await createWorker({
    agents: [example.agent],
    model,
    taskQueue: config.taskQueue,
    namespace: config.namespace,
    connection: nativeConnection,
  });
  const running = worker.run();

  const threadId = config.threadId ?? newChatThreadId();
  console.log(`Temporal:   ${address} (namespace ${config.namespace})${server?.started ? ', started here' : ''}`);
  if (server?.uiUrl) console.log(`Web UI:     ${server.uiUrl}/namespaces/${config.namespace}/workflows/${threadId}`);
  console.log(`Model:      ${description}`);
  console.log(`Sandbox:    ${example.sandboxDir} (delete_file acts only here: ${example.sampleFiles.join(', ')})`);
  console.log(`Outbox:     ${example.outboxFile} (send_email appends here)`);
  console.log(`Thread:     ${threadId}  (resume later with: npm start -- --thread ${threadId})`);
  console.log(`Approver:   ${config.approver}`);
  console.log('Try: "delete the file notes.txt" or "send an email to ops@example.com about the release". Type exit to leave.');

  const client = new AirlockClient({ connection, namespace: config.namespace, taskQueue: config.taskQueue });
  try {
    await runTerminalChat({ client, threadId, agent: 'assistant', approver: config.approver });
  } finally {
    worker.shutdown();
    await running;
    await connection.close();
    await nativeConnection.close();
    await server?.stop();
  }
  console.log(`\nThe thread lives on in Temporal. Resume it with: npm start -- --thread ${threadId}`);
}

main().catch((err) => {
  console.error(`airlock: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
