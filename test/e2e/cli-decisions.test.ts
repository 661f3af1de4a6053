/**
 * The richer decisions through the `airlock` CLI, end to end against the run's dev server: spawned
 * processes, their exit codes and output, and the example tools' ledgers and sandbox. Edit (valid,
 * invalid, escalated), respond, a decision or a grant the policy does not allow, a decision made
 * on a call that changed since, grants (issued, used, listed, revoked), the conditional policy of
 * make_payment, and --signal for the new actions.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import type { AuditEntry, ToolGrant } from '../../src/core';
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
  taskQueue = unique('cli-decisions');
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

const jsonLines = <T>(text: string): T[] =>
  text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as T);

/** A new thread on the example agent that starts with `message`. */
async function startThread(prefix: string, message: string) {
  const threadId = unique(prefix);
  started.push(threadId);
  const result = await airlock(['start', '--thread', threadId, message, ...connection()]);
  expect(result.code).toBe(0);
  return { threadId, result };
}

/** The interrupt that waits in a thread, as `airlock pending --json` lists it (visibility catches up within moments). */
async function waitingIn(threadId: string, check: (approval: PendingApproval) => boolean = () => true): Promise<PendingApproval> {
  return eventually(async () => {
    const result = await airlock(['pending', '--json', ...connection()]);
    expect(result.code).toBe(0);
    return jsonLines<PendingApproval>(result.stdout).find((approval) => approval.threadId === threadId && check(approval));
  });
}

async function auditOf(threadId: string): Promise<AuditEntry[]> {
  const result = await airlock(['audit', threadId, '--json', ...connection()]);
  expect(result.code).toBe(0);
  return jsonLines<AuditEntry>(result.stdout);
}

/** The example's payments ledger: one line per payment made. */
const payments = (): Array<{ amount: number; to: string; idempotencyKey: string }> => {
  const file = path.join(home, 'payments.jsonl');
  return existsSync(file) ? jsonLines(readFileSync(file, 'utf8')) : [];
};
const paymentsOf = (threadId: string) => payments().filter((payment) => payment.idempotencyKey.startsWith(`${threadId}/`));
const sandboxFile = (name: string) => path.join(home, 'sandbox', name);

