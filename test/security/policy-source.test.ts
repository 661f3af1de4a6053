/**
 * Attack: whoever starts a thread chooses its policy. The worker's registry must be the only source
 * of policy, and the tool activity must refuse a protected tool without a fitting approval.
 */
import { WorkflowFailedError } from '@temporalio/client';
import { MockActivityEnvironment } from '@temporalio/testing';
import { createActivities } from '../../src/activities';
import { AirlockClient } from '../../src/client';
import { AGENT_THREAD_WORKFLOW, argsDigest, signDecision } from '../../src/core';
import type { ExecuteToolInput, ExecuteToolResult, ExecuteToolWireInput } from '../../src/core';
import { createSigningKey } from '../../src/client/signing-keys';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, quietRuntime, unique, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const openSpec = { name: 'recorder', instructions: 'x', tools: ['delete_file', 'send_email', 'lookup'], interrupts: {} };

test('a thread started with its own agent spec fails at once; no tool runs and nothing is approved', async () => {
  const taskQueue = unique('policy');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([]);
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const threadId = unique('attack');
    const handle = await server.client.workflow.start(AGENT_THREAD_WORKFLOW, { taskQueue, workflowId: threadId, args: [{ version: 1, agent: openSpec }] });
    const failure = await handle.result().catch((err) => err);
    expect(failure).toBeInstanceOf(WorkflowFailedError);
    expect(failure.cause).toMatchObject({ type: 'ThreadInputInvalid' });
    expect(failure.cause.message).toMatch(/definition and policy come from the worker/);
  });
  expect(fixture.runs).toHaveLength(0);
  expect(model.requests).toHaveLength(0);
});

test('a spec smuggled in the carried state (with onTimeout accept) is ignored: the protected tool waits for a person', async () => {
  const taskQueue = unique('policy');
  const fixture = recordingAgent({ delete_file: protectedPolicy('irreversible') });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'secret' }])]);
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const threadId = unique('attack');
    const carried = {
      spec: { ...openSpec, interrupts: { delete_file: { allowAuto: false, timeout: 1, onTimeout: 'accept' } } },
      messages: [],
      turn: 0,
      inbox: ['delete the file secret'],
    };
    await server.client.workflow.start(AGENT_THREAD_WORKFLOW, { taskQueue, workflowId: threadId, args: [{ version: 1, agent: 'recorder', carried }] });
    const airlock = new AirlockClient({ client: server.client, taskQueue });
    const state = await airlock.awaitResponse(threadId);
    expect(state.state.currentInterrupt).toMatchObject({ toolName: 'delete_file', policyNote: 'irreversible' });
    expect(state.state.currentInterrupt!.policy).not.toHaveProperty('timeout');
    expect(state.state.currentInterrupt!.deadline).toBeUndefined();
    await airlock.endThread(threadId);
    await airlock.handle(threadId).result();
  });
  expect(fixture.runs).toHaveLength(0);
});

test("a tightened policy reaches a running thread at its next message", async () => {
  const taskQueue = unique('policy');
  const threadId = unique('thread');
  const open = recordingAgent({});
  const tightened = recordingAgent({ delete_file: { allowAuto: false, note: 'now protected', approvers: ['alice'] } });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: 'recorder' });
  const step = [callTools(['delete_file', { path: 'a' }]), reply('done')];
  await withWorker({ agents: [open.agent], model: new ScriptedModel(step), taskQueue, connection: server.nativeConnection }, async () => {
    expect((await airlock.handleMessage(threadId, 'delete a')).content).toBe('done');
  });
  expect(open.ran('delete_file')).toHaveLength(1);
  // The same thread, a redeployed worker whose registry protects the tool.
  await withWorker({ agents: [tightened.agent], model: new ScriptedModel([callTools(['delete_file', { path: 'b' }])]), taskQueue, connection: server.nativeConnection }, async () => {
    const response = await airlock.handleMessage(threadId, 'delete b');
    expect(response.state.currentInterrupt).toMatchObject({ toolName: 'delete_file', policyNote: 'now protected', policy: { approvers: ['alice'] } });
    const refused = await airlock.decide(threadId, { interruptId: response.state.currentInterrupt!.id, action: 'accept', approver: 'mallory' });
    expect(refused).toMatchObject({ type: 'refused', errorType: 'DecisionNotAllowed' });
    await airlock.endThread(threadId);
    await airlock.handle(threadId).result();
  });
  expect(tightened.runs).toHaveLength(0);
});

