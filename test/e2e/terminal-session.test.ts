/**
 * The approver's and operator's day in the terminal: stopping npm start and the worker with one
 * signal, explicit answers at the approval prompt, commands that say what they wait for, `show`
 * without a worker, and a resumed chat that shows what the user missed. Real processes against the
 * run's dev server (and one npm start that starts its own).
 */
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { freePort } from '../../src/devtools/dev-server';
import { findTemporalBinary } from '../../src/devtools/temporal-binaries';
import { tempDir, unique } from '../helpers';
import { AIRLOCK_BIN, airlock, converse, isAlive, startBackground } from './cli-process';

const MAIN = path.join(__dirname, '../../dist/src/main.js');
/** The decision prompt for the example's tools, whose policies allow every decision. */
const DECIDE = 'Approve? (y/n, e edit, r respond): ';
const address = () => process.env.AIRLOCK_TEST_ADDRESS!;

let connection: Connection;
let client: Client;
beforeAll(async () => {
  connection = await Connection.connect({ address: address() });
  client = new Client({ connection });
});
afterAll(() => connection?.close());

/** Ends a thread a test leaves waiting. */
const terminate = (threadId: string) => client.workflow.getHandle(threadId).terminate('test over').catch(() => undefined);

async function eventuallyTrue(check: () => boolean, timeoutMs = 15_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  return check();
}

test('Ctrl-C on airlock worker drains once and exits 0', async () => {
  const worker = await startBackground(['worker', '--home', tempDir(), '--address', address(), '--task-queue', unique('stop')], 'Ready.');
  const exited = new Promise<number | null>((resolve) => worker.child.once('exit', (code) => resolve(code)));
  worker.child.kill('SIGINT');
  expect(await exited).toBe(0);
  expect(worker.output()).toContain('Worker stopped.');
  expect(worker.output()).not.toMatch(/IllegalStateError|DRAINING/);
});

test('npm start: SIGTERM at the You: prompt, SIGINT at the Approve? prompt after answers it does not take: everything stops, with the resume hint', async () => {
  const taskQueue = unique('start');
  const home = tempDir();
  const run = (threadId: string) => converse(MAIN, ['--address', address(), '--task-queue', taskQueue, '--home', home, '--thread', threadId]);

  const idle = run(unique('start-idle'));
  await idle.waitFor('You: ');
  const before = Date.now();
  idle.child.kill('SIGTERM');
  expect((await idle.exited).code).toBe(0);
  expect(Date.now() - before).toBeLessThan(10_000);
  expect(idle.output()).toContain(`Resume it with: npm start -- --thread`);

  const threadId = unique('start-approve');
  const asking = run(threadId);
  await asking.waitFor('You: ');
  asking.type('delete the file notes.txt');
  let at = await asking.waitFor(DECIDE);
  for (const answer of ['maybe', '', 'yess', 'edits']) {
    asking.type(answer);
    at = await asking.waitFor("Please answer y (yes), n (no), e (edit the arguments) or r (respond in the tool's place); exit or quit leaves with the approval pending.", at);
    at = await asking.waitFor(DECIDE, at);
  }
  asking.child.kill('SIGINT');
  expect((await asking.exited).code).toBe(0);
  expect(asking.output()).toContain(`Resume it with: npm start -- --thread ${threadId}`);
  // Nothing was decided: the file is still there and the approval still waits.
  expect(existsSync(path.join(home, 'sandbox', 'notes.txt'))).toBe(true);
  const audit = await airlock(['audit', threadId, '--json', '--address', address()]);
  expect(audit.stdout).toContain('"decision":"pending"');
  await terminate(threadId);
}, 120_000);

test('Ctrl-C in a real terminal (tmux) at the You: prompt ends npm start at once, with the resume hint', async () => {
  const socket = unique('airlock-tty');
  const threadId = unique('tty');
  const quote = (text: string) => `'${text.replace(/'/g, "'\\''")}'`;
  const command = [process.execPath, MAIN, '--address', address(), '--task-queue', unique('tty'), '--home', tempDir(), '--thread', threadId].map(quote).join(' ');
  const tmux = (...args: string[]) => execFileSync('tmux', ['-L', socket, ...args], { encoding: 'utf8' });
  tmux('new-session', '-d', '-x', '200', '-y', '50', `${command}; echo EXITED:$?; sleep 60`);
  const screen = () => tmux('capture-pane', '-p', '-S', '-100');
  try {
    expect(await eventuallyTrue(() => screen().includes('You:'), 30_000)).toBe(true);
    const before = Date.now();
    tmux('send-keys', 'C-c');
    expect(await eventuallyTrue(() => screen().includes('EXITED:'), 15_000)).toBe(true);
    expect(Date.now() - before).toBeLessThan(10_000);
    expect(screen()).toContain('EXITED:0');
    expect(screen()).toContain(`Resume it with: npm start -- --thread ${threadId}`);
  } finally {
    tmux('kill-server');
  }
}, 60_000);

