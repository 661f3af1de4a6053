/**
 * Attack: one malformed request stops every worker. Random and hostile values (lone surrogates,
 * huge strings, deep nesting, wrong types, prototype keys) go through every door — the decision
 * signal and Update, the message Update and signal, the HTTP API, the CLI — and afterwards the
 * worker is still up, nothing was approved by them, and a normal approval still works.
 */
import http from 'node:http';
import fc from 'fast-check';
import { AirlockClient } from '../../src/client';
import { createApprovalServer, createApproverTokens, type ApprovalServer } from '../../src/server';
import { GRANT_LIMITS, LIMITS, decideUpdate, decisionSignal, revokeGrantUpdate, sendMessageUpdate, userMessageSignal } from '../../src/core';
import type { AssistantMessage, ChatMessage } from '../../src/core';
import type { ChatModel, ChatModelRequest } from '../../src/models';
import { createWorker } from '../../src/worker';
import { airlock } from '../e2e/cli-process';
import { connectToDevServer, quietRuntime, unique, workflowBundle } from '../helpers';
import { recordingAgent } from '../fixtures';

const TOKEN = 'hostile-input-token-5f1c9a7e2b8d';
let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

/** Answers every message; "delete <path>" becomes a delete_file call. */
class EchoModel implements ChatModel {
  readonly name = 'echo';
  async complete({ messages }: ChatModelRequest): Promise<AssistantMessage> {
    const last = messages[messages.length - 1] as ChatMessage;
    if (last.role === 'user' && last.content.startsWith('delete ')) {
      return { role: 'assistant', content: '', toolCalls: [{ id: 'c1', name: 'delete_file', arguments: JSON.stringify({ path: last.content.slice(7) }) }] };
    }
    return { role: 'assistant', content: 'ok' };
  }
}

/** A worker whose agent lets only alice approve deletions, on a task queue of its own, and a client for it. */
async function aliceOnly(name: string) {
  const taskQueue = unique(name);
  const fixture = recordingAgent({ delete_file: { allowAuto: false, approvers: ['alice'] } });
  const worker = await createWorker({ agents: [fixture.agent], model: new EchoModel(), taskQueue, connection: server.nativeConnection, workflowBundle: workflowBundle() });
  return { taskQueue, fixture, worker, client: new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' }) };
}

const loneSurrogate = fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code));
const nasty = fc.constantFrom('\u001b[8m', '\u001b[2J', '\r', '\b', '\u202e', '\u200b', '\u0000', '\ufeff', '__proto__', 'constructor', 'prototype', 'toString');
const hostileString = fc.oneof(
  fc.string({ unit: fc.oneof(fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }), loneSurrogate, nasty), maxLength: 40 }),
  fc.constantFrom('', ' ', 'x'.repeat(100_000), '\udfff', 'ok\ud800'),
);
const deep = fc.integer({ min: 50, max: 400 }).map((depth) => {
  let value: unknown = 'bottom';
  for (let i = 0; i < depth; i++) value = i % 2 ? [value] : { [`k${i}`]: value };
  return value;
});
const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  hostileString,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  deep,
  fc.dictionary(hostileString, hostileString, { maxKeys: 4 }),
  fc.array(hostileString, { maxLength: 4 }),
  fc.jsonValue({ maxDepth: 3 }),
);
/** Decision-shaped objects with hostile fields (never by alice, the only approver the policy allows). */
const hostileDecision = (interruptId: string) =>
  fc.record(
    {
      interruptId: fc.oneof(fc.constant(interruptId), hostileString, hostileValue),
      action: fc.oneof(fc.constantFrom('accept', 'reject', 'edit', 'respond'), hostileValue),
      approver: fc.oneof(hostileString.filter((name) => name !== 'alice'), hostileValue),
      reason: hostileValue,
      args: hostileValue,
      message: hostileValue,
      toolName: hostileValue,
      grant: fc.oneof(hostileValue, fc.record({ match: fc.dictionary(hostileString, hostileString, { maxKeys: 3 }), ttl: hostileValue }, { requiredKeys: ['match'] })),
      argsDigest: hostileValue,
      callDigest: hostileValue,
      signature: fc.oneof(hostileValue, fc.record({ keyId: hostileString, signature: hostileString })),
      ['__proto__']: hostileValue,
      extra: hostileValue,
    },
    { requiredKeys: [] },
  );