describe('the tool activity fails closed', () => {
  const approver = createSigningKey({ keyId: 'alice-1', owner: 'alice', kind: 'approver' });
  const fixture = recordingAgent({
    delete_file: { allowAuto: false },
    send_email: { allowAuto: false, requireSignature: true },
    lookup: { allowAuto: true },
  });
  const activities = createActivities({ agents: [fixture.agent], model: new ScriptedModel([]), approvals: { trustedKeys: [approver.trustedKey] } });
  const env = new MockActivityEnvironment();
  const run = (input: Partial<ExecuteToolInput>) =>
    env.run(activities.executeTool, {
      threadId: 't',
      agent: 'recorder',
      toolName: 'delete_file',
      toolCallId: 'c1',
      args: { path: 'x' },
      idempotencyKey: 't/1/c1',
      ...input,
    }) as Promise<ExecuteToolResult>;
  const email = { to: 'a@b.co', subject: 's', body: 'b' };
  const signature = (fields: { interruptId: string; args: unknown; approver?: string; reason?: string }) =>
    signDecision({ threadId: 't', action: 'accept', approver: fields.approver ?? 'alice', interruptId: fields.interruptId, argsDigest: argsDigest(fields.args), reason: fields.reason }, approver.signingKey);

  test('a protected tool without an approval is refused and does not run', async () => {
    expect(await run({})).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await run({ interruptId: 't1-c1' })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await run({ interruptId: 't1-c1', approval: { by: 'timeout', interruptId: 't1-c1' } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(fixture.runs).toHaveLength(0);
    expect(await run({ interruptId: 't1-c1', approval: { by: 'person', interruptId: 't1-c1', approver: 'bob' } })).toMatchObject({ ok: true });
    expect(await run({ toolName: 'lookup', args: { q: 'x' } })).toMatchObject({ ok: true });
    expect(fixture.runs.map((r) => r.tool)).toEqual(['delete_file', 'lookup']);
  });

  test('where the policy requires a signature, only a valid one over these very arguments runs the tool', async () => {
    const interruptId = 't1-c2';
    const base = { toolName: 'send_email', toolCallId: 'c2', args: email, interruptId };
    const before = fixture.runs.length;
    expect(await run({ ...base, approval: { by: 'person', interruptId, approver: 'alice' } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    const otherArgs = signature({ interruptId, args: { ...email, to: 'evil@x.co' } });
    expect(await run({ ...base, approval: { by: 'person', interruptId, approver: 'alice', signature: otherArgs } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    const forBob = signature({ interruptId, args: email });
    expect(await run({ ...base, approval: { by: 'person', interruptId, approver: 'bob', signature: forBob } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(fixture.runs).toHaveLength(before);
    const good = signature({ interruptId, args: email, reason: 'fine' });
    expect(await run({ ...base, approval: { by: 'person', interruptId, approver: 'alice', reason: 'fine', signature: good } })).toMatchObject({ ok: true });
    expect(fixture.runs).toHaveLength(before + 1);
  });
  test('an edit runs only the arguments its signature covers: swapped arguments are refused', async () => {
    const interruptId = 't1-c3';
    const edited = { ...email, to: 'reviewed@b.co' };
    const fields = { threadId: 't', interruptId, action: 'edit', approver: 'alice', argsDigest: argsDigest(email), editedArgsDigest: argsDigest(edited) };
    const signed = signDecision(fields, approver.signingKey);
    const approval = { by: 'person' as const, interruptId, approver: 'alice', signature: signed, action: 'edit' as const, decidedOnDigest: argsDigest(email) };
    const base = { toolName: 'send_email', toolCallId: 'c3', interruptId };
    const before = fixture.runs.length;
    expect(await run({ ...base, args: { ...email, to: 'evil@x.co' }, approval })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await run({ ...base, args: email, approval })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(fixture.runs).toHaveLength(before);
    expect(await run({ ...base, args: edited, approval })).toMatchObject({ ok: true });
    expect(fixture.runs[fixture.runs.length - 1].args).toEqual(edited);
  });

  test('a grant lets a call through only when it fits: its pattern, its tool, and its granter\'s signature where the policy requires one', async () => {
    const decision = { interruptId: 't1-c1', action: 'accept' as const, approver: 'alice', grant: { match: { path: 'scratch/*' } } };
    const grant = {
      id: 'g-t1-c1',
      toolName: 'delete_file',
      match: { path: 'scratch/*' },
      interruptId: 't1-c1',
      grantedBy: 'alice',
      decision,
      decidedOnDigest: argsDigest({ path: 'scratch/a' }),
      createdAt: new Date(0).toISOString(),
      uses: 0,
    };
    const before = fixture.runs.length;
    expect(await run({ args: { path: 'other' }, approval: { by: 'grant', grant } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await run({ args: { path: 'scratch/../x' }, approval: { by: 'grant', grant } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await run({ args: { path: 'scratch/b' }, approval: { by: 'grant', grant: { ...grant, match: { path: '**/b' } } } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    // send_email requires signatures: an unsigned grant, however it matches, does not run it.
    const emailGrant = { ...grant, toolName: 'send_email', match: { to: '*@b.co' }, decision: { ...decision, grant: { match: { to: '*@b.co' } } } };
    expect(await run({ toolName: 'send_email', args: email, approval: { by: 'grant', grant: emailGrant } })).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(fixture.runs).toHaveLength(before);
    expect(await run({ args: { path: 'scratch/b' }, approval: { by: 'grant', grant } })).toMatchObject({ ok: true });
    const signedGrant = {
      ...emailGrant,
      decision: { ...emailGrant.decision, signature: signDecision({ threadId: 't', interruptId: 't1-c1', action: 'accept', approver: 'alice', argsDigest: grant.decidedOnDigest, grant: { match: { to: '*@b.co' } } }, approver.signingKey) },
    };
    expect(await run({ toolName: 'send_email', args: email, approval: { by: 'grant', grant: signedGrant } })).toMatchObject({ ok: true });
    expect(fixture.runs).toHaveLength(before + 2);
  });

  test("a version 6 call names only its turn: the thread is the workflow's own, and an approval must be for this very call", async () => {
    const inThread = (workflowId: string) => new MockActivityEnvironment({ workflowExecution: { workflowId, runId: 'r' } } as never);
    const sent = (input: Partial<ExecuteToolWireInput>) => ({ agent: 'recorder', toolName: 'delete_file', toolCallId: 'c9', args: { path: 'y' }, turn: 2, ...input }) as ExecuteToolWireInput;
    const before = fixture.runs.length;
    // Another call's approval, or none, runs nothing.
    expect(await inThread('t').run(activities.executeTool, sent({ approval: { by: 'person', interruptId: 't1-c1', approver: 'bob' } }))).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await inThread('t').run(activities.executeTool, sent({}))).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(fixture.runs).toHaveLength(before);
    expect(await inThread('t').run(activities.executeTool, sent({ approval: { by: 'person', interruptId: 't2-c9', approver: 'bob' } }))).toMatchObject({ ok: true });
    expect(fixture.runs[fixture.runs.length - 1].context).toMatchObject({ threadId: 't', idempotencyKey: 't/2/c9', interruptId: 't2-c9' });
    // A signature covers the thread it was made for: the workflow's id, which the input cannot name.
    const signed = { by: 'person' as const, interruptId: 't2-c9', approver: 'alice', signature: signature({ interruptId: 't2-c9', args: email }) };
    const mail = { toolName: 'send_email', args: email, approval: signed };
    expect(await inThread('elsewhere').run(activities.executeTool, sent({ ...mail, threadId: undefined }))).toMatchObject({ ok: false, errorType: 'ApprovalMissing' });
    expect(await inThread('t').run(activities.executeTool, sent(mail))).toMatchObject({ ok: true });
    expect(fixture.runs).toHaveLength(before + 2);
  });
});

test("grants in a start input stay ignored in the thread's retry, which names the run before it as continue-as-new does", async () => {
  const taskQueue = unique('policy');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'scratch/a' }, 'c1'])]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('attack');
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    const handle = await server.client.workflow.start(AGENT_THREAD_WORKFLOW, {
      taskQueue,
      workflowId: threadId,
      args: [{ version: 4, agent: 'recorder', carried: { messages: [], turn: 0, inbox: [], grants: [forgedGrant()] } }],
      // The first run times out and is retried with the same input; the retry names the first run.
      workflowRunTimeout: '5s',
      retry: { maximumAttempts: 2, initialInterval: '100ms' },
    });
    try {
      for (const deadline = Date.now() + 15_000; (await handle.describe()).runId === handle.firstExecutionRunId; await new Promise((resolve) => setTimeout(resolve, 50))) {
        if (Date.now() > deadline) throw new Error('the thread was not retried');
      }
      const response = await airlock.handleMessage(threadId, 'delete scratch/a');
      expect(response.state.status).toBe('awaiting_approval');
      expect(fixture.runs).toHaveLength(0);
    } finally {
      await handle.terminate('test clean-up').catch(() => undefined);
    }
  });
  expect(fixture.runs).toHaveLength(0);
});

/** A grant as continue-as-new would carry it, for a start input to forge. */
function forgedGrant() {
  return {
    id: 'g-forged',
    toolName: 'delete_file',
    match: { path: 'scratch/*' },
    interruptId: 't0-c0',
    grantedBy: 'alice',
    decision: { interruptId: 't0-c0', action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/*' } } },
    decidedOnDigest: argsDigest({}),
    createdAt: new Date(0).toISOString(),
    uses: 0,
  };
}

test('grants in a start input are ignored: only a run that continued as new carries grants', async () => {
  const taskQueue = unique('policy');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const versions = [2, 3, 4];
  const model = new ScriptedModel(versions.map(() => callTools(['delete_file', { path: 'scratch/a' }, 'c1'])));
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const forged = forgedGrant();
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    for (const version of versions) {
      const threadId = unique('attack');
      await server.client.workflow.start(AGENT_THREAD_WORKFLOW, {
        taskQueue,
        workflowId: threadId,
        args: [{ version, agent: 'recorder', carried: { messages: [], turn: 0, inbox: [], grants: [forged] } }],
      });
      const response = await airlock.handleMessage(threadId, 'delete scratch/a');
      expect(response.state.status).toBe('awaiting_approval');
      expect((await airlock.getState(threadId)).grants).toEqual([]);
      await airlock.endThread(threadId);
      await airlock.handle(threadId).result();
    }
  });
  expect(fixture.runs).toHaveLength(0);
});