/** Whether a port on 127.0.0.1 can be listened on now. */
const canListen = (port: number) =>
  new Promise<boolean>((resolve) => {
    const probe = net.createServer();
    probe.once('error', () => resolve(false));
    probe.listen(port, '127.0.0.1', () => probe.close(() => resolve(true)));
  });

/** A free port whose Web UI port (the port + 1000, as the dev server picks it) is free too. */
async function freePortWithUi(): Promise<number> {
  for (;;) {
    const port = await freePort();
    if (port + 1000 <= 65_535 && (await canListen(port + 1000))) return port;
  }
}

test('npm start that starts its own dev server (--dev-port, AIRLOCK_TEMPORAL_HOME) stops it on SIGTERM, during start-up too', async () => {
  const env = { AIRLOCK_TEMPORAL_HOME: tempDir(), TEMPORAL_CLI_PATH: findTemporalBinary('cli'), TEMPORAL_ADDRESS: '' };
  const serverPids = (port: number) =>
    execFileSync('ps', ['-eo', 'pid=,args='], { encoding: 'utf8' })
      .split('\n')
      .filter((line) => line.includes('start-dev') && line.includes(`--port ${port} `))
      .map((line) => Number(line.trim().split(/\s+/)[0]));

  const port = await freePortWithUi();
  const help = converse(MAIN, ['--help'], env);
  expect((await help.exited).code).toBe(0);
  expect(help.output()).toContain('--dev-port <n>');

  const session = converse(MAIN, ['--dev-port', String(port), '--home', tempDir(), '--thread', unique('own-server')], env);
  await session.waitFor('You: ');
  expect(session.output()).toContain(`Temporal:   127.0.0.1:${port} (namespace default), started here`);
  const [pid] = serverPids(port);
  expect(pid).toBeGreaterThan(0);
  session.child.kill('SIGTERM');
  expect((await session.exited).code).toBe(0);
  expect(session.output()).toContain('Resume it with: npm start -- --thread');
  expect(await eventuallyTrue(() => !isAlive(pid))).toBe(true);
  expect(await refuses(port)).toBe(true);

  // A signal while the server starts: the server goes too.
  const early = await freePortWithUi();
  const starting = converse(MAIN, ['--dev-port', String(early), '--home', tempDir()], env);
  await starting.waitFor('Starting the local Temporal dev server');
  if (!(await eventuallyTrue(() => serverPids(early).length > 0, 20_000))) {
    throw new Error(`No dev server process for port ${early}; npm start printed:\n${starting.output()}`);
  }
  const [earlyPid] = serverPids(early);
  starting.child.kill('SIGTERM');
  await starting.exited;
  expect(await eventuallyTrue(() => !isAlive(earlyPid))).toBe(true);
}, 180_000);

test('at the approval prompt exit leaves it pending; a resumed chat shows the result and the message queued meanwhile', async () => {
  const taskQueue = unique('resume');
  const home = tempDir();
  const target = ['--address', address(), '--task-queue', taskQueue];
  const worker = await startBackground(['worker', '--home', home, ...target], 'Ready.');
  const threadId = unique('resume-thread');
  try {
    const first = converse(AIRLOCK_BIN, ['chat', '--thread', threadId, '--as', 'alice', ...target]);
    await first.waitFor('You: ');
    first.type('send an email to ops@example.com about the release');
    await first.waitFor(DECIDE);
    first.type('exit');
    expect((await first.exited).code).toBe(0);
    expect(first.output()).toMatch(/The approval \S+ is still pending; nothing was decided\./);
    expect(first.output()).toContain(`Resume it with: npx airlock chat --thread ${threadId} --task-queue ${taskQueue}`);

    // Meanwhile: a message from another terminal queues behind the approval, and someone approves.
    const queued = await airlock(['send', threadId, 'delete the file notes.txt', '--wait', '2', ...target]);
    expect(queued.code).toBe(1);
    expect(queued.stderr).toMatch(/Waiting: thread \S+ waits for approval \S+; your message is queued/);
    expect(queued.stderr).toContain('decide with npx airlock approve');
    const pending = /waits for approval (\S+);/.exec(queued.stderr)![1];
    expect((await airlock(['approve', threadId, pending, '--as', 'bob', ...target])).code).toBe(0);

    const resumed = converse(AIRLOCK_BIN, ['chat', '--thread', threadId, '--as', 'alice', ...target]);
    const sent = await resumed.waitFor('[send_email]');
    const asked = await resumed.waitFor('You: delete the file notes.txt', sent);
    await resumed.waitFor('Tool: delete_file', asked);
    await resumed.waitFor(DECIDE, asked);
    resumed.child.kill('SIGINT');
    expect((await resumed.exited).code).toBe(0);
    expect(resumed.output()).toContain(`Resume it with: npx airlock chat --thread ${threadId}`);
  } finally {
    await terminate(threadId);
    await worker.stop();
  }
}, 120_000);

