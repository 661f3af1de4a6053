/** A grant's time to live is a durable timer, on the time-skipping test server: half an hour passes in seconds. */
import { TestWorkflowEnvironment } from '@temporalio/testing';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { createWorker } from '../../src/worker';
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

test('a grant lets matching calls through until its time to live ends; then they ask again, and the audit dates the expiry by its deadline', async () => {
  const taskQueue = unique('grant-expiry');
  const fixture = recordingAgent({ delete_file: { allowAuto: false, note: 'irreversible' } });
  const model = new ScriptedModel([
    callTools(['delete_file', { path: 'scratch/a' }, 'c1']),
    reply('One.'),
    callTools(['delete_file', { path: 'scratch/b' }, 'c1']),
    reply('Two.'),
    callTools(['delete_file', { path: 'scratch/c' }, 'c1']),
  ]);
  const airlock = new AirlockClient({ client: env.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  const worker = await createWorker({ agents: [fixture.agent], model, taskQueue, connection: env.nativeConnection, workflowBundle: workflowBundle() });
  await worker.runUntil(async () => {
    const first = await airlock.handleMessage(threadId, 'delete scratch/a');
    const interrupt = first.state.currentInterrupt!;
    const outcome = await airlock.decide(threadId, { interruptId: interrupt.id, action: 'accept', approver: 'alice', grant: { match: { path: 'scratch/*' }, ttl: '30m' } });
    expect(outcome.type).toBe('applied');
    const grant = (outcome as Extract<typeof outcome, { type: 'applied' }>).grant!;
    expect(Date.parse(grant.expiresAt!) - Date.parse(grant.createdAt)).toBe(30 * 60_000);
    await airlock.awaitResponse(threadId);

    await env.sleep('29m');
    expect((await airlock.handleMessage(threadId, 'delete scratch/b')).state.status).toBe('idle');
    expect(fixture.ran('delete_file').map((run) => run.args)).toEqual([{ path: 'scratch/a' }, { path: 'scratch/b' }]);

    await env.sleep('2m');
    expect((await airlock.getState(threadId)).grants).toEqual([expect.objectContaining({ id: grant.id, uses: 1, ended: { type: 'expired', at: grant.expiresAt } })]);
    const third = await airlock.handleMessage(threadId, 'delete scratch/c');
    expect(third.state.status).toBe('awaiting_approval');
    expect(fixture.ran('delete_file')).toHaveLength(2);

    const audit = await airlock.auditTrail(threadId);
    expect(audit.filter((entry) => entry.decision === 'grant-expired')).toEqual([expect.objectContaining({ grantId: grant.id, timestamp: grant.expiresAt })]);
    expect(await airlock.grants(threadId)).toEqual([expect.objectContaining({ id: grant.id, uses: 1, ended: { type: 'expired', at: grant.expiresAt } })]);
    await airlock.endThread(threadId);
    await airlock.handle(threadId).result();
  });
});