test("make_payment asks with the rule's reason; an edit with invalid arguments is refused (exit 3, the schema's message) and it still waits; a valid edit runs with the edited arguments; pay 50 runs at once and audit shows it allowed by the rule", async () => {
  const { threadId, result: start } = await startThread('cli-edit', 'pay 500 to acme');
  expect(start.stdout).toContain('make_payment {"amount":500,"to":"acme"}');
  expect(start.stdout).toContain('asks because amount 500 exceeds 100');
  expect(start.stdout).toContain(`airlock edit ${threadId} `);

  const pending = await waitingIn(threadId);
  expect(pending).toMatchObject({ toolName: 'make_payment', args: { amount: 500, to: 'acme' }, askReason: 'amount 500 exceeds 100' });
  expect(pending.callDigest).toMatch(/^[0-9a-f]{64}$/);
  // Grants are forbidden on payments: the summary does not offer them.
  expect(pending.grants).toBeUndefined();
  const listed = await airlock(['pending', '--tool', 'make_payment', ...connection()]);
  const block = listed.stdout.split('\n\n').find((text) => text.includes(threadId))!;
  expect(block).toMatch(/\nAsks because: +amount 500 exceeds 100\n/);
  expect(block).toMatch(/\nGrants: +not allowed by the policy\n/);
  expect(block).toContain(`\nCall digest:  ${pending.callDigest}\n`);

  const notJson = await airlock(['edit', threadId, pending.id, '--args', '{"amount": 80,', '--as', 'alice', ...connection()]);
  expect(notJson.code).toBe(2);
  expect(notJson.stderr).toContain('--args is not valid JSON');
  const notObject = await airlock(['edit', threadId, pending.id, '--args', '[80]', '--as', 'alice', ...connection()]);
  expect(notObject.code).toBe(2);
  expect(notObject.stderr).toContain('--args must be a JSON object');

  const invalid = await airlock(['edit', threadId, pending.id, '--args', '{"amount": -5, "to": "acme"}', '--as', 'alice', ...connection()]);
  expect(invalid.code).toBe(3);
  expect(invalid.stderr).toContain("Refused (DecisionEditInvalid): The edited arguments do not fit 'make_payment'; nothing ran and the call still waits:");
  expect(invalid.stderr).toMatch(/expected number to be >0\n.*→ at amount/);
  expect(paymentsOf(threadId)).toEqual([]);
  expect(await waitingIn(threadId)).toMatchObject({ id: pending.id, args: { amount: 500, to: 'acme' }, callDigest: pending.callDigest });

  const edited = await airlock(['edit', threadId, pending.id, '--args', '{"amount": 80, "to": "acme", "memo": "half now"}', '--approver', 'alice', '--reason', 'pay half now', ...connection()]);
  expect(edited.stderr).toBe('');
  expect(edited.code).toBe(0);
  expect(edited.stdout).toContain(`Applied: edited ${pending.id} on ${threadId} by alice: it runs with {"amount":80,"memo":"half now","to":"acme"}`);
  await eventually(async () => (paymentsOf(threadId).length ? true : undefined));
  expect(paymentsOf(threadId)).toEqual([expect.objectContaining({ amount: 80, to: 'acme', memo: 'half now' })]);

  const small = await airlock(['send', threadId, 'pay 50 to acme', ...connection()]);
  expect(small.code).toBe(0);
  expect(small.stdout).toContain('- make_payment: Paid 50 EUR to acme');
  expect(paymentsOf(threadId).map((payment) => payment.amount)).toEqual([80, 50]);

  const audit = await eventually(async () => {
    const entries = await auditOf(threadId);
    return entries.find((entry) => entry.decision === 'allowed')?.result ? entries : undefined;
  });
  expect(audit.map((entry) => entry.decision)).toEqual(['edited', 'refused', 'allowed']);
  expect(audit[0]).toMatchObject({
    interruptId: pending.id,
    toolArgs: { amount: 80, to: 'acme', memo: 'half now' },
    originalArgs: { amount: 500, to: 'acme' },
    approver: 'alice',
    reason: 'pay half now',
    askReason: 'amount 500 exceeds 100',
    result: 'Paid 80 EUR to acme',
  });
  expect(audit[1]).toMatchObject({ approver: 'alice', refusal: { errorType: 'DecisionEditInvalid' } });
  expect(audit[2]).toMatchObject({ toolName: 'make_payment', toolArgs: { amount: 50, to: 'acme' }, reason: 'amount 50 is at most 100', result: 'Paid 50 EUR to acme' });
  const table = (await airlock(['audit', threadId, ...connection()])).stdout;
  expect(table).toMatch(/edited\s+alice\s+pay half now/);
  expect(table).toContain('model\'s arguments: {"amount":500,"to":"acme"}');
  expect(table).toMatch(/\{"amount":50,"to":"acme"\}\s+allowed\s+policy rule\s+amount 50 is at most 100\s+Paid 50 EUR to acme/);
});