test('airlock chat: edit a payment (bad JSON asked again) and respond to a deletion at the prompt; the ledgers show what ran', async () => {
  const taskQueue = unique('chat-doors');
  const home = tempDir();
  const target = ['--address', address(), '--task-queue', taskQueue];
  const worker = await startBackground(['worker', '--home', home, ...target], 'Ready.');
  const threadId = unique('chat-doors');
  try {
    const chat = converse(AIRLOCK_BIN, ['chat', '--thread', threadId, '--as', 'alice', ...target]);
    await chat.waitFor('You: ');
    chat.type('pay 500 to acme');
    let at = await chat.waitFor('Asks because: amount 500 exceeds 100');
    at = await chat.waitFor(DECIDE, at);
    chat.type('e');
    at = await chat.waitFor('New arguments: ', at);
    chat.type('{"amount": 70');
    at = await chat.waitFor('That is not valid JSON', at);
    at = await chat.waitFor('New arguments: ', at);
    chat.type('{"amount": 70, "to": "acme"}');
    at = await chat.waitFor('Result: Paid 70 EUR to acme', at);
    at = await chat.waitFor('You: ', at);
    chat.type('delete the file notes.txt');
    at = await chat.waitFor(DECIDE, at);
    chat.type('r');
    at = await chat.waitFor("Your answer (the model reads it instead of the tool's result; an empty line goes back): ", at);
    chat.type('Not today');
    at = await chat.waitFor('A person (alice) answered instead of running this delete_file call (it was not run): Not today', at);
    await chat.waitFor('You: ', at);
    chat.type('exit');
    expect((await chat.exited).code).toBe(0);
    expect(readFileSync(path.join(home, 'payments.jsonl'), 'utf8')).toMatch(/^\{[^\n]*"amount":70,"to":"acme"[^\n]*\}\n$/);
    expect(existsSync(path.join(home, 'sandbox', 'notes.txt'))).toBe(true);
  } finally {
    await terminate(threadId);
    await worker.stop();
  }
}, 120_000);

test('with no worker: start, send and chat say what they wait for at once and give up at --wait; show reads history; an unreachable server is reported at once', async () => {
  const taskQueue = unique('idle');
  const home = tempDir();
  const target = ['--address', address(), '--task-queue', taskQueue];
  const threadId = unique('idle-thread');

  for (const args of [['start', '--thread', threadId, 'hello'], ['chat', '--thread', threadId]]) {
    const waiting = converse(AIRLOCK_BIN, [...args, '--wait', '3', ...target]);
    const began = Date.now();
    await waiting.waitFor(`Waiting for a worker on task queue ${taskQueue}`);
    expect(Date.now() - began).toBeLessThan(2_000);
    expect((await waiting.exited).code).toBe(1);
    expect(waiting.output()).toContain(`Start one with: npx airlock worker --task-queue ${taskQueue}`);
  }

  // A thread that waits for approval, then no worker: show rebuilds it from history.
  const worker = await startBackground(['worker', '--home', home, ...target], 'Ready.');
  expect((await airlock(['start', '--thread', threadId, 'delete the file notes.txt', ...target])).code).toBe(0);
  await worker.stop();
  const shown = await airlock(['show', threadId, ...target]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('You: delete the file notes.txt');
  expect(shown.stdout).toContain('→ delete_file {"path":"notes.txt"}');
  expect(shown.stdout).toContain(`Thread ${threadId} waits for approval:`);
  expect(shown.stderr).toContain('live state needs a worker');
  await terminate(threadId);

  const began = Date.now();
  const unreachable = await airlock(['pending', '--address', '127.0.0.1:1']);
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr).toContain('connection refused');
  expect(Date.now() - began).toBeLessThan(3_000);
}, 120_000);

function refuses(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('error', () => resolve(true));
  });
}
