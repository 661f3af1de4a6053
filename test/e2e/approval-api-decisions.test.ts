/**
 * The approval API's richer decisions against a real dev server and worker (the example agent,
 * the offline model): edit, respond, decisions a policy does not allow, a conditional policy's
 * reason, an edit that escalates to a stricter approver, a stale call, grants and their revocation.
 * The worker requires signed decisions and trusts the service's key: every decision below reaches
 * the thread signed by the service, edits, responses and grants included.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Worker } from '@temporalio/worker';
import { AirlockClient, createSigningKey, type PendingApproval } from '../../src/client';
import { defineAgent, prepareExampleAgent } from '../../src/agents';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { argsDigest, type AuditEntry, type ThreadState, type ToolGrant } from '../../src/core';
import { createSendEmailTool } from '../../src/tools';
import { createWorker } from '../../src/worker';
import { connectToDevServer, endThreads, quietRuntime, tempDir, unique, workflowBundle } from '../helpers';
import { eventually } from './cli-process';

const ALICE = 'alice-decisions-4b7e1c09d2f3a856';
const BOB = 'bob-decisions-9c2d5e8a1f07b364';
const FINANCE = 'finance-decisions-e1a7c3b95d206f48';
const service = createSigningKey({ keyId: 'inbox-decisions', owner: 'approval-service', kind: 'service' });

let dev: Awaited<ReturnType<typeof connectToDevServer>>;
let worker: Worker;
let running: Promise<void>;
let client: AirlockClient;
let approvalService: ApprovalServer;
let baseUrl: string;
let example: ReturnType<typeof prepareExampleAgent>;
const serverLog: string[] = [];
const threads: string[] = [];

beforeAll(async () => {
  quietRuntime();
  dev = await connectToDevServer();
  example = prepareExampleAgent(tempDir());
  const taskQueue = unique('api-decisions');
  // Only accept or reject: no edits, no responses.
  const strict = defineAgent({
    name: 'strict',
    instructions: 'Send emails.',
    tools: [createSendEmailTool(example.outboxFile)],
    interrupts: { send_email: { allowAuto: false, note: 'Approve or reject only', allowedDecisions: ['accept', 'reject'] } },
  });
  worker = await createWorker({
    agents: [example.agent, strict],
    taskQueue,
    connection: dev.nativeConnection,
    workflowBundle: workflowBundle(),
    approvals: { trustedKeys: [service.trustedKey], requireSignedDecisions: true },
  });
  running = worker.run();
  client = new AirlockClient({ client: dev.client, taskQueue });
  approvalService = createApprovalServer({
    client,
    tokens: createApproverTokens({ [ALICE]: 'alice', [BOB]: 'bob', [FINANCE]: 'finance' }),
    signingKey: service.signingKey,
    log: (line) => serverLog.push(line),
  });
  baseUrl = await approvalService.listen({ port: 0 });
});

afterAll(async () => {
  if (client) await endThreads(client, threads);
  await approvalService?.close();
  worker?.shutdown();
  await running;
  await dev?.close();
});

interface Answer<T = Record<string, any>> {
  status: number;
  body: T;
}

async function api<T = Record<string, any>>(method: string, url: string, body?: unknown, token: string = ALICE): Promise<Answer<T>> {
  const response = await fetch(`${baseUrl}${url}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, ...(body !== undefined && { 'Content-Type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: response.status, body: (await response.json()) as T };
}

const decide = (body: Record<string, unknown>, token = ALICE) => api('POST', '/api/approvals', body, token);
const auditOf = async (threadId: string) => (await api<{ entries: AuditEntry[] }>('GET', `/api/threads/${encodeURIComponent(threadId)}/audit`)).body.entries;
const grantsOf = (threadId: string) => api<{ grants: ToolGrant[] }>('GET', `/api/threads/${encodeURIComponent(threadId)}/grants`);
const revoke = (threadId: string, grantId: string, body?: unknown, token = ALICE) =>
  api('POST', `/api/threads/${encodeURIComponent(threadId)}/grants/${encodeURIComponent(grantId)}/revoke`, body, token);

/** Starts a thread of `agent` with `message`; returns it with the interrupt it waits on. */
async function waiting(message: string, agent = 'assistant'): Promise<{ threadId: string; interruptId: string }> {
  const threadId = unique(`decisions-${agent}`);
  threads.push(threadId);
  const response = await client.handleMessage(threadId, message, { agent });
  const interruptId = response.state.currentInterrupt?.id;
  if (!interruptId) throw new Error(`"${message}" did not wait for an approval: ${response.content}`);
  return { threadId, interruptId };
}

