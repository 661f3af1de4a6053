/**
 * Richer decisions against a real dev server, with the example agent's real tools (their ledgers
 * show what ran) and the offline model: edit, respond, allowed decisions, conditional policies,
 * decisions bound to the call they were made on, scoped grants, and a message while approvals wait.
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Client } from '@temporalio/client';
import { AirlockClient } from '../../src/client';
import { createSigningKey } from '../../src/client/signing-keys';
import { defineAgent, prepareExampleAgent } from '../../src/agents';
import type { AgentDefinition } from '../../src/agents';
import type { AgentResponse, ChatMessage, HitlInterrupt } from '../../src/core';
import { OfflineModel } from '../../src/models';
import { editedText, rejectedByMessageText, respondedText } from '../../src/workflows/model-text';
import { connectToDevServer, endThreads, quietRuntime, tempDir, unique, until, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const ledger = (file: string): Array<Record<string, unknown>> =>
  existsSync(file)
    ? readFileSync(file, 'utf8')
        .split('\n')
        .filter((line) => line.trim() !== '')
        .map((line) => JSON.parse(line) as Record<string, unknown>)
    : [];

const toolMessages = (messages: ChatMessage[]) => messages.filter((m): m is Extract<ChatMessage, { role: 'tool' }> => m.role === 'tool');

/** The example agent (optionally changed) on its own task queue, with a client and the files its tools act on. */
function setup(change: (definition: AgentDefinition) => AgentDefinition = (definition) => definition, approvals?: Parameters<typeof withWorker>[0]['approvals']) {
  const home = tempDir('airlock-decisions-');
  const example = prepareExampleAgent(home);
  mkdirSync(path.join(example.sandboxDir, 'scratch'), { recursive: true });
  for (const name of ['a.txt', 'b.txt', 'c.txt', 'd.txt']) writeFileSync(path.join(example.sandboxDir, 'scratch', name), name);
  const agent = defineAgent(change({ ...example.agent }));
  const taskQueue = unique('decisions');
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: agent.name });
  const threads = new Set<string>();
  const thread = () => {
    const id = unique('thread');
    threads.add(id);
    return id;
  };
  const run = <T>(fn: () => Promise<T>) =>
    withWorker({ agents: [agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection, ...(approvals && { approvals }) }, async () => {
      try {
        return await fn();
      } finally {
        await endThreads(airlock, threads);
      }
    });
  const exists = (name: string) => existsSync(path.join(example.sandboxDir, name));
  return { ...example, agent, airlock, taskQueue, thread, run, exists, payments: () => ledger(example.paymentsFile) };
}

const waiting = (response: AgentResponse): HitlInterrupt => {
  expect(response.state.status).toBe('awaiting_approval');
  return response.state.currentInterrupt!;
};

test('an edit with invalid arguments is refused with the schema message and nothing runs; a valid one runs exactly the edited call and the model is told how it changed', async () => {
  const t = setup();
  await t.run(async () => {
    const threadId = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(threadId, 'pay 500 to acme'));
    expect(interrupt.askReason).toBe('amount 500 exceeds 100');

    const invalid = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', args: { amount: 'lots', to: 'acme' } });
    expect(invalid).toMatchObject({ type: 'refused', errorType: 'DecisionEditInvalid' });
    expect((invalid as { reason: string }).reason).toMatch(/amount/);
    expect((invalid as { reason: string }).reason).not.toMatch(/lots/);
    const otherTool = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', toolName: 'delete_file', args: { path: 'notes.txt' } });
    expect(otherTool).toMatchObject({ type: 'refused', errorType: 'DecisionEditInvalid' });
    const still = await t.airlock.getState(threadId);
    expect(still.status).toBe('awaiting_approval');
    expect(still.currentInterrupt).toMatchObject({ id: interrupt.id, toolArgs: { amount: 500, to: 'acme' } });
    expect(t.payments()).toHaveLength(0);

    const edited = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', args: { amount: 80, to: 'acme', memo: 'trimmed' }, callDigest: interrupt.callDigest });
    expect(edited).toMatchObject({ type: 'applied', resolution: { type: 'edited', approver: 'alice', args: { amount: 80, to: 'acme', memo: 'trimmed' } } });
    const final = await t.airlock.awaitResponse(threadId);
    expect(final.state.status).toBe('idle');
    expect(t.payments()).toEqual([expect.objectContaining({ amount: 80, to: 'acme', memo: 'trimmed' })]);
    const [toolMessage] = toolMessages(final.state.messages);
    expect(toolMessage.content).toBe(editedText('alice', { amount: 500, to: 'acme' }, { amount: 80, to: 'acme', memo: 'trimmed' }, 'Paid 80 EUR to acme'));
    expect(toolMessage.content).toMatch(/amount: 500 → 80/);

    const audit = await t.airlock.auditTrail(threadId);
    const entry = audit.find((candidate) => candidate.interruptId === interrupt.id && candidate.decision === 'edited')!;
    expect(entry).toMatchObject({ approver: 'alice', originalArgs: { amount: 500, to: 'acme' }, toolArgs: { amount: 80, to: 'acme', memo: 'trimmed' }, result: 'Paid 80 EUR to acme' });
    expect(audit.filter((candidate) => candidate.decision === 'refused').map((candidate) => candidate.refusal?.errorType)).toEqual(['DecisionEditInvalid', 'DecisionEditInvalid']);
  });
});

