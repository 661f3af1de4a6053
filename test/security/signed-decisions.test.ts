/**
 * Attack: anyone with Temporal access approves as anyone. With signed decisions required, only a
 * decision signed by a trusted key over this thread, interrupt, action, approver, reason and these
 * arguments is applied; everything else is refused and on record, with the sender's identity.
 */
import { Client } from '@temporalio/client';
import { AirlockClient } from '../../src/client';
import { createSigningKey } from '../../src/client/signing-keys';
import { decideUpdate, decisionSignal, signDecision } from '../../src/core';
import type { Decision } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, quietRuntime, unique, withWorker } from '../helpers';
import { recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;
const alice = createSigningKey({ keyId: 'alice-laptop', owner: 'alice', kind: 'approver' });
const bob = createSigningKey({ keyId: 'bob-laptop', owner: 'bob', kind: 'approver' });
const service = createSigningKey({ keyId: 'inbox-1', owner: 'approval-service', kind: 'service' });
const stranger = createSigningKey({ keyId: 'alice-laptop', owner: 'alice', kind: 'approver' }); // same id, other key

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

function setup(steps: ConstructorParameters<typeof ScriptedModel>[0]) {
  const taskQueue = unique('signed');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'irreversible' }, send_email: { allowAuto: false } });
  const model = new ScriptedModel(steps);
  const options = {
    agents: [fixture.agent],
    model,
    taskQueue,
    connection: server.nativeConnection,
    approvals: { trustedKeys: [alice.trustedKey, bob.trustedKey, service.trustedKey], requireSignedDecisions: true },
  };
  const mallory = new Client({ connection: server.connection, identity: 'mallory@attacker' });
  return {
    ...fixture,
    taskQueue,
    threadId: unique('thread'),
    run: <T>(fn: () => Promise<T>) => withWorker(options, fn),
    plain: new AirlockClient({ client: mallory, taskQueue, defaultAgent: 'recorder' }),
    asAlice: new AirlockClient({ client: new Client({ connection: server.connection, identity: 'alice@laptop' }), taskQueue, signingKey: alice.signingKey }),
    mallory,
  };
}

