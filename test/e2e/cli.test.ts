/** The `airlock` CLI end to end against a real dev server: spawned processes, exit codes, output. */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { AuditEntry } from '../../src/core';
import { AirlockClient, type PendingApproval } from '../../src/client';
import { endThreads, tempDir, unique } from '../helpers';
import { airlock, eventually, startBackground } from './cli-process';

const address = () => process.env.AIRLOCK_TEST_ADDRESS!;
let taskQueue: string;
let home: string;
let worker: Awaited<ReturnType<typeof startBackground>>;
let temporal: Connection;
let client: AirlockClient;
/** Threads started on the main worker's queue: ended after the tests, so a failure leaves none waiting. */
const started: string[] = [];
const connection = () => ['--address', address(), '--task-queue', taskQueue];

beforeAll(async () => {
  taskQueue = unique('cli');
  home = tempDir();
  temporal = await Connection.connect({ address: address() });
  client = new AirlockClient({ client: new Client({ connection: temporal }), taskQueue, defaultAgent: 'assistant' });
  worker = await startBackground(['worker', '--home', home, ...connection()], 'Ready.');
});
afterAll(async () => {
  if (client) await endThreads(client, started);
  await worker?.stop();
  await temporal?.close();
});

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

async function pendingFor(threadPrefix: string, extra: string[] = []): Promise<PendingApproval[]> {
  const result = await airlock(['pending', '--json', ...extra, ...connection()]);
  expect(result.code).toBe(0);
  return jsonLines<PendingApproval>(result.stdout).filter((approval) => approval.threadId.startsWith(threadPrefix));
}

test('start a thread, see it pending, approve it from another process, see the effect and the audit trail', async () => {
  const threadId = unique('cli-thread');
  started.push(threadId);
  const start = await airlock(['start', '--thread', threadId, 'delete the file notes.txt', ...connection()]);
  // A start that takes longer than half a second says what it waits for (on stderr); nothing else goes there.
  expect(start.stderr.split('\n').filter((line) => line !== '' && !line.startsWith('Waiting: '))).toEqual([]);
  expect(start.code).toBe(0);
  expect(start.stdout).toContain(`Thread ${threadId} waits for approval:`);
  expect(start.stdout).toContain('delete_file {"path":"notes.txt"}');

  const [pending] = await eventually(async () => {
    const found = await pendingFor(threadId);
    return found.length ? found : undefined;
  });
  expect(pending).toMatchObject({ threadId, toolName: 'delete_file', args: { path: 'notes.txt' }, policyNote: 'File deletion is irreversible', agent: 'assistant' });
  const listed = await airlock(['pending', '--tool', 'delete_file', ...connection()]);
  expect(listed.stdout).toMatch(/^(1 approval pending\.|\d+ approvals pending, oldest first\.)\n/);
  const block = listed.stdout.split('\n\n').find((text) => text.startsWith('Thread:') && text.includes(threadId));
  expect(block).toMatch(new RegExp(`^Thread: +${threadId}\nInterrupt: +${pending.id}\nTool: +delete_file\nAgent: +assistant\nNote: +File deletion is irreversible\n`));
  expect(block).toContain('\nArguments:\n  {\n    "path": "notes.txt"\n  }');

  expect(existsSync(path.join(home, 'sandbox/notes.txt'))).toBe(true);
  const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice', '--reason', 'old notes', ...connection()]);
  expect(approved.code).toBe(0);
  expect(approved.stdout).toContain(`Applied: accepted ${pending.id} on ${threadId} by alice`);
  await eventually(async () => (existsSync(path.join(home, 'sandbox/notes.txt')) ? undefined : true));

  const again = await airlock(['reject', threadId, pending.id, '--as', 'bob', ...connection()]);
  expect(again.code).toBe(3);
  expect(again.stderr).toMatch(/Refused \(InterruptAlreadyDecided\): Interrupt '.*' was already accepted by alice/);
  const unknown = await airlock(['approve', threadId, 'no-such-interrupt', ...connection()]);
  expect(unknown.code).toBe(3);
  expect(unknown.stderr).toContain('Refused (InterruptNotFound): No interrupt with that id in this thread');

  const audit = await eventually(async () => {
    const result = await airlock(['audit', threadId, '--json', ...connection()]);
    const entries = jsonLines<AuditEntry>(result.stdout);
    return entries[0]?.result ? entries : undefined;
  });
  // The accepted decision, then the two refused ones: on record with who sent them.
  expect(audit.map((entry) => entry.decision)).toEqual(['accepted', 'refused', 'refused']);
  expect(audit.slice(1).map((entry) => [entry.approver, entry.refusal?.errorType, entry.via])).toEqual([
    ['bob', 'InterruptAlreadyDecided', 'update'],
    [expect.any(String), 'InterruptNotFound', 'update'],
  ]);
  expect(audit.every((entry) => entry.sender?.startsWith('airlock-cli '))).toBe(true);
  expect(audit[0]).toMatchObject({
    threadId,
    interruptId: pending.id,
    toolName: 'delete_file',
    toolArgs: { path: 'notes.txt' },
    decision: 'accepted',
    approver: 'alice',
    reason: 'old notes',
    policyNote: 'File deletion is irreversible',
  });
  expect(audit[0].result).toMatch(/^Deleted .*notes\.txt$/);
  expect(Date.parse(audit[0].timestamp)).toBeGreaterThanOrEqual(Date.parse(audit[0].createdAt));
  const auditTable = await airlock(['audit', threadId, ...connection()]);
  expect(auditTable.stdout).toMatch(/accepted\s+alice\s+old notes/);

  const shown = await airlock(['show', threadId, ...connection()]);
  expect(shown.code).toBe(0);
  expect(shown.stdout).toContain('You: delete the file notes.txt');
  expect(shown.stdout).toMatch(/\[delete_file\] Deleted .*notes\.txt/);

  const sent = await airlock(['send', threadId, 'hello', ...connection()]);
  expect(sent.code).toBe(0);
  expect(sent.stdout).toMatch(/^Agent: I am the offline model/);
});