test('an edit that moves a payment over the threshold waits for finance; a decision on the old call is refused; finance approves exactly the edited call', async () => {
  const t = setup();
  await t.run(async () => {
    const threadId = t.thread();
    const seen = waiting(await t.airlock.handleMessage(threadId, 'pay 500 to acme'));

    const escalated = await t.airlock.decide(threadId, { interruptId: seen.id, action: 'edit', approver: 'alice', args: { amount: 5000, to: 'acme' }, callDigest: seen.callDigest });
    expect(escalated.type).toBe('escalated');
    const now = (escalated as Extract<typeof escalated, { type: 'escalated' }>).interrupt;
    expect(now).toMatchObject({ toolArgs: { amount: 5000, to: 'acme' }, originalArgs: { amount: 500, to: 'acme' }, askReason: 'amount 5,000 exceeds 1,000: finance approves' });
    expect(now.policy.approvers).toEqual(['finance']);
    expect(now.callDigest).not.toBe(seen.callDigest);
    expect(t.payments()).toHaveLength(0);

    // Alice may not approve what she escalated; finance on the old view is refused: the call changed.
    expect(await t.airlock.decide(threadId, { interruptId: seen.id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed' });
    // Made on the view from before the edit, her decision is stale before it is anything else.
    expect(await t.airlock.decide(threadId, { interruptId: seen.id, action: 'accept', approver: 'alice', callDigest: seen.callDigest })).toMatchObject({ type: 'refused', errorType: 'DecisionArgumentsChanged' });
    const stale = await t.airlock.decide(threadId, { interruptId: seen.id, action: 'accept', approver: 'finance', callDigest: seen.callDigest });
    expect(stale).toMatchObject({ type: 'refused', errorType: 'DecisionArgumentsChanged' });
    expect((stale as { reason: string }).reason).toMatch(/the call changed since you looked/i);
    const staleArgs = await t.airlock.decide(threadId, { interruptId: seen.id, action: 'accept', approver: 'finance', argsDigest: seen.argsDigest });
    expect(staleArgs).toMatchObject({ type: 'refused', errorType: 'DecisionArgumentsChanged' });

    // The inbox's view (visibility) shows the escalated call.
    const shown = await until(async () => (await t.airlock.pendingApprovals()).find((p) => p.threadId === threadId), (p) => p?.editedBy !== undefined);
    expect(shown).toMatchObject({
      args: { amount: 5000, to: 'acme' },
      originalArgs: { amount: 500, to: 'acme' },
      editedBy: 'alice',
      askReason: 'amount 5,000 exceeds 1,000: finance approves',
      approvers: ['finance'],
      callDigest: now.callDigest,
    });

    expect(await t.airlock.decide(threadId, { interruptId: seen.id, action: 'accept', approver: 'finance', callDigest: now.callDigest })).toMatchObject({ type: 'applied' });
    const final = await t.airlock.awaitResponse(threadId);
    expect(final.state.status).toBe('idle');
    expect(t.payments()).toEqual([expect.objectContaining({ amount: 5000, to: 'acme' })]);
    expect(toolMessages(final.state.messages)[0].content).toBe(editedText('alice', { amount: 500, to: 'acme' }, { amount: 5000, to: 'acme' }, 'Paid 5000 EUR to acme'));
    const entry = (await t.airlock.auditTrail(threadId)).find((candidate) => candidate.interruptId === seen.id && candidate.decision === 'accepted')!;
    expect(entry).toMatchObject({ approver: 'finance', toolArgs: { amount: 5000, to: 'acme' }, originalArgs: { amount: 500, to: 'acme' }, edits: [expect.objectContaining({ approver: 'alice' })] });
  });
});

test('respond answers in the tool’s place: the model reads the text as the result and the tool never runs', async () => {
  const t = setup();
  await t.run(async () => {
    const threadId = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(threadId, 'delete the file notes.txt'));
    const outcome = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'respond', approver: 'bob', message: 'Archive it to /tmp/archive instead' });
    expect(outcome).toMatchObject({ type: 'applied', resolution: { type: 'responded', approver: 'bob', message: 'Archive it to /tmp/archive instead' } });
    const final = await t.airlock.awaitResponse(threadId);
    expect(t.exists('notes.txt')).toBe(true);
    expect(ledger(t.deletionsFile)).toHaveLength(0);
    expect(toolMessages(final.state.messages)[0].content).toBe(respondedText('delete_file', 'bob', 'Archive it to /tmp/archive instead'));
    expect(final.content).toMatch(/Archive it to \/tmp\/archive instead/);
    expect((await t.airlock.auditTrail(threadId)).find((entry) => entry.interruptId === interrupt.id)).toMatchObject({
      decision: 'responded',
      approver: 'bob',
      response: 'Archive it to /tmp/archive instead',
    });
  });
});

