/**
 * The long-running programs as a user starts them: `airlock dev-server`, `airlock chat` fed from a
 * pipe, and what `npm start` runs after its build (`node dist/src/main.js`), also resumed.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { freePort } from '../../src/devtools/dev-server';
import { createExampleAgent } from '../../src/agents';
import { AirlockClient } from '../../src/client';
import type { AuditEntry } from '../../src/core';
import { createWorker } from '../../src/worker';
import { endThreads, quietRuntime, tempDir, unique, workflowBundle } from '../helpers';
import { AIRLOCK_BIN, airlock, startBackground, type CliResult } from './cli-process';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;
/** The environment of a user with no model configured. */
const offline = (env: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv => ({ ...env, OPENAI_API_KEY: '', OPENAI_BASE_URL: '' });

/**
 * Runs a Node program to its end with `input` piped to its stdin, as `printf '...' | program` does.
 * A program still running after `timeoutMs` is killed (its code is then `null`).
 */
function runWithInput(script: string, args: string[], input: string, env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [script, ...args], { env: { ...process.env, ...env }, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(input);
  });
}

/** True when nothing listens on 127.0.0.1:port. */
function portIsFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });
}

/** The approval box the chat prints for `delete_file` on `file`. */
const approvalBox = (file: string, interruptId: string) =>
  [
    '═'.repeat(60),
    '🔒 APPROVAL REQUIRED',
    '═'.repeat(60),
    'Tool: delete_file',
    `Arguments: {\n  "path": "${file}"\n}`,
    'Note: File deletion is irreversible',
    `Interrupt: ${interruptId}`,
    '═'.repeat(60),
    'Approve? (y/n, e edit, r respond): y',
  ].join('\n');

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

let connection: Connection;
let client: Client;

beforeAll(async () => {
  quietRuntime();
  connection = await Connection.connect({ address: address() });
  client = new Client({ connection });
});
afterAll(() => connection?.close());

/**
 * Starts `airlock dev-server` on free ports with a fresh database file. A port can be taken between
 * choosing it and the server binding it (the server picks ports of its own too): then it tries again.
 */
async function startDevServerCommand() {
  for (let attempt = 1; ; attempt++) {
    const port = await freePort();
    const uiPort = await freePort();
    const db = path.join(tempDir(), 'dev-server.db');
    try {
      const server = await startBackground(['dev-server', '--port', String(port), '--ui-port', String(uiPort), '--db', db], 'Ctrl-C to stop.');
      return { server, port, uiPort, db };
    } catch (err) {
      if (attempt === 3 || !/temporal server start-dev exited/.test((err as Error).message)) throw err;
    }
  }
}

test('airlock dev-server starts on the ports and database it is given, serves airlock pending, and frees its port on SIGTERM', async () => {
  const { server, port, uiPort, db } = await startDevServerCommand();
  const serverAddress = `127.0.0.1:${port}`;
  try {
    expect(server.output()).toContain(`Temporal dev server started at ${serverAddress}, Web UI http://127.0.0.1:${uiPort}`);
    const pending = await airlock(['pending', '--address', serverAddress]);
    expect(pending).toMatchObject({ code: 0, stdout: 'No approvals pending.\n' });
    expect(existsSync(db)).toBe(true);
    expect((await fetch(`http://127.0.0.1:${uiPort}/`)).ok).toBe(true);
  } finally {
    await server.stop();
  }
  expect(server.child.exitCode).toBe(0);
  expect(await portIsFree(port)).toBe(true);
  expect(await portIsFree(uiPort)).toBe(true);
  const after = await airlock(['pending', '--address', serverAddress]);
  expect(after.code).toBe(1);
  expect(after.stderr).toContain(`Cannot reach Temporal at ${serverAddress}`);
}, 120_000);

test('airlock chat --thread with a worker: a piped "delete the file notes.txt", "y", "exit" deletes the file, shows the approval box and the resume hint', async () => {
  const taskQueue = unique('chat');
  const home = tempDir();
  const threadId = unique('chat-thread');
  const target = ['--address', address(), '--task-queue', taskQueue];
  const worker = await startBackground(['worker', '--home', home, ...target], 'Ready.', offline());
  const airlockClient = new AirlockClient({ client, taskQueue });
  try {
    const notes = path.join(home, 'sandbox', 'notes.txt');
    expect(existsSync(notes)).toBe(true);
    const chat = await runWithInput(AIRLOCK_BIN, ['chat', '--thread', threadId, '--as', 'carol', ...target], 'delete the file notes.txt\ny\nexit\n', {});
    expect(chat.code).toBe(0);
    // The hint repeats what the resumed chat needs: the thread and its task queue.
    expect(chat.stderr).toContain(`Thread ${threadId} on ${address()} (resume with: npx airlock chat --thread ${threadId} --task-queue ${taskQueue})`);
    expect(chat.stdout).toContain('You: delete the file notes.txt\n');
    expect(chat.stdout).toContain(approvalBox('notes.txt', 't1-call_1_1'));
    expect(chat.stdout).toContain(`Agent: Here is what happened:\n- delete_file: Deleted ${notes}\n`);
    expect(existsSync(notes)).toBe(false);

    const audit = jsonLines<AuditEntry>((await airlock(['audit', threadId, '--json', ...target])).stdout);
    expect(audit).toEqual([expect.objectContaining({ toolName: 'delete_file', toolArgs: { path: 'notes.txt' }, decision: 'accepted', approver: 'carol' })]);
  } finally {
    await endThreads(airlockClient, [threadId]);
    await worker.stop();
  }
}, 120_000);