test('a decision that arrives after the timeout is refused with exit code 3; a worker runs a module of agents', async () => {
  // The module's agent deletes in a sandbox of its own, holding its own draft.md.
  const moduleHome = tempDir();
  const sandbox = path.join(moduleHome, 'sandbox');
  mkdirSync(sandbox);
  const draft = path.join(sandbox, 'draft.md');
  writeFileSync(draft, '# Draft\n');
  const moduleFile = path.join(moduleHome, 'agents.js');
  writeFileSync(
    moduleFile,
    `const { defineAgent, createDeleteFileTool } = require(${JSON.stringify(path.join(__dirname, '../../dist/src'))});
     exports.agents = [defineAgent({ name: 'hasty', instructions: 'Be quick.', tools: [createDeleteFileTool(${JSON.stringify(sandbox)})],
       interrupts: { delete_file: { allowAuto: false, note: 'one second to decide', timeout: '1s' } } })];`,
  );
  const moduleQueue = unique('cli-module');
  const moduleConnection = ['--address', address(), '--task-queue', moduleQueue];
  const moduleWorker = await startBackground(['worker', '--module', moduleFile, ...moduleConnection], 'Ready.');
  const threadId = unique('cli-timeout');
  try {
    expect(moduleWorker.output()).toContain('Agents: hasty');
    const start = await airlock(['start', '--thread', threadId, '--agent', 'hasty', '--json', 'delete the file draft.md', ...moduleConnection]);
    expect(start.code).toBe(0);
    const interruptId = JSON.parse(start.stdout).state.currentInterrupt.id;
    await eventually(async () => {
      const entries = jsonLines<AuditEntry>((await airlock(['audit', threadId, '--json', ...moduleConnection])).stdout);
      return entries[0]?.decision === 'timed-out' ? true : undefined;
    });
    const late = await airlock(['approve', threadId, interruptId, '--as', 'slowpoke', ...moduleConnection]);
    expect(late.code).toBe(3);
    expect(late.stderr).toMatch(/Refused \(InterruptTimedOut\): Interrupt '.*' timed out at .* and was resolved as 'reject'/);
    const audit = jsonLines<AuditEntry>((await airlock(['audit', threadId, '--json', ...moduleConnection])).stdout);
    expect(audit[0]).toMatchObject({ decision: 'timed-out', outcome: 'reject', approver: 'timeout' });
    // The timeout rejected the call: the file the tool would have deleted is still there, unchanged.
    expect(readFileSync(draft, 'utf8')).toBe('# Draft\n');
  } finally {
    await endThreads(client, [threadId]);
    await moduleWorker.stop();
  }
});