test('a decision the policy does not allow is refused with the allowed ones named', async () => {
  const t = setup((definition) => ({
    ...definition,
    interrupts: { ...definition.interrupts, make_payment: { ...definition.interrupts.make_payment, allowedDecisions: ['accept', 'reject'] } },
  }));
  await t.run(async () => {
    const threadId = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(threadId, 'pay 500 to acme'));
    const edit = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', args: { amount: 1, to: 'acme' } });
    expect(edit).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed' });
    expect((edit as { reason: string }).reason).toBe("The policy of 'make_payment' does not allow 'edit' decisions (allowed: accept, reject)");
    expect(await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'respond', approver: 'alice', message: 'no' })).toMatchObject({ errorType: 'DecisionNotAllowed' });
    expect(await until(async () => (await t.airlock.pendingApprovals()).find((p) => p.threadId === threadId)?.allowedDecisions, Boolean)).toEqual(['accept', 'reject']);
    expect(t.payments()).toHaveLength(0);
    expect(await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'reject', approver: 'alice' })).toMatchObject({ type: 'applied' });
  });
});

test('a conditional policy lets a small payment through (the audit says which rule) and stops a large one with its reason', async () => {
  const t = setup();
  await t.run(async () => {
    const small = t.thread();
    const answered = await t.airlock.handleMessage(small, 'pay 50 to acme');
    expect(answered.state.status).toBe('idle');
    expect(answered.state.interrupts).toHaveLength(0);
    expect(t.payments()).toEqual([expect.objectContaining({ amount: 50 })]);
    expect((await t.airlock.auditTrail(small)).filter((entry) => entry.decision === 'allowed')).toEqual([
      expect.objectContaining({ toolName: 'make_payment', toolArgs: { amount: 50, to: 'acme' }, reason: 'amount 50 is at most 100', result: 'Paid 50 EUR to acme' }),
    ]);

    const large = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(large, 'pay 2500 to acme'));
    expect(interrupt).toMatchObject({ askReason: 'amount 2,500 exceeds 1,000: finance approves' });
    expect(interrupt.policy.approvers).toEqual(['finance']);
    expect(await until(async () => (await t.airlock.pendingApprovals()).find((p) => p.threadId === large)?.askReason, Boolean)).toBe('amount 2,500 exceeds 1,000: finance approves');
    expect(await t.airlock.decide(large, { interruptId: interrupt.id, action: 'accept', approver: 'alice' })).toMatchObject({ errorType: 'DecisionNotAllowed' });
    expect(t.payments()).toHaveLength(1);
  });
});