test('respond: the tool never runs and the model reads the answer; --signal sends an edit durably', async () => {
  const { threadId } = await startThread('cli-respond', 'delete the file draft.md');
  const pending = await waitingIn(threadId);
  expect(pending).toMatchObject({ toolName: 'delete_file', args: { path: 'draft.md' } });

  const missing = await airlock(['respond', threadId, pending.id, ...connection()]);
  expect(missing.code).toBe(2);
  expect(missing.stderr).toContain('--message <text> is required');
  const answered = await airlock(['respond', threadId, pending.id, '--message', 'Keep it: the draft is still in review', '--as', 'carol', ...connection()]);
  expect(answered.code).toBe(0);
  expect(answered.stdout).toContain(`Applied: responded ${pending.id} on ${threadId} by carol: the tool does not run; the model reads your message as its result`);

  const shown = await eventually(async () => {
    const result = await airlock(['show', threadId, ...connection()]);
    return /Agent: Here is what happened/.test(result.stdout) ? result.stdout : undefined;
  });
  expect(shown).toContain('- delete_file: A person (carol) answered instead of running this delete_file call (it was not run): Keep it: the draft is still in review');
  expect(existsSync(sandboxFile('draft.md'))).toBe(true);
  const audit = await auditOf(threadId);
  expect(audit).toEqual([expect.objectContaining({ decision: 'responded', approver: 'carol', response: 'Keep it: the draft is still in review', toolArgs: { path: 'draft.md' } })]);
  expect(audit[0].result).toBeUndefined();
  expect((await airlock(['audit', threadId, ...connection()])).stdout).toContain('response: Keep it: the draft is still in review');

  // An edit by signal: sent at once, applied by the thread when its worker runs it.
  writeFileSync(sandboxFile('signal-a.txt'), 'a');
  writeFileSync(sandboxFile('signal-b.txt'), 'b');
  const asked = await airlock(['send', threadId, 'delete the file signal-a.txt', ...connection()]);
  const next = /^ {2}(\S+) {2}delete_file/m.exec(asked.stdout)![1];
  const sent = await airlock(['edit', threadId, next, '--args', '{"path":"signal-b.txt"}', '--as', 'dan', '--signal', ...connection()]);
  expect(sent.code).toBe(0);
  expect(sent.stdout).toContain(`Sent (signal): edit ${next} on ${threadId} as dan`);
  await eventually(async () => (existsSync(sandboxFile('signal-b.txt')) ? undefined : true));
  expect(existsSync(sandboxFile('signal-a.txt'))).toBe(true);
  const signalled = await eventually(async () => (await auditOf(threadId)).find((entry) => entry.interruptId === next && entry.result));
  expect(signalled).toMatchObject({ decision: 'edited', via: 'signal', approver: 'dan', toolArgs: { path: 'signal-b.txt' }, originalArgs: { path: 'signal-a.txt' } });
});