test('pending over 50 threads lists exactly the waiting ones, and --tool filters them', async () => {
  const prefix = unique('fifty');
  const threads = Array.from({ length: 50 }, (_, i) => ({ id: `${prefix}-${String(i).padStart(2, '0')}`, email: i % 3 === 0 }));
  started.push(...threads.map((t) => t.id));
  const responses = await Promise.all(
    threads.map((t) => client.handleMessage(t.id, t.email ? `send an email to t${t.id.slice(-2)}@example.com about report` : 'delete the file old-report.csv')),
  );
  // Decide every fifth thread: those must drop out of the inbox.
  const decided = new Set(threads.filter((_, i) => i % 5 === 0).map((t) => t.id));
  await Promise.all(
    threads.map((t, i) =>
      decided.has(t.id) ? client.decide(t.id, { interruptId: responses[i].state.currentInterrupt!.id, action: 'reject', approver: 'carol' }) : undefined,
    ),
  );
  const waiting = threads.filter((t) => !decided.has(t.id));
  const listed = await eventually(async () => {
    const found = await pendingFor(prefix);
    const ids = found.map((approval) => approval.threadId).sort();
    return JSON.stringify(ids) === JSON.stringify(waiting.map((t) => t.id).sort()) ? found : undefined;
  });
  expect(listed).toHaveLength(40);
  const sorted = [...listed].sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  expect(listed.map((a) => a.createdAt)).toEqual(sorted.map((a) => a.createdAt));
  const emails = await pendingFor(prefix, ['--tool', 'send_email']);
  expect(emails.map((a) => a.threadId).sort()).toEqual(waiting.filter((t) => t.email).map((t) => t.id).sort());
  expect(emails.every((a) => a.toolName === 'send_email')).toBe(true);
}, 180_000);

test('clear errors: bad arguments, a thread that does not exist, a server that is not reachable', async () => {
  const usage = await airlock(['approve', 'only-a-thread', ...connection()]);
  expect(usage.code).toBe(2);
  expect(usage.stderr).toContain('Expected <thread> <interrupt>');
  const unknownFlag = await airlock(['pending', '--colour', 'red']);
  expect(unknownFlag.code).toBe(2);
  expect(unknownFlag.stderr).toContain('Unknown option --colour');
  const missing = await airlock(['audit', 'no-such-thread-anywhere', ...connection()]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("No thread 'no-such-thread-anywhere' in namespace 'default'");
  const unreachable = await airlock(['pending', '--address', '127.0.0.1:1']);
  expect(unreachable.code).toBe(1);
  expect(unreachable.stderr).toContain('Cannot reach Temporal at 127.0.0.1:1');
  const help = await airlock(['audit', '--help']);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain('Usage: airlock audit <thread> [--json]');
});

test('what the command line says is checked before connecting: with no server, a malformed command gets its usage error', async () => {
  const nowhere = ['--address', '127.0.0.1:1'];
  for (const [args, message] of [
    [['approve', 't-1', 'i-1', '--grant', 'path'], '--grant takes <argument>=<pattern>'],
    [['approve', 't-1', 'i-1', '--grant', 'path=**'], 'a pattern must hold more than wildcards'],
    [['reject', 't-1', 'i-1', '--call-digest', 'abc'], '--call-digest takes the 64-character hex callDigest'],
    [['edit', 't-1', 'i-1', '--args', '[1]'], '--args must be a JSON object'],
    [['respond', 't-1', 'i-1'], '--message <text> is required'],
    [['approve', 't-1'], 'Expected <thread> <interrupt>'],
    [['revoke-grant', 't-1'], 'Expected <thread> <grant>'],
    [['start', 'hello'], '--thread <id> is required'],
    [['send', 't-1'], 'Expected <thread> <message>'],
    [['show'], 'Expected <thread>'],
    [['audit', 't-1', 'extra'], 'Expected <thread>'],
    [['grants'], 'Expected <thread>'],
    [['pending', '--tool', 'no such tool'], '--tool takes a tool name'],
  ] as const) {
    const result = await airlock([...args, ...nowhere]);
    expect([args[0], result.code, result.stderr]).toEqual([args[0], 2, expect.stringContaining(message)]);
    expect(result.stderr).not.toContain('Cannot reach Temporal');
  }
});
