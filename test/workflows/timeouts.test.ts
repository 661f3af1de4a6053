/** Durable approval timeouts, on the time-skipping test server: an hour passes in seconds. */
import type { temporal } from '@temporalio/proto';
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AirlockClient } from '../../src/client';
import type { ChatMessage, HitlPolicy } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { createWorker, type CreateWorkerOptions } from '../../src/worker';

type WorkerOptions = NonNullable<CreateWorkerOptions['workerOptions']>;
import { recordingAgent } from '../fixtures';
import { quietRuntime, unique, workflowBundle } from '../helpers';

let env: TestWorkflowEnvironment;

beforeAll(async () => {
  quietRuntime();
  env = await TestWorkflowEnvironment.createTimeSkipping({
    server: { executable: { type: 'existing-path', path: process.env.TEMPORAL_TEST_SERVER_PATH! } },
  });

});
afterAll(() => env?.teardown());

function setup(policy: HitlPolicy) {
  const taskQueue = unique('timeouts');
  const fixture = recordingAgent({ delete_file: policy });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'important.db' }]), (req) => reply(lastToolResult(req.messages))]);
  const airlock = new AirlockClient({ client: env.client, taskQueue, defaultAgent: fixture.agent.name });
  const worker = (workerOptions: WorkerOptions = {}) =>
    createWorker({ agents: [fixture.agent], model, taskQueue, connection: env.nativeConnection, workflowBundle: workflowBundle(), workerOptions });
  return { ...fixture, model, airlock, worker, threadId: unique('thread') };
}

const lastToolResult = (messages: ChatMessage[]) => messages[messages.length - 1].content;

test('a one-hour timeout rejects by default; the model is told it timed out, not that a person rejected it', async () => {
  const t = setup({ allowAuto: false, note: 'Deleting data', timeout: '1h' });
  const worker = await t.worker();
  await worker.runUntil(async () => {
    const first = await t.airlock.handleMessage(t.threadId, 'delete important.db');
    const interrupt = first.state.currentInterrupt!;
    expect(Date.parse(interrupt.deadline!) - Date.parse(interrupt.createdAt)).toBe(3_600_000);

    await env.sleep('59m');
    expect((await t.airlock.getState(t.threadId)).status).toBe('awaiting_approval');
    await env.sleep('2m');
    const final = await t.airlock.awaitResponse(t.threadId);
    expect(final.content).toMatch(/timed out/);
    expect(final.content).toMatch(/No person rejected it/);
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'timed-out', outcome: 'reject' });
    expect(t.runs).toHaveLength(0);

    const late = await t.airlock.decide(t.threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' });
    expect(late).toMatchObject({ type: 'refused', errorType: 'InterruptTimedOut' });
    expect(late.type === 'refused' && late.reason).toMatch(/timed out at .* and was resolved as 'reject'/);
    await t.airlock.sendDecision(t.threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice' });
    expect((await t.airlock.getState(t.threadId)).interrupts[0].resolution?.type).toBe('timed-out');
    expect(t.runs).toHaveLength(0);

    // The history says which: a timer fired, and both late decisions were refused, on record.
    const history = await t.airlock.handle(t.threadId).fetchHistory();
    expect(history.events!.some((e) => e.timerFiredEventAttributes)).toBe(true);
    const audit = await t.airlock.auditTrail(t.threadId);
    expect(audit.map((entry) => [entry.decision, entry.via, entry.refusal?.errorType])).toEqual([
      ['timed-out', undefined, undefined],
      ['refused', 'update', 'InterruptTimedOut'],
      ['refused', 'signal', 'InterruptTimedOut'],
    ]);
    expect(audit[0].timestamp).toBe(interrupt.deadline);
  });
  t.model.assertDone();
});

test("onTimeout: 'accept' runs the tool when the deadline passes", async () => {
  const t = setup({ allowAuto: false, timeout: '30m', onTimeout: 'accept' });
  const worker = await t.worker();
  await worker.runUntil(async () => {
    await t.airlock.handleMessage(t.threadId, 'delete important.db');
    await env.sleep('31m');
    const final = await t.airlock.awaitResponse(t.threadId);
    expect(final.content).toMatch(/delete_file done/);
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'timed-out', outcome: 'accept' });
    expect(t.ran('delete_file')).toHaveLength(1);
  });
});

test('a decision before the deadline wins and the timer changes nothing later', async () => {
  const t = setup({ allowAuto: false, timeout: '1h' });
  const worker = await t.worker();
  await worker.runUntil(async () => {
    await t.airlock.handleMessage(t.threadId, 'delete important.db');
    await env.sleep('10m');
    const final = await t.airlock.resumeWithApproval(t.threadId, 'accept', { approver: 'alice' });
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'accepted', approver: 'alice' });
    await env.sleep('2h');
    expect((await t.airlock.getState(t.threadId)).interrupts[0].resolution?.type).toBe('accepted');
    expect(t.ran('delete_file')).toHaveLength(1);
  });
});

test('the deadline passes while no worker runs: the timeout resolves it when a worker comes back', async () => {
  const t = setup({ allowAuto: false, timeout: '1h' });
  // No workflow cache, so no sticky queue: the test server does not hand a dead worker's sticky
  // tasks back to the normal queue while its clock is stopped.
  const first = await t.worker({ maxCachedWorkflows: 0 });
  await first.runUntil(() => t.airlock.handleMessage(t.threadId, 'delete important.db'));

  // No worker runs now. The test server advances its clock inside this sleep until the deadline
  // timer fires; then a workflow task waits for a worker and the clock stops until one polls.
  const skipping = env.sleep('3h');
  const events = async () => (await t.airlock.handle(t.threadId).fetchHistory()).events ?? [];
  const { history: beforeSecond, fired } = await untilDeadlineFired(events);
  // Nothing ran the thread since: no workflow task started after the timer fired.
  expect(beforeSecond.slice(fired).filter((e) => e.workflowTaskStartedEventAttributes)).toEqual([]);
  const lastEventBeforeSecond = Number(beforeSecond[beforeSecond.length - 1].eventId);

  const second = await t.worker({ identity: 'second-worker' });
  await second.runUntil(async () => {
    await skipping;
    const final = await t.airlock.awaitResponse(t.threadId);
    expect(final.state.interrupts[0].resolution).toMatchObject({ type: 'timed-out', outcome: 'reject' });
    expect(final.content).toMatch(/timed out/);
  });
  expect(t.runs).toHaveLength(0);
  // The task that saw the fired timer is the second worker's, started after it came up.
  const after = await events();
  const nextTask = after.slice(fired).find((e) => e.workflowTaskStartedEventAttributes)!;
  expect(Number(nextTask.eventId)).toBeGreaterThan(lastEventBeforeSecond);
  expect(nextTask.workflowTaskStartedEventAttributes!.identity).toBe('second-worker');
});

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** Polls the history until the approval's one-hour deadline timer has fired: the history then, and where it fired. */
async function untilDeadlineFired(events: () => Promise<HistoryEvent[]>): Promise<{ history: HistoryEvent[]; fired: number }> {
  for (let tries = 0; ; tries++) {
    const history = await events();
    const started = history.find((e) => Number(e.timerStartedEventAttributes?.startToFireTimeout?.seconds ?? 0) === 3_600);
    const fired = started ? history.findIndex((e) => e.timerFiredEventAttributes?.startedEventId?.toString() === started.eventId?.toString()) : -1;
    if (fired >= 0) return { history, fired };
    if (tries > 300) throw new Error('the approval deadline timer did not fire while no worker ran');
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