describe("what npm start runs (node dist/src/main.js), pointed at the test run's dev server by TEMPORAL_ADDRESS", () => {
  // Without TEMPORAL_ADDRESS (or --address) main.js always starts or reuses a dev server on 127.0.0.1:7233
  // whose state is .temporal/dev-server.db; the tests use the run's server instead.
  const taskQueue = unique('npm-start');
  const threads: string[] = [];
  let home: string;
  const start = (args: string[], input: string) =>
    runWithInput(MAIN, ['--task-queue', taskQueue, ...args], input, offline({ TEMPORAL_ADDRESS: address(), AIRLOCK_HOME: home, AIRLOCK_APPROVER: 'dave' }));

  beforeAll(() => {
    home = tempDir();
  });
  afterAll(async () => {
    // main.js's worker has stopped with it: a worker for its queue ends the threads it left.
    const nativeConnection = await NativeConnection.connect({ address: address() });
    const agent = createExampleAgent({ sandboxDir: path.join(home, 'sandbox') });
    const worker = await createWorker({ agents: [agent], taskQueue, connection: nativeConnection, workflowBundle: workflowBundle() });
    await worker.runUntil(endThreads(new AirlockClient({ client, taskQueue }), threads));
    await nativeConnection.close();
  });

  test('a piped "delete the file notes.txt", "y", "exit" deletes the file, with the banner, the approval box and the resume hint', async () => {
    const threadId = unique('start-thread');
    threads.push(threadId);
    const run = await start(['--thread', threadId], 'delete the file notes.txt\ny\nexit\n');
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const notes = path.join(home, 'sandbox', 'notes.txt');
    expect(run.stdout).not.toContain('Starting the local Temporal dev server');
    expect(run.stdout).toContain(`Temporal:   ${address()} (namespace default)\n`);
    expect(run.stdout).toContain('Model:      offline deterministic model');
    expect(run.stdout).toContain(`Sandbox:    ${path.join(home, 'sandbox')} (delete_file acts only here: notes.txt, old-report.csv, draft.md)`);
    expect(run.stdout).toContain(`Thread:     ${threadId}  (resume later with: npm start -- --thread ${threadId} --task-queue ${taskQueue})`);
    expect(run.stdout).toContain(approvalBox('notes.txt', 't1-call_1_1'));
    expect(run.stdout).toContain(`Agent: Here is what happened:\n- delete_file: Deleted ${notes}\n`);
    expect(run.stdout.trimEnd().split('\n').pop()).toBe(`The thread lives on in Temporal. Resume it with: npm start -- --thread ${threadId} --task-queue ${taskQueue}`);
    expect(existsSync(notes)).toBe(false);
    const trail = await new AirlockClient({ client, taskQueue }).auditTrail(threadId);
    expect(trail).toEqual([expect.objectContaining({ toolArgs: { path: 'notes.txt' }, decision: 'accepted', approver: 'dave' })]);
  }, 120_000);

  test('left at the approval prompt, npm start -- --thread <id> resumes the thread with its pending approval', async () => {
    const threadId = unique('start-thread');
    threads.push(threadId);
    const draft = path.join(home, 'sandbox', 'draft.md');
    // The input ends at the prompt, as when the user closes the terminal.
    const left = await start(['--thread', threadId], 'delete the file draft.md\n');
    expect(left.code).toBe(0);
    expect(left.stdout).toContain('🔒 APPROVAL REQUIRED');
    expect(left.stdout).toContain(`Resume it with: npm start -- --thread ${threadId} --task-queue ${taskQueue}`);
    expect(existsSync(draft)).toBe(true);

    const resumed = await start(['--thread', threadId], 'y\nexit\n');
    expect(resumed.stdout).toContain(`Resuming thread ${threadId} (2 messages, awaiting_approval).\nYou: delete the file draft.md\n`);
    expect(resumed.stdout).toContain(approvalBox('draft.md', 't1-call_1_1'));
    expect(resumed.stdout).toContain(`Agent: Here is what happened:\n- delete_file: Deleted ${draft}\n`);
    expect(resumed.code).toBe(0);
    expect(existsSync(draft)).toBe(false);
  }, 120_000);
});