test("an edit into a stricter policy escalates; a decision on the call as it was before someone else's edit is refused (exit 3); approvers and forbidden grants are enforced", async () => {
  const { threadId } = await startThread('cli-stale', 'pay 500 to acme');
  const first = await waitingIn(threadId);

  const forbidden = await airlock(['approve', threadId, first.id, '--as', 'alice', '--grant', 'to=acme', ...connection()]);
  expect(forbidden.code).toBe(3);
  expect(forbidden.stderr).toContain("Not sent: the policy of 'make_payment' does not allow grants");

  // Someone else edits the call after finance looked at it: 2,000 needs finance.
  const other = await client.decide(threadId, { interruptId: first.id, action: 'edit', approver: 'bob', args: { amount: 2000, to: 'acme' }, callDigest: first.callDigest });
  expect(other.type).toBe('escalated');
  const stale = await airlock(['approve', threadId, first.id, '--as', 'finance', '--call-digest', first.callDigest!, ...connection()]);
  expect(stale.code).toBe(3);
  expect(stale.stderr).toContain('Refused (DecisionArgumentsChanged): The call changed since you looked');
  expect(paymentsOf(threadId)).toEqual([]);

  // What an approver looks at now: the edited call, who edited it, the model's arguments, a new digest.
  const seen = await waitingIn(threadId, (approval) => approval.editedBy === 'bob');
  expect(seen).toMatchObject({ args: { amount: 2000, to: 'acme' }, originalArgs: { amount: 500, to: 'acme' }, approvers: ['finance'], askReason: 'amount 2,000 exceeds 1,000: finance approves' });
  expect(seen.callDigest).not.toBe(first.callDigest);
  const block = (await airlock(['pending', '--tool', 'make_payment', ...connection()])).stdout.split('\n\n').find((text) => text.includes(threadId))!;
  expect(block).toMatch(/\nEdited by: +bob/);
  expect(block).toMatch(/\nArguments \(edited\):\n {2}\{\n {4}"amount": 2000,[\s\S]*\nModel's arguments:\n {2}\{\n {4}"amount": 500,/);

  const notFinance = await airlock(['approve', threadId, first.id, '--as', 'alice', ...connection()]);
  expect(notFinance.code).toBe(3);
  expect(notFinance.stderr).toContain("Refused (DecisionNotAllowed): That approver may not decide 'make_payment': allowed approvers are finance");

  // Without --call-digest the CLI sends the one the thread shows now: finance decides on what it is.
  const approved = await airlock(['approve', threadId, first.id, '--as', 'finance', ...connection()]);
  expect(approved.code).toBe(0);
  expect(approved.stdout).toContain(`Applied: accepted ${first.id} on ${threadId} by finance`);
  await eventually(async () => (paymentsOf(threadId).length ? true : undefined));
  expect(paymentsOf(threadId)).toEqual([expect.objectContaining({ amount: 2000, to: 'acme' })]);
  const audit = await auditOf(threadId);
  expect(audit[0]).toMatchObject({ decision: 'accepted', approver: 'finance', toolArgs: { amount: 2000, to: 'acme' }, originalArgs: { amount: 500, to: 'acme' } });
  expect(audit[0].edits?.map((edit) => edit.approver)).toEqual(['bob']);
  expect(audit.filter((entry) => entry.decision === 'refused').map((entry) => [entry.approver, entry.refusal?.errorType])).toEqual([
    ['finance', 'DecisionArgumentsChanged'],
    ['alice', 'DecisionNotAllowed'],
  ]);
  expect((await airlock(['audit', threadId, ...connection()])).stdout).toContain('edited by bob (escalated)');

  // The CLI's own edit into finance's range: it says who the call waits for now, and nothing runs.
  const { threadId: second } = await startThread('cli-escalate', 'pay 500 to acme');
  const asked = await waitingIn(second);
  const escalated = await airlock(['edit', second, asked.id, '--args', '{"amount": 5000, "to": "acme"}', '--as', 'alice', ...connection()]);
  expect(escalated.code).toBe(0);
  expect(escalated.stdout).toContain(`Escalated: your edit of ${asked.id} on ${second} was kept, but the edited call needs another approver; nothing ran.`);
  expect(escalated.stdout).toContain('It now waits for finance: amount 5,000 exceeds 1,000: finance approves.');
  expect(await waitingIn(second, (approval) => approval.editedBy === 'alice')).toMatchObject({ args: { amount: 5000, to: 'acme' }, approvers: ['finance'] });
  const declined = await airlock(['respond', second, asked.id, '--as', 'finance', '--message', 'Not this quarter', ...connection()]);
  expect(declined.code).toBe(0);
  expect(paymentsOf(second)).toEqual([]);
});

test('grants: approve --grant lets later matching deletions run without asking, grants lists it, revoke-grant makes them ask again', async () => {
  mkdirSync(sandboxFile('scratch'), { recursive: true });
  for (const name of ['scratch/a.txt', 'scratch/b.txt', 'scratch/c.txt', 'keep.txt']) writeFileSync(sandboxFile(name), name);
  const { threadId } = await startThread('cli-grant', 'delete the file scratch/a.txt');
  const pending = await waitingIn(threadId);
  expect(pending.grants).toBe(true);

  for (const [flags, message] of [
    [['--grant', 'path'], '--grant takes <argument>=<pattern>'],
    [['--grant', 'path=**'], 'a pattern must hold more than wildcards'],
    [['--grant-ttl', '1h'], '--grant-ttl goes with --grant'],
    [['--grant', 'path=a', '--grant-ttl', 'soon'], "grant.ttl must be a duration such as '30m'"],
    [['--as', 'alice', '--approver', 'bob'], '--as and --approver name the same thing'],
    [['--call-digest', 'abc'], '--call-digest takes the 64-character hex callDigest'],
  ] as const) {
    const bad = await airlock(['approve', threadId, pending.id, ...flags, ...connection()]);
    expect([bad.code, bad.stderr]).toEqual([2, expect.stringContaining(message)]);
  }
  const approved = await airlock(['approve', threadId, pending.id, '--as', 'alice', '--grant', 'path=scratch/**', '--grant-ttl', '1h', ...connection()]);
  expect(approved.code).toBe(0);
  const grantId = `g-${pending.id}`;
  expect(approved.stdout).toContain(`Granted ${grantId}: later delete_file calls in ${threadId} whose path matches scratch/** run without asking, until `);

  const covered = await airlock(['send', threadId, 'delete the file scratch/b.txt', ...connection()]);
  expect(covered.code).toBe(0);
  expect(covered.stdout).toMatch(/- delete_file: Deleted .*scratch\/b\.txt/);
  expect(existsSync(sandboxFile('scratch/b.txt'))).toBe(false);
  const outside = await airlock(['send', threadId, 'delete the file keep.txt', ...connection()]);
  expect(outside.stdout).toContain(`Thread ${threadId} waits for approval:`);
  const keep = await waitingIn(threadId, (approval) => approval.id !== pending.id);
  expect((await airlock(['reject', threadId, keep.id, '--as', 'alice', '--reason', 'keep it', ...connection()])).code).toBe(0);
  expect(existsSync(sandboxFile('keep.txt'))).toBe(true);

  const listed = await airlock(['grants', threadId, ...connection()]);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toMatch(new RegExp(`^GRANT +TOOL +MATCH +GRANTED BY +CREATED +EXPIRES +USES +STATE\\n${grantId} +delete_file +path=scratch/\\*\\* +alice +\\S+ +\\S+ +1 +active\\n$`));
  const [grant] = jsonLines<ToolGrant>((await airlock(['grants', threadId, '--json', ...connection()])).stdout);
  expect(grant).toMatchObject({ id: grantId, toolName: 'delete_file', match: { path: 'scratch/**' }, grantedBy: 'alice', uses: 1 });
  expect(Date.parse(grant.expiresAt!) - Date.parse(grant.createdAt)).toBe(3_600_000);
  // The CLI's decision named the call it was made on.
  expect(grant.decision.callDigest).toBe(pending.callDigest);

  const revoked = await airlock(['revoke-grant', threadId, grantId, '--as', 'alice', '--reason', 'scratch is clean', ...connection()]);
  expect(revoked.code).toBe(0);
  expect(revoked.stdout).toContain(`Revoked ${grantId} on ${threadId} by alice: later delete_file calls it covered are asked about again.`);
  const again = await airlock(['revoke-grant', threadId, grantId, '--as', 'alice', ...connection()]);
  expect(again.code).toBe(3);
  expect(again.stderr).toContain(`Refused (GrantNotFound): Grant '${grantId}' already was revoked`);
  expect((await airlock(['grants', threadId, ...connection()])).stdout).toMatch(/revoked by alice at \S+: scratch is clean/);

  const asksAgain = await airlock(['send', threadId, 'delete the file scratch/c.txt', ...connection()]);
  expect(asksAgain.stdout).toContain(`Thread ${threadId} waits for approval:`);
  expect(existsSync(sandboxFile('scratch/c.txt'))).toBe(true);

  const audit = await auditOf(threadId);
  expect(audit.map((entry) => entry.decision)).toEqual(['accepted', 'allowed', 'rejected', 'grant-revoked', 'pending']);
  expect(audit[0]).toMatchObject({ grantId, grant: { id: grantId, match: { path: 'scratch/**' } } });
  expect(audit[1]).toMatchObject({ grantId, toolArgs: { path: 'scratch/b.txt' } });
  expect(audit[3]).toMatchObject({ grantId, approver: 'alice', reason: 'scratch is clean' });
  const table = (await airlock(['audit', threadId, ...connection()])).stdout;
  expect(table).toContain(`granted ${grantId}: path matches scratch/** until `);
  expect(table).toMatch(new RegExp(`allowed +grant ${grantId}`));
  expect(table).toMatch(new RegExp(`grant-revoked +alice +scratch is clean .*grant ${grantId}`));
});

test('a policy that allows only approve and reject: edit and respond fail early (exit 3, nothing sent) and the interrupt still waits', async () => {
  const moduleHome = tempDir();
  const sandbox = path.join(moduleHome, 'sandbox');
  mkdirSync(sandbox);
  writeFileSync(path.join(sandbox, 'report.txt'), 'numbers');
  const moduleFile = path.join(moduleHome, 'agents.js');
  writeFileSync(
    moduleFile,
    `const { defineAgent, createDeleteFileTool } = require(${JSON.stringify(path.join(__dirname, '../../dist/src'))});
     exports.agents = [defineAgent({ name: 'strict', instructions: 'Ask first.', tools: [createDeleteFileTool(${JSON.stringify(sandbox)})],
       interrupts: { delete_file: { allowAuto: false, note: 'yes or no only', allowedDecisions: ['accept', 'reject'] } } })];`,
  );
  const moduleQueue = unique('cli-strict');
  const moduleConnection = ['--address', address(), '--task-queue', moduleQueue];
  const moduleWorker = await startBackground(['worker', '--module', moduleFile, ...moduleConnection], 'Ready.');
  const threadId = unique('cli-strict');
  try {
    const start = await airlock(['start', '--thread', threadId, '--agent', 'strict', 'delete the file report.txt', ...moduleConnection]);
    expect(start.code).toBe(0);
    // The hints offer only what the policy allows.
    expect(start.stdout).toContain(`airlock approve ${threadId} `);
    expect(start.stdout).not.toContain('airlock edit');
    const pending = await eventually(async () => {
      const result = await airlock(['pending', '--json', ...moduleConnection]);
      return jsonLines<PendingApproval>(result.stdout).find((approval) => approval.threadId === threadId);
    });
    expect(pending.allowedDecisions).toEqual(['accept', 'reject']);
    const block = (await airlock(['pending', ...moduleConnection])).stdout.split('\n\n').find((text) => text.includes(threadId))!;
    expect(block).toMatch(/\nDecisions: +approve, reject only\n/);

    const edit = await airlock(['edit', threadId, pending.id, '--args', '{"path":"other.txt"}', '--as', 'alice', ...moduleConnection]);
    expect(edit.code).toBe(3);
    expect(edit.stderr).toContain(`Not sent: the policy of 'delete_file' does not allow 'edit' decisions on ${pending.id} (allowed: approve, reject)`);
    const respond = await airlock(['respond', threadId, pending.id, '--message', 'no', '--as', 'alice', '--signal', ...moduleConnection]);
    expect(respond.code).toBe(3);
    expect(respond.stderr).toContain("does not allow 'respond' decisions");
    // Nothing was sent: no refusal on record, the call still waits and the file is there.
    expect(
      (await airlock(['audit', threadId, '--json', ...moduleConnection])).stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line).decision),
    ).toEqual(['pending']);
    expect(existsSync(path.join(sandbox, 'report.txt'))).toBe(true);

    // The thread enforces it too, for a sender that does not ask the CLI first.
    const direct = await new AirlockClient({ client: client.client, taskQueue: moduleQueue }).decide(threadId, { interruptId: pending.id, action: 'respond', approver: 'alice', message: 'no' });
    expect(direct).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed' });
    const approve = await airlock(['approve', threadId, pending.id, '--as', 'alice', ...moduleConnection]);
    expect(approve.code).toBe(0);
    await eventually(async () => (existsSync(path.join(sandbox, 'report.txt')) ? undefined : true));
  } finally {
    await endThreads(client, [threadId]);
    await moduleWorker.stop();
  }
});