/** The thread's pending approval as GET /api/approvals lists it, once visibility shows it (and `until` holds). */
const listed = (threadId: string, until: (approval: PendingApproval) => boolean = () => true) =>
  eventually(async () => {
    const { body } = await api<{ approvals: PendingApproval[] }>('GET', '/api/approvals');
    return body.approvals.find((approval) => approval.threadId === threadId && until(approval));
  });

/** The example's payments ledger lines of one thread (by the idempotency key, which starts with the thread id). */
const paymentsOf = (threadId: string): Array<{ amount: number; to: string }> =>
  existsSync(example.paymentsFile)
    ? readFileSync(example.paymentsFile, 'utf8')
        .split('\n')
        .filter((line) => line !== '')
        .map((line) => JSON.parse(line))
        .filter((entry) => entry.idempotencyKey.startsWith(`${threadId}/`))
    : [];

const sandboxFile = (name: string) => {
  const file = path.join(example.sandboxDir, name);
  writeFileSync(file, `${name}\n`);
  return file;
};

/** The thread's state once it has answered (idle). */
const settled = (threadId: string) =>
  eventually(async () => {
    const { body } = await api<{ state: ThreadState }>('GET', `/api/threads/${encodeURIComponent(threadId)}`);
    return body.state?.status === 'idle' ? body.state : undefined;
  });

test('a conditional policy: "pay 500" waits with its reason; "pay 50" runs at once, is never listed, and the audit says why', async () => {
  const big = await waiting('pay 500 to acme');
  const small = unique('decisions-small');
  threads.push(small);

  const pending = await listed(big.threadId);
  expect(pending).toMatchObject({
    toolName: 'make_payment',
    args: { amount: 500, to: 'acme' },
    askReason: 'amount 500 exceeds 100',
    policyNote: 'Payments move money',
    callDigest: expect.stringMatching(/^[0-9a-f]{64}$/),
    argsDigest: argsDigest({ amount: 500, to: 'acme' }),
  });
  // make_payment forbids grants: the summary does not offer them.
  expect(pending.grants).toBeUndefined();

  const response = await client.handleMessage(small, 'pay 50 to acme', { agent: 'assistant' });
  expect(response.state.currentInterrupt).toBeUndefined();
  expect(paymentsOf(small)).toEqual([expect.objectContaining({ amount: 50, to: 'acme' })]);
  const { body } = await api<{ approvals: PendingApproval[] }>('GET', '/api/approvals');
  expect(body.approvals.map((approval) => approval.threadId)).toContain(big.threadId);
  expect(body.approvals.map((approval) => approval.threadId)).not.toContain(small);
  const [allowed] = await eventually(async () => {
    const entries = await auditOf(small);
    return entries[0]?.result ? entries : undefined;
  });
  expect(allowed).toMatchObject({ decision: 'allowed', toolName: 'make_payment', toolArgs: { amount: 50, to: 'acme' }, reason: 'amount 50 is at most 100', result: 'Paid 50 EUR to acme' });

  // Edited by an approver who may approve the edited call: it runs with the edited arguments.
  const edited = await decide({ threadId: big.threadId, interruptId: big.interruptId, action: 'edit', args: { amount: 300, to: 'acme', memo: 'first half' }, callDigest: pending.callDigest, argsDigest: pending.argsDigest });
  expect(edited.status).toBe(200);
  expect(edited.body.outcome).toMatchObject({ type: 'applied', resolution: { type: 'edited', approver: 'alice', args: { amount: 300, to: 'acme', memo: 'first half' }, decidedOnDigest: pending.argsDigest } });
  await eventually(async () => (paymentsOf(big.threadId).length > 0 ? true : undefined));
  expect(paymentsOf(big.threadId)).toEqual([expect.objectContaining({ amount: 300, to: 'acme', memo: 'first half' })]);
  const [entry] = await eventually(async () => {
    const entries = await auditOf(big.threadId);
    return entries[0]?.result ? entries : undefined;
  });
  expect(entry).toMatchObject({
    decision: 'edited',
    approver: 'alice',
    askReason: 'amount 500 exceeds 100',
    originalArgs: { amount: 500, to: 'acme' },
    toolArgs: { amount: 300, to: 'acme', memo: 'first half' },
    signedBy: { keyId: 'inbox-decisions', kind: 'service' },
    result: 'Paid 300 EUR to acme',
  });
});