test('unsigned, forged and replayed decisions are refused and recorded; a signed one runs the tool', async () => {
  const t = setup([callTools(['delete_file', { path: 'a' }, 'c1'], ['delete_file', { path: 'b' }, 'c2']), reply('done')]);
  await t.run(async () => {
    const first = await t.plain.handleMessage(t.threadId, 'delete a and b');
    const [a, b] = first.state.pendingInterrupts;
    expect(a.policy.requireSignature).toBe(true);

    // Unsigned, by update and by raw signal, naming alice.
    expect(await t.plain.decide(t.threadId, { interruptId: a.id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'refused', errorType: 'DecisionSignatureRequired' });
    await t.mallory.workflow.getHandle(t.threadId).signal(decisionSignal, { interruptId: a.id, action: 'accept', approver: 'alice' });
    // Bob's key signing for alice.
    const bobAsAlice = new AirlockClient({ client: t.mallory, taskQueue: t.taskQueue, signingKey: { ...bob.signingKey, owner: 'alice' } });
    expect(await bobAsAlice.decide(t.threadId, { interruptId: a.id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'refused', errorType: 'DecisionSignatureInvalid' });
    // A key the worker does not trust, under a trusted key id.
    const impostor = new AirlockClient({ client: t.mallory, taskQueue: t.taskQueue, signingKey: stranger.signingKey });
    expect(await impostor.decide(t.threadId, { interruptId: a.id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'refused', errorType: 'DecisionSignatureInvalid' });

    // Alice's real signature on b, replayed on a; and with the reason changed.
    const forB = await signedBy(t.asAlice, t.threadId, { interruptId: b.id, action: 'accept', approver: 'alice', reason: 'ok' });
    const replayed = await t.mallory.workflow.getHandle(t.threadId).executeUpdate(decideUpdate, { args: [{ ...forB, interruptId: a.id, argsDigest: a.argsDigest }] });
    expect(replayed).toMatchObject({ type: 'refused', errorType: 'DecisionSignatureInvalid' });
    const altered = await t.mallory.workflow.getHandle(t.threadId).executeUpdate(decideUpdate, { args: [{ ...forB, reason: 'changed' }] });
    expect(altered).toMatchObject({ type: 'refused', errorType: 'DecisionSignatureInvalid' });
    expect(t.runs).toHaveLength(0);

    // The real thing: alice signs a, then b goes through with her signature as made.
    const applied = await t.asAlice.decide(t.threadId, { interruptId: a.id, action: 'accept', approver: 'alice' });
    expect(applied).toMatchObject({ type: 'applied', resolution: { type: 'accepted', approver: 'alice', signedBy: { keyId: 'alice-laptop', kind: 'approver', owner: 'alice' } } });
    await t.mallory.workflow.getHandle(t.threadId).signal(decisionSignal, forB);
    expect((await t.plain.awaitResponse(t.threadId)).content).toBe('done');
  });
  expect(t.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'a' }, { path: 'b' }]);

  const audit = await t.plain.auditTrail(t.threadId);
  const refusals = audit.filter((entry) => entry.decision === 'refused');
  expect(refusals.map((entry) => [entry.refusal!.errorType, entry.via, entry.sender])).toEqual([
    ['DecisionSignatureRequired', 'update', 'mallory@attacker'],
    ['DecisionSignatureRequired', 'signal', 'mallory@attacker'],
    ['DecisionSignatureInvalid', 'update', 'mallory@attacker'],
    ['DecisionSignatureInvalid', 'update', 'mallory@attacker'],
    ['DecisionSignatureInvalid', 'update', 'mallory@attacker'],
    ['DecisionSignatureInvalid', 'update', 'mallory@attacker'],
  ]);
  const decided = audit.filter((entry) => entry.decision === 'accepted');
  expect(decided.map((entry) => [entry.interruptId, entry.approver, entry.via, entry.sender, entry.signedBy?.keyId])).toEqual([
    [expect.stringContaining('c1'), 'alice', 'update', 'alice@laptop', 'alice-laptop'],
    [expect.stringContaining('c2'), 'alice', 'signal', 'mallory@attacker', 'alice-laptop'],
  ]);
  expect(decided.every((entry) => entry.result?.startsWith('delete_file done'))).toBe(true);
});

test('a decision bound to other arguments is refused, and a service key signs for the approver it names', async () => {
  const t = setup([callTools(['send_email', { to: 'ops@example.com', subject: 'hi', body: 'x' }]), reply('sent')]);
  await t.run(async () => {
    const first = await t.plain.handleMessage(t.threadId, 'mail ops');
    const interrupt = first.state.currentInterrupt!;
    const viaService = new AirlockClient({ client: t.mallory, taskQueue: t.taskQueue, signingKey: service.signingKey });
    const stale = await viaService.decide(t.threadId, { interruptId: interrupt.id, action: 'accept', approver: 'carol', argsDigest: '0'.repeat(64) });
    expect(stale).toMatchObject({ type: 'refused', errorType: 'DecisionArgumentsChanged' });
    const outcome = await viaService.decide(t.threadId, { interruptId: interrupt.id, action: 'accept', approver: 'carol', argsDigest: interrupt.argsDigest });
    expect(outcome).toMatchObject({ type: 'applied', resolution: { approver: 'carol', signedBy: { keyId: 'inbox-1', kind: 'service' } } });
    expect((await t.plain.awaitResponse(t.threadId)).content).toBe('sent');
  });
  expect(t.ran('send_email')).toHaveLength(1);
});

async function signedBy(client: AirlockClient, threadId: string, decision: Decision): Promise<Decision> {
  // The same signature a client with alice's key sends, made here so the test can replay and alter it.
  const digest = await client.interruptArgsDigest(threadId, decision.interruptId);
  return { ...decision, argsDigest: digest, signature: signDecision({ ...decision, threadId, argsDigest: digest, action: String(decision.action) }, alice.signingKey) };
}
