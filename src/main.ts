/**
 * `npm start`: a local Temporal dev server (started or reused; state kept in .temporal/), a worker
 * hosting the example agent, and a terminal chat whose protected tools ask for approval.
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { NativeConnection, Runtime, DefaultLogger } from '@temporalio/worker';
import { ensureDevServer, type DevServer } from '../scripts/dev-server';
import { PROJECT_ROOT } from '../scripts/temporal-binaries';
import { createExampleAgent } from './agents';
import { AirlockClient } from './client';
import { runTerminalChat } from './client/terminal-chat';
import { loadConfig } from './config';
import { OfflineModel, OpenAIChatModel } from './models';
import { createWorker } from './worker';

const SAMPLE_FILES: Record<string, string> = {
  'notes.txt': 'Meeting notes: ship the approval inbox on Friday.\n',
  'old-report.csv': 'month,revenue\n2026-01,100\n',
  'draft.md': '# Draft\nNothing to see yet.\n',
};

async function main(): Promise<void> {
  const config = loadConfig(process.argv.slice(2), process.env, PROJECT_ROOT);
  Runtime.install({ logger: new DefaultLogger('WARN') });

  const sandbox = path.join(config.home, 'sandbox');
  mkdirSync(sandbox, { recursive: true });
  for (const [name, text] of Object.entries(SAMPLE_FILES)) {
    if (!existsSync(path.join(sandbox, name))) writeFileSync(path.join(sandbox, name), text);
  }
  const outbox = path.join(config.home, 'outbox.jsonl');

  let server: DevServer | undefined;
  if (!config.address) {
    console.log('Starting the local Temporal dev server (state in .temporal/dev-server.db)...');
    server = await ensureDevServer();
  }
  const address = config.address ?? server!.address;
  const connectionOptions = { address, tls: config.tls || undefined, apiKey: config.apiKey };
  const model = OpenAIChatModel.fromEnv(process.env) ?? new OfflineModel();
  const nativeConnection = await NativeConnection.connect(connectionOptions);
  const connection = await Connection.connect(connectionOptions);
  const worker = await createWorker({
    agents: [createExampleAgent({ sandboxDir: sandbox, outboxFile: outbox })],
    model,
    taskQueue: config.taskQueue,
    namespace: config.namespace,
    connection: nativeConnection,
  });
  const running = worker.run();

  const threadId = config.threadId ?? `chat-${new Date().toISOString().slice(0, 19).replace(/[-:T]/g, '')}`;
  console.log(`Temporal:   ${address} (namespace ${config.namespace})${server?.started ? ', started here' : ''}`);
  if (server?.uiUrl) console.log(`Web UI:     ${server.uiUrl}/namespaces/${config.namespace}/workflows/${threadId}`);
  console.log(
    model instanceof OfflineModel
      ? 'Model:      offline deterministic model (no model configured: set OPENAI_API_KEY or OPENAI_BASE_URL for a real one)'
      : `Model:      ${model.name}`,
  );
  console.log(`Sandbox:    ${sandbox} (delete_file acts only here: ${Object.keys(SAMPLE_FILES).join(', ')})`);
  console.log(`Outbox:     ${outbox} (send_email appends here)`);
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