test('every new command has its --help', async () => {
  for (const [command, usage] of [
    ['edit', "Usage: airlock edit <thread> <interrupt> --args '<json object>' [--as <approver>]"],
    ['respond', 'Usage: airlock respond <thread> <interrupt> --message <text> [--as <approver>]'],
    ['approve', 'Usage: airlock approve <thread> <interrupt> [--as <approver>] [--reason <text>] [--grant <argument>=<pattern>]... [--grant-ttl <duration>]'],
    ['reject', 'Usage: airlock reject <thread> <interrupt> [--as <approver>] [--reason <text>] [--call-digest <digest>]'],
    ['grants', 'Usage: airlock grants <thread> [--json]'],
    ['revoke-grant', 'Usage: airlock revoke-grant <thread> <grant> [--as <approver>] [--reason <text>]'],
  ]) {
    const help = await airlock([command, '--help']);
    expect([command, help.code]).toEqual([command, 0]);
    expect(help.stdout).toContain(usage);
    expect(help.stdout).toContain('Exit codes: 0 done, 1 failed, 2 bad usage, 3 decision refused.');
  }
  const overview = await airlock(['--help']);
  for (const command of ['edit', 'respond', 'grants', 'revoke-grant']) expect(overview.stdout).toMatch(new RegExp(`^ {2}${command} +\\S`, 'm'));
});