test("an edit whose arguments do not fit the tool is refused 422 with the schema's message and the call still waits; malformed edits get 400", async () => {
  const { threadId, interruptId } = await waiting('pay 600 to acme');
  const pending = await listed(threadId);
  const hostile = '<img src=x onerror=alert(1)>\u202e';

  const invalid = await decide({ threadId, interruptId, action: 'edit', args: { amount: -5, to: hostile }, callDigest: pending.callDigest });
  expect(invalid.status).toBe(422);
  expect(invalid.body.error).toMatchObject({ type: 'DecisionEditInvalid', label: 'Edit not valid', message: expect.stringContaining("The edited arguments do not fit 'make_payment'; nothing ran and the call still waits") });
  expect(invalid.body.error.message).toMatch(/amount/);
  expect(invalid.body.error.message).toMatch(/>0|positive|too small/i);
  expect(invalid.body.error.message).not.toContain(hostile);

  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ['args that are not an object', { action: 'edit', args: [600, 'acme'] }, /^Invalid decision: args: must be a JSON object of valid text/],
    ['an edit without args', { action: 'edit' }, /args go with action 'edit', and an edit needs them/],
    ['args with an accept', { action: 'accept', args: { amount: 1, to: 'acme' } }, /args go with action 'edit'/],
    ['a response without a message', { action: 'respond' }, /message goes with action 'respond'/],
    ['an empty response', { action: 'respond', message: '   ' }, /message: must be non-empty/],
    ['a grant with a reject', { action: 'reject', grant: { match: { to: 'acme' } } }, /grant goes with action 'accept'/],
    ['a grant that covers every value', { action: 'accept', grant: { match: { to: '**' } } }, /grant\.match: a pattern must hold more than wildcards/],
    ['a malformed callDigest', { action: 'accept', callDigest: hostile }, /callDigest: must be a 64-character hex/],
  ];
  for (const [what, body, message] of cases) {
    const answer = await decide({ threadId, interruptId, ...body });
    expect([what, answer.status]).toEqual([what, 400]);
    expect([what, answer.body.error.message]).toEqual([what, expect.stringMatching(message)]);
    expect(answer.body.error.message).not.toContain(hostile);
  }

  // Nothing ran, nothing changed: the same call still waits, and the refused edit is on record.
  expect(paymentsOf(threadId)).toEqual([]);
  expect((await listed(threadId)).callDigest).toBe(pending.callDigest);
  expect((await auditOf(threadId)).map((entry) => [entry.decision, entry.refusal?.errorType])).toEqual([
    ['pending', undefined],
    ['refused', 'DecisionEditInvalid'],
  ]);
  expect(serverLog.join('\n')).not.toContain(hostile);
});

test('respond: the tool never runs, the model reads the response, the audit says responded with the text', async () => {
  const file = sandboxFile('keep.txt');
  const { threadId, interruptId } = await waiting('delete the file keep.txt');
  const pending = await listed(threadId);
  const answer = await decide({ threadId, interruptId, action: 'respond', message: 'Keep it; archive it instead.', callDigest: pending.callDigest, argsDigest: pending.argsDigest });
  expect(answer.status).toBe(200);
  expect(answer.body.outcome).toMatchObject({ type: 'applied', resolution: { type: 'responded', approver: 'alice', message: 'Keep it; archive it instead.' } });

  const state = await settled(threadId);
  expect(state.messages).toContainEqual(expect.objectContaining({ role: 'tool', name: 'delete_file', content: expect.stringContaining('Keep it; archive it instead.') }));
  expect(existsSync(file)).toBe(true);
  const audit = await auditOf(threadId);
  expect(audit).toEqual([expect.objectContaining({ decision: 'responded', approver: 'alice', response: 'Keep it; archive it instead.', toolArgs: { path: 'keep.txt' } })]);
  expect(audit[0].result).toBeUndefined();
});