test('grants: a matching call runs without asking (the audit names the grant), one that does not match asks, a revoked grant lets nothing through', async () => {
  const t = setup();
  await t.run(async () => {
    const threadId = t.thread();
    const first = waiting(await t.airlock.handleMessage(threadId, 'delete the file scratch/a.txt'));
    const granted = await t.airlock.decide(threadId, { interruptId: first.id, action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/**' } } });
    expect(granted).toMatchObject({ type: 'applied', grant: { id: `g-${first.id}`, toolName: 'delete_file', match: { path: 'scratch/**' }, grantedBy: 'alice' } });
    expect((await t.airlock.awaitResponse(threadId)).state.status).toBe('idle');
    expect(t.exists('scratch/a.txt')).toBe(false);

    const second = await t.airlock.handleMessage(threadId, 'delete the file scratch/b.txt');
    expect(second.state.status).toBe('idle');
    expect(t.exists('scratch/b.txt')).toBe(false);

    // Outside the pattern, and a path that climbs out of it: both ask.
    for (const file of ['notes.txt', 'scratch/../draft.md']) {
      const asked = waiting(await t.airlock.handleMessage(threadId, `delete the file ${file}`));
      expect(await t.airlock.decide(threadId, { interruptId: asked.id, action: 'reject', approver: 'alice' })).toMatchObject({ type: 'applied' });
      await t.airlock.awaitResponse(threadId);
    }
    expect(t.exists('notes.txt') && t.exists('draft.md')).toBe(true);

    const grants = await t.airlock.grants(threadId);
    expect(grants).toEqual([expect.objectContaining({ id: `g-${first.id}`, uses: 1 })]);
    expect(await t.airlock.revokeGrant(threadId, `g-${first.id}`, 'bob', 'enough')).toMatchObject({ type: 'revoked', grant: { ended: { type: 'revoked', by: 'bob', reason: 'enough' } } });
    expect(await t.airlock.revokeGrant(threadId, `g-${first.id}`, 'bob')).toMatchObject({ type: 'refused', errorType: 'GrantNotFound' });
    const after = waiting(await t.airlock.handleMessage(threadId, 'delete the file scratch/c.txt'));
    expect(t.exists('scratch/c.txt')).toBe(true);
    expect(await t.airlock.decide(threadId, { interruptId: after.id, action: 'reject', approver: 'alice' })).toMatchObject({ type: 'applied' });

    const audit = await t.airlock.auditTrail(threadId);
    expect(audit.find((entry) => entry.interruptId === first.id && entry.decision === 'accepted')).toMatchObject({ grantId: `g-${first.id}`, grant: { match: { path: 'scratch/**' } } });
    expect(audit.filter((entry) => entry.decision === 'allowed')).toEqual([
      expect.objectContaining({ toolArgs: { path: 'scratch/b.txt' }, grantId: `g-${first.id}`, result: expect.stringMatching(/deleted/i) }),
    ]);
    expect(audit.filter((entry) => entry.decision === 'grant-revoked')).toEqual([expect.objectContaining({ grantId: `g-${first.id}`, approver: 'bob', reason: 'enough' })]);
  });
});

test('a policy that forbids grants refuses one, and a grant never covers a call its policy puts out of the granter’s reach', async () => {
  const t = setup();
  await t.run(async () => {
    const threadId = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(threadId, 'pay 500 to acme'));
    const refused = await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice', grant: { match: { to: 'acme' } } });
    expect(refused).toMatchObject({ type: 'refused', errorType: 'GrantNotAllowed' });
    expect(t.payments()).toHaveLength(0);
    expect(await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'reject', approver: 'alice' })).toMatchObject({ type: 'applied' });
  });

  // Grants allowed, but payments over 1,000 are finance's: alice's grant does not reach them.
  const g = setup((definition) => ({ ...definition, name: 'grants-ok', interrupts: { ...definition.interrupts, make_payment: { ...definition.interrupts.make_payment, grants: { maxTtl: '1h' } } } }));
  await g.run(async () => {
    const threadId = g.thread();
    const interrupt = waiting(await g.airlock.handleMessage(threadId, 'pay 500 to acme'));
    expect(await g.airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice', grant: { match: { to: 'acme' }, ttl: '2h' } })).toMatchObject({ errorType: 'GrantNotAllowed' });
    expect(await g.airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice', grant: { match: { to: 'acme' } } })).toMatchObject({
      type: 'applied',
      grant: { expiresAt: expect.any(String) },
    });
    await g.airlock.awaitResponse(threadId);
    expect((await g.airlock.handleMessage(threadId, 'pay 700 to acme')).state.status).toBe('idle');
    const big = waiting(await g.airlock.handleMessage(threadId, 'pay 5000 to acme'));
    expect(big.policy.approvers).toEqual(['finance']);
    expect(g.payments().map((payment) => payment.amount)).toEqual([500, 700]);
    expect(await g.airlock.decide(threadId, { interruptId: big.id, action: 'reject', approver: 'finance' })).toMatchObject({ type: 'applied' });
  });
});

test('signed decisions: a signed edit and a signed grant run, and the tool activity checks both signatures', async () => {
  const alice = createSigningKey({ keyId: 'alice-key', owner: 'alice', kind: 'approver' });
  const t = setup((definition) => definition, { trustedKeys: [alice.trustedKey], requireSignedDecisions: true });
  const asAlice = new AirlockClient({ client: new Client({ connection: server.connection }), taskQueue: t.taskQueue, defaultAgent: t.agent.name, signingKey: alice.signingKey });
  await t.run(async () => {
    const threadId = t.thread();
    const interrupt = waiting(await t.airlock.handleMessage(threadId, 'pay 500 to acme'));
    expect(await t.airlock.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', args: { amount: 300, to: 'acme' } })).toMatchObject({
      errorType: 'DecisionSignatureRequired',
    });
    expect(await asAlice.decide(threadId, { interruptId: interrupt.id, action: 'edit', approver: 'alice', args: { amount: 300, to: 'acme' } })).toMatchObject({
      type: 'applied',
      resolution: { type: 'edited', signedBy: { keyId: 'alice-key' } },
    });
    await t.airlock.awaitResponse(threadId);
    expect(t.payments()).toEqual([expect.objectContaining({ amount: 300 })]);

    const del = waiting(await t.airlock.handleMessage(threadId, 'delete the file scratch/a.txt'));
    expect(await asAlice.decide(threadId, { interruptId: del.id, action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/*' } } })).toMatchObject({ type: 'applied' });
    await t.airlock.awaitResponse(threadId);
    expect((await t.airlock.handleMessage(threadId, 'delete the file scratch/d.txt')).state.status).toBe('idle');
    expect(t.exists('scratch/a.txt') || t.exists('scratch/d.txt')).toBe(false);
    expect(ledger(t.deletionsFile)).toHaveLength(2);
  });
});

test('a new message while approvals wait: queued by default; with reject-pending it rejects what waits and is answered next', async () => {
  const queued = setup();
  await queued.run(async () => {
    const threadId = queued.thread();
    const interrupt = waiting(await queued.airlock.handleMessage(threadId, 'delete the file notes.txt'));
    await queued.airlock.sendMessage(threadId, 'pay 50 to acme');
    const state = await queued.airlock.getState(threadId);
    expect(state.status).toBe('awaiting_approval');
    expect(queued.payments()).toHaveLength(0);
    await queued.airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' });
    expect(await until(() => queued.payments().length, (n) => n > 0)).toBe(1);
    expect(queued.exists('notes.txt')).toBe(false);
  });

  const impatient = setup((definition) => ({ ...definition, name: 'impatient', onMessageWhileWaiting: 'reject-pending' }));
  await impatient.run(async () => {
    const threadId = impatient.thread();
    const interrupt = waiting(await impatient.airlock.handleMessage(threadId, 'delete the file notes.txt'));
    const answer = await impatient.airlock.handleMessage(threadId, 'pay 50 to acme');
    expect(answer.state.status).toBe('idle');
    expect(answer.content).toMatch(/Paid 50 EUR to acme/);
    expect(impatient.exists('notes.txt')).toBe(true);
    expect(impatient.payments()).toHaveLength(1);
    // The response carries this exchange; the whole thread is in its state.
    expect(answer.state.messages[0]).toEqual({ role: 'user', content: 'pay 50 to acme' });
    const whole = await impatient.airlock.getState(threadId);
    const resolved = whole.interrupts.find((candidate) => candidate.id === interrupt.id)!;
    expect(resolved.resolution).toMatchObject({ type: 'rejected', approver: 'user', via: 'message', reason: 'pay 50 to acme' });
    // The model read the rejection as the call's result, then the user's message.
    const messages = whole.messages;
    const at = messages.findIndex((message) => message.role === 'tool' && message.content === rejectedByMessageText('delete_file'));
    expect(at).toBeGreaterThan(0);
    expect(messages[at + 1]).toEqual({ role: 'user', content: 'pay 50 to acme' });
    expect((await impatient.airlock.auditTrail(threadId)).find((entry) => entry.interruptId === interrupt.id)).toMatchObject({ decision: 'rejected', approver: 'user', via: 'message' });
  });
});