function post(base: string, body: string): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${base}/api/approvals`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) },
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (chunk: Buffer) => (text += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** JSON text with the lone surrogates written raw (JSON.stringify would escape them as \\udfff, which parses to the same). */
const rawJson = (value: unknown) => JSON.stringify(value);

test('hostile input at every door stops no worker and approves nothing; a normal approval still works', async () => {
  const { taskQueue, fixture, worker, client } = await aliceOnly('hostile');
  const victim = unique('victim');
  const chatter = unique('chatter');
  let service: ApprovalServer | undefined;
  const logs: string[] = [];
  await worker.runUntil(async () => {
    const waiting = await client.handleMessage(victim, 'delete precious.txt');
    const interruptId = waiting.state.currentInterrupt!.id;
    await client.handleMessage(chatter, 'hello');
    const victimHandle = server.client.workflow.getHandle(victim);
    const chatterHandle = server.client.workflow.getHandle(chatter);
    service = createApprovalServer({ client, tokens: createApproverTokens({ [TOKEN]: 'mallory' }), log: (line) => logs.push(line) });
    const base = await service.listen({ port: 0 });
    const swallow = (promise: Promise<unknown>) => promise.then((value) => value, () => undefined);

    // The reported attack, as written: a lone surrogate interrupt id over HTTP, and in the thread id.
    expect((await post(base, `{"threadId":${rawJson(victim)},"interruptId":"\\udfff","approved":true}`)).status).toBe(400);
    expect((await post(base, `{"threadId":"\\udfff","interruptId":${rawJson(interruptId)},"approved":true}`)).status).toBe(400);
    // The same straight into the Update and the signal.
    const direct = await swallow(victimHandle.executeUpdate(decideUpdate, { args: [{ interruptId: '\udfff', action: 'accept', approver: '\ud800' }] }));
    expect(direct).toBeUndefined(); // refused by the validator: an error, not an outcome
    await victimHandle.signal(decisionSignal, { interruptId: '\udfff', action: 'accept', approver: 'x' } as never);

    await fc.assert(
      fc.asyncProperty(hostileDecision(interruptId), async (decision) => {
        const outcome = (await swallow(victimHandle.executeUpdate(decideUpdate, { args: [decision as never] }))) as { type?: string } | undefined;
        expect(outcome?.type).not.toBe('applied');
        await swallow(victimHandle.signal(decisionSignal, decision as never));
      }),
      { numRuns: 60 },
    );
    // Edits by the allowed approver with hostile arguments: refused at the door or by the worker's check, never applied.
    for (const args of [{ ['\ud800']: 1 }, { path: 'x'.repeat(70_000) }, { path: 42 }, { path: ['a'] }, JSON.parse('{"__proto__":{"path":"x"}}'), [1, 2]]) {
      const edit = { interruptId, action: 'edit', approver: 'alice', args };
      const outcome = (await swallow(victimHandle.executeUpdate(decideUpdate, { args: [edit as never] }))) as { type?: string } | undefined;
      expect(outcome?.type).not.toBe('applied');
      await swallow(victimHandle.signal(decisionSignal, edit as never));
    }
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileValue, fc.record({ grantId: fc.oneof(hostileString, hostileValue), by: fc.oneof(hostileString, hostileValue), reason: hostileValue }, { requiredKeys: [] })), async (revocation) => {
        const outcome = (await swallow(victimHandle.executeUpdate(revokeGrantUpdate, { args: [revocation as never] }))) as { type?: string } | undefined;
        expect(outcome?.type).not.toBe('revoked');
      }),
      { numRuns: 30 },
    );
    await fc.assert(
      fc.asyncProperty(hostileValue, async (value) => {
        await swallow(chatterHandle.executeUpdate(sendMessageUpdate, { args: [value as never] }));
        await swallow(chatterHandle.signal(userMessageSignal, value as never));
      }),
      { numRuns: 40 },
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileValue, hostileDecision(interruptId).map((d) => ({ threadId: victim, ...d }))), async (body) => {
        const { status } = await post(base, typeof body === 'string' ? body : (JSON.stringify(body) ?? 'null'));
        expect(status).toBeGreaterThanOrEqual(400);
        expect(status).toBeLessThan(500);
      }),
      { numRuns: 60 },
    );
    // The CLI: control characters and escape sequences in every argument.
    await fc.assert(
      fc.asyncProperty(fc.array(fc.string({ unit: fc.oneof(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 1 }), nasty.filter((s) => !s.includes('\u0000'))), maxLength: 12 }), { minLength: 2, maxLength: 2 }), async ([thread, interrupt]) => {
        const result = await airlock(['approve', thread || 'x', interrupt || 'y', '--as', 'mallory', '--address', process.env.AIRLOCK_TEST_ADDRESS!, '--task-queue', taskQueue]);
        expect([1, 2, 3]).toContain(result.code);
        expect(result.stdout + result.stderr).not.toContain('\u001b[');
      }),
      { numRuns: 4 },
    );

    expect(worker.getState()).toBe('RUNNING');
    expect(fixture.runs).toHaveLength(0);
    const state = await client.getState(victim);
    expect(state.pendingInterrupts.map((interrupt) => interrupt.id)).toEqual([interruptId]);
    // Still answering, and a real approval goes through.
    expect((await client.handleMessage(chatter, 'still there?')).content).toBe('ok');
    expect(await client.decide(victim, { interruptId, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
    expect((await client.awaitResponse(victim)).state.status).toBe('idle');
  }).finally(() => service?.close());
  expect(fixture.ran('delete_file')).toHaveLength(1);
  // The victim's history holds every hostile signal's payload (megabytes): its audit trail still reads.
  const trail = await new AirlockClient({ client: server.client }).auditTrail(victim);
  expect(trail.filter((entry) => entry.decision === 'refused').length).toBeGreaterThan(50);
  expect(trail.find((entry) => entry.decision === 'accepted')).toMatchObject({ approver: 'alice' });
  expect(logs.join('\n')).not.toContain(TOKEN);
  expect(logs.some((line) => line.includes('decision refused'))).toBe(true);
});

test('a signal whose payload cannot be read (unknown encoding, broken JSON) is refused like any malformed input: the thread goes on', async () => {
  const { fixture, worker, client } = await aliceOnly('unreadable');
  const threadId = unique('unreadable-victim');
  await worker.runUntil(async () => {
    const interruptId = (await client.handleMessage(threadId, 'delete precious.txt')).state.currentInterrupt!.id;
    const bytes = (text: string) => new TextEncoder().encode(text);
    const unreadable = [
      { metadata: { encoding: bytes('binary/whatever') }, data: bytes('x') },
      { metadata: { encoding: bytes('json/plain') }, data: bytes('{"interruptId": ') },
      { metadata: { encoding: bytes('binary/encrypted-not') }, data: new Uint8Array([0xff, 0xfe]) },
    ];
    for (const signalName of [decisionSignal.name, userMessageSignal.name]) {
      for (const payload of unreadable) {
        await server.connection.workflowService.signalWorkflowExecution({
          namespace: 'default',
          workflowExecution: { workflowId: threadId },
          signalName,
          input: { payloads: [payload] },
          identity: 'mallory',
        });
      }
    }
    // The thread still takes decisions: had any signal failed its workflow task, this would wait forever.
    expect(await client.decide(threadId, { interruptId, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
    expect((await client.awaitResponse(threadId)).state.status).toBe('idle');
    expect(worker.getState()).toBe('RUNNING');
  });
  expect(fixture.ran('delete_file')).toHaveLength(1);
});

test("a grant's time to live of zero or over 3650 days is refused at every door, by an allowed approver too: the thread goes on", async () => {
  const { fixture, worker, client } = await aliceOnly('grant-ttl');
  const threadId = unique('grant-ttl-victim');
  let service: ApprovalServer | undefined;
  await worker.runUntil(async () => {
    const interruptId = (await client.handleMessage(threadId, 'delete precious.txt')).state.currentInterrupt!.id;
    const handle = server.client.workflow.getHandle(threadId);
    service = createApprovalServer({ client, tokens: createApproverTokens({ [TOKEN]: 'alice' }) });
    const base = await service.listen({ port: 0 });
    const ttls: Array<string | number> = ['0s', '0ms', '000d', '3651d', '99999999999d', `${'9'.repeat(400)}d`, 1e300, GRANT_LIMITS.maxTtlMs + 1];
    for (const ttl of ttls) {
      const decision = { interruptId, action: 'accept' as const, approver: 'alice', grant: { match: { path: 'precious.*' }, ttl } };
      expect([ttl, await client.decide(threadId, decision)]).toEqual([ttl, expect.objectContaining({ type: 'refused', errorType: 'DecisionInvalid' })]);
      await handle.signal(decisionSignal, decision);
      const { status, text } = await post(base, JSON.stringify({ threadId, ...decision }));
      expect([ttl, status]).toEqual([ttl, 400]);
      expect(text).not.toContain(String(ttl).slice(0, 12));
    }
    // Every signal was refused on record, and the thread still waits and answers.
    const refused = async () => (await client.auditTrail(threadId)).filter((entry) => entry.decision === 'refused' && entry.via === 'signal');
    for (let i = 0; i < 100 && (await refused()).length < ttls.length; i++) await new Promise((resolve) => setTimeout(resolve, 100));
    expect((await refused()).map((entry) => entry.refusal?.errorType)).toEqual(ttls.map(() => 'DecisionInvalid'));
    expect((await client.getState(threadId)).pendingInterrupts.map((interrupt) => interrupt.id)).toEqual([interruptId]);
    expect(fixture.runs).toHaveLength(0);
    // The longest time to live allowed is issued as asked.
    const outcome = await client.decide(threadId, { interruptId, action: 'accept', approver: 'alice', grant: { match: { path: 'precious.*' }, ttl: '3650d' } });
    expect(outcome).toMatchObject({ type: 'applied' });
    const [grant] = await client.grants(threadId);
    expect(Date.parse(grant.expiresAt!) - Date.parse(grant.createdAt)).toBe(GRANT_LIMITS.maxTtlMs);
    expect((await client.awaitResponse(threadId)).state.status).toBe('idle');
  }).finally(() => service?.close());
  expect(fixture.ran('delete_file')).toHaveLength(1);
});

test('past 100 refused decisions in a run, a refusal is answered off the record: a flood cannot use up the Updates an approval needs', async () => {
  const { fixture, worker, client } = await aliceOnly('refusal-flood');
  const threadId = unique('flooded');
  await worker.runUntil(async () => {
    const interruptId = (await client.handleMessage(threadId, 'delete precious.txt')).state.currentInterrupt!.id;
    const outcomes = [];
    for (let i = 0; i < LIMITS.refusalsOnRecord + 5; i++) outcomes.push(await client.decide(threadId, { interruptId, action: 'accept', approver: `mallory-${i}` }));
    expect(outcomes.every((outcome) => outcome.type === 'refused' && outcome.errorType === 'DecisionNotAllowed')).toBe(true);
    const offRecord = outcomes.filter((outcome) => outcome.type === 'refused' && outcome.reason.endsWith('(not on record: this run has recorded 100 refused decisions)'));
    expect(offRecord).toHaveLength(5);
    const refused = (await client.auditTrail(threadId)).filter((entry) => entry.decision === 'refused');
    expect(refused).toHaveLength(LIMITS.refusalsOnRecord);
    expect(refused.map((entry) => entry.approver)).toEqual(Array.from({ length: LIMITS.refusalsOnRecord }, (_, i) => `mallory-${i}`));
    // Revocations of a grant the thread does not have are refused too, and take no Update of the run.
    for (let i = 0; i < 20; i++) expect(await client.revokeGrant(threadId, `g-bogus-${i}`, 'mallory')).toMatchObject({ type: 'refused', errorType: 'GrantNotFound' });
    const accepted = (await server.client.workflow.getHandle(threadId).fetchHistory()).events!.filter((event) => event.workflowExecutionUpdateAcceptedEventAttributes);
    expect(accepted).toHaveLength(1 + LIMITS.refusalsOnRecord); // the message, and the refusals on record
    // Decisions that fit still go through the Update, on record.
    expect(await client.decide(threadId, { interruptId, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
    expect((await client.awaitResponse(threadId)).state.status).toBe('idle');
  });
  expect(fixture.ran('delete_file')).toHaveLength(1);
});
