/** Two people decide the same interrupt at the same moment: one decision is applied, the other refused. */
import { AirlockClient } from '../../src/client';
import { ErrorType, type DecisionOutcome } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('an accept by alice and a reject by bob sent at once: exactly one is applied, the other refused as already decided, and the audit shows both', async () => {
  const taskQueue = unique('concurrent');
  const threadId = unique('thread');
  const fixture = recordingAgent({ delete_file: protectedPolicy('File deletion is irreversible') });
  const model = new ScriptedModel([callTools(['delete_file', { path: 'shared.txt' }]), reply('Done.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });

  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const interruptId = (await airlock.handleMessage(threadId, 'delete shared.txt')).state.currentInterrupt!.id;
      const decisions = [
        { interruptId, action: 'accept' as const, approver: 'alice', reason: 'obsolete' },
        { interruptId, action: 'reject' as const, approver: 'bob', reason: 'still needed' },
      ];
      const outcomes = await Promise.all(decisions.map((decision) => airlock.decide(threadId, decision)));

      const applied = outcomes.filter((outcome): outcome is Extract<DecisionOutcome, { type: 'applied' }> => outcome.type === 'applied');
      const refused = outcomes.filter((outcome): outcome is Extract<DecisionOutcome, { type: 'refused' }> => outcome.type === 'refused');
      expect(applied).toHaveLength(1);
      expect(refused).toHaveLength(1);
      const winner = decisions[outcomes.indexOf(applied[0])];
      const loser = decisions[outcomes.indexOf(refused[0])];
      expect(applied[0].resolution).toMatchObject({ type: winner.action === 'accept' ? 'accepted' : 'rejected', approver: winner.approver });
      expect(refused[0]).toMatchObject({ interruptId, errorType: ErrorType.InterruptAlreadyDecided });
      expect(refused[0].reason).toContain(`already ${applied[0].resolution.type} by ${winner.approver}`);

      const final = await airlock.awaitResponse(threadId);
      expect(final.content).toBe('Done.');
      // The tool ran only if the applied decision was the accept, and then once.
      expect(fixture.ran('delete_file')).toHaveLength(winner.action === 'accept' ? 1 : 0);

      const trail = await airlock.auditTrail(threadId);
      expect(trail).toEqual([
        expect.objectContaining({ interruptId, decision: applied[0].resolution.type, approver: winner.approver, reason: winner.reason }),
        expect.objectContaining({
          interruptId,
          decision: 'refused',
          approver: loser.approver,
          reason: loser.reason,
          refusal: expect.objectContaining({ errorType: ErrorType.InterruptAlreadyDecided }),
        }),
      ]);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
  model.assertDone();
});