test('a decision the policy does not allow is refused 403 and the list says which are allowed; so is a grant the policy forbids', async () => {
  const email = await waiting('send an email to ops@example.com about the strict policy', 'strict');
  const pending = await listed(email.threadId);
  expect(pending).toMatchObject({ allowedDecisions: ['accept', 'reject'], grants: true, agent: 'strict' });
  for (const body of [
    { action: 'edit', args: { to: 'ops@example.com', subject: 'Other', body: 'x' } },
    { action: 'respond', message: 'no need' },
  ]) {
    const refused = await decide({ threadId: email.threadId, interruptId: email.interruptId, ...body });
    expect(refused.status).toBe(403);
    expect(refused.body.error).toMatchObject({ type: 'DecisionNotAllowed', message: expect.stringContaining('(allowed: accept, reject)') });
  }

  const payment = await waiting('pay 700 to acme');
  const forbidden = await decide({ threadId: payment.threadId, interruptId: payment.interruptId, action: 'accept', grant: { match: { to: 'acme' } } });
  expect(forbidden.status).toBe(403);
  expect(forbidden.body.error).toMatchObject({ type: 'GrantNotAllowed', message: "The policy of 'make_payment' does not allow grants" });
  expect(paymentsOf(payment.threadId)).toEqual([]);
  const accepted = await decide({ threadId: payment.threadId, interruptId: payment.interruptId, approved: true });
  expect(accepted.status).toBe(200);
  await eventually(async () => (paymentsOf(payment.threadId).length ? true : undefined));
  expect(paymentsOf(payment.threadId)).toEqual([expect.objectContaining({ amount: 700 })]);
  expect((await auditOf(email.threadId)).map((entry) => [entry.decision, entry.refusal?.errorType])).toEqual([
    ['pending', undefined],
    ['refused', 'DecisionNotAllowed'],
    ['refused', 'DecisionNotAllowed'],
  ]);
});

test('an edit that needs a stricter approver waits for one (202); a decision on the call as it was is refused 409 "the call changed since you looked"', async () => {
  const { threadId, interruptId } = await waiting('pay 500 to acme');
  const before = await listed(threadId);

  const escalated = await decide({ threadId, interruptId, action: 'edit', args: { amount: 5000, to: 'acme' }, callDigest: before.callDigest }, BOB);
  expect(escalated.status).toBe(202);
  expect(escalated.body.outcome).toMatchObject({ type: 'escalated', interruptId, interrupt: { toolArgs: { amount: 5000, to: 'acme' }, policy: { approvers: ['finance'] } } });
  expect(escalated.body.pending).toMatchObject({
    threadId,
    id: interruptId,
    args: { amount: 5000, to: 'acme' },
    originalArgs: { amount: 500, to: 'acme' },
    editedBy: 'bob',
    approvers: ['finance'],
    askReason: 'amount 5,000 exceeds 1,000: finance approves',
    argsDigest: argsDigest({ amount: 5000, to: 'acme' }),
  });
  const after = escalated.body.pending as PendingApproval;
  expect(after.callDigest).toMatch(/^[0-9a-f]{64}$/);
  expect(after.callDigest).not.toBe(before.callDigest);
  expect(paymentsOf(threadId)).toEqual([]);

  // Finance, deciding on what it saw before bob's edit: refused, whichever digest says so.
  // (Each differs from the others: a repeated decision is the same Update, answered once.)
  for (const stale of [{ callDigest: before.callDigest }, { argsDigest: before.argsDigest }, { callDigest: before.callDigest, argsDigest: after.argsDigest, reason: 'fine' }]) {
    const refused = await decide({ threadId, interruptId, approved: true, ...stale }, FINANCE);
    expect(refused.status).toBe(409);
    expect(refused.body.error).toMatchObject({ type: 'DecisionArgumentsChanged', label: 'Call changed', message: expect.stringMatching(/^The call changed since you looked/) });
  }
  // Alice may not approve 5,000 at all.
  const notFinance = await decide({ threadId, interruptId, approved: true, callDigest: after.callDigest }, ALICE);
  expect(notFinance.status).toBe(403);
  expect(notFinance.body.error.type).toBe('DecisionNotAllowed');

  // The list shows the call as it now waits.
  expect(await listed(threadId, (approval) => approval.callDigest === after.callDigest)).toMatchObject({
    args: { amount: 5000, to: 'acme' },
    originalArgs: { amount: 500, to: 'acme' },
    editedBy: 'bob',
    approvers: ['finance'],
    askReason: 'amount 5,000 exceeds 1,000: finance approves',
  });
  expect(paymentsOf(threadId)).toEqual([]);

  const approved = await decide({ threadId, interruptId, approved: true, callDigest: after.callDigest, argsDigest: after.argsDigest }, FINANCE);
  expect(approved.status).toBe(200);
  await eventually(async () => (paymentsOf(threadId).length ? true : undefined));
  expect(paymentsOf(threadId)).toEqual([expect.objectContaining({ amount: 5000, to: 'acme' })]);
  const audit = await eventually(async () => {
    const entries = await auditOf(threadId);
    return entries[0]?.result ? entries : undefined;
  });
  expect(audit[0]).toMatchObject({
    decision: 'accepted',
    approver: 'finance',
    toolArgs: { amount: 5000, to: 'acme' },
    originalArgs: { amount: 500, to: 'acme' },
    edits: [expect.objectContaining({ approver: 'bob', args: { amount: 5000, to: 'acme' } })],
    askReason: 'amount 5,000 exceeds 1,000: finance approves',
  });
  expect(audit.filter((entry) => entry.decision === 'refused').map((entry) => [entry.approver, entry.refusal?.errorType])).toEqual([
    ['finance', 'DecisionArgumentsChanged'],
    ['finance', 'DecisionArgumentsChanged'],
    ['finance', 'DecisionArgumentsChanged'],
    ['alice', 'DecisionNotAllowed'],
  ]);
});

test('grants over HTTP: accept and allow similar calls, list them with their uses, revoke: the next call is asked about again', async () => {
  const [first, second, third] = ['grant-1.txt', 'grant-2.txt', 'grant-3.txt'].map(sandboxFile);
  const { threadId, interruptId } = await waiting('delete the file grant-1.txt');
  const pending = await listed(threadId);
  expect(pending).toMatchObject({ grants: true, confirm: true });

  const granted = await decide({ threadId, interruptId, action: 'accept', grant: { match: { path: 'grant-*.txt' }, ttl: '1h' }, callDigest: pending.callDigest, argsDigest: pending.argsDigest });
  expect(granted.status).toBe(200);
  const grantId = `g-${interruptId}`;
  expect(granted.body.outcome).toMatchObject({ type: 'applied', resolution: { type: 'accepted', grantId }, grant: { id: grantId, match: { path: 'grant-*.txt' }, grantedBy: 'alice', expiresAt: expect.any(String) } });
  await eventually(async () => (existsSync(first) ? undefined : true));

  // The grant lets the next matching call through, without asking.
  await settled(threadId);
  const next = await client.handleMessage(threadId, 'delete the file grant-2.txt');
  expect(next.state.currentInterrupt).toBeUndefined();
  await eventually(async () => (existsSync(second) ? undefined : true));
  const listedGrants = await eventually(async () => {
    const answer = await grantsOf(threadId);
    return answer.body.grants?.[0]?.uses === 1 ? answer : undefined;
  });
  expect(listedGrants.status).toBe(200);
  expect(listedGrants.body.grants).toEqual([expect.objectContaining({ id: grantId, toolName: 'delete_file', match: { path: 'grant-*.txt' }, grantedBy: 'alice', uses: 1, signedBy: expect.objectContaining({ kind: 'service' }) })]);
  expect(listedGrants.body.grants[0].ended).toBeUndefined();

  // Revocations: the authenticated approver revokes; who revokes is not the body's to say.
  expect((await revoke(threadId, grantId, { by: 'mallory' })).body.error).toMatchObject({ type: 'RequestInvalid', message: expect.stringContaining('by is not accepted') });
  const unknown = await revoke(threadId, 'g-no-such-interrupt');
  expect(unknown.status).toBe(404);
  expect(unknown.body.error.type).toBe('GrantNotFound');
  const revoked = await revoke(threadId, grantId, { reason: 'enough for today' }, BOB);
  expect(revoked.status).toBe(200);
  expect(revoked.body.outcome).toMatchObject({ type: 'revoked', grant: { id: grantId, ended: { type: 'revoked', by: 'bob', reason: 'enough for today' } } });
  const again = await revoke(threadId, grantId);
  expect(again.status).toBe(404);
  expect(again.body.error).toMatchObject({ type: 'GrantNotFound', message: expect.stringContaining('already was revoked') });
  expect((await grantsOf(threadId)).body.grants).toEqual([expect.objectContaining({ id: grantId, uses: 1, ended: expect.objectContaining({ type: 'revoked', by: 'bob' }) })]);
  expect((await grantsOf(unique('no-such-thread'))).status).toBe(404);

  // Revoked: the next matching call waits for a person again.
  const asked = await client.handleMessage(threadId, 'delete the file grant-3.txt');
  expect(asked.state.currentInterrupt).toMatchObject({ toolName: 'delete_file', toolArgs: { path: 'grant-3.txt' } });
  expect(existsSync(third)).toBe(true);
  const audit = await auditOf(threadId);
  expect(audit.map((entry) => entry.decision)).toEqual(['accepted', 'allowed', 'grant-revoked', 'pending']);
  expect(audit[0]).toMatchObject({ grantId, grant: { id: grantId, match: { path: 'grant-*.txt' } } });
  expect(audit[1]).toMatchObject({ toolArgs: { path: 'grant-2.txt' }, grantId });
  expect(audit[2]).toMatchObject({ approver: 'bob', reason: 'enough for today', grantId });
});
