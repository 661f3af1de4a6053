/**
 * Determinism: recorded histories of earlier versions must replay on today's workflow code, and
 * a thread must work when every workflow task replays its whole history (no workflow cache).
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { AirlockClient } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, quietRuntime, unique, withWorker, workflowBundle } from '../helpers';

const HISTORIES = path.join(__dirname, 'histories');

beforeAll(() => quietRuntime());

test.each(readdirSync(HISTORIES).filter((file) => file.endsWith('.json')))('recorded history %s replays without nondeterminism', async (file) => {
  const history = JSON.parse(readFileSync(path.join(HISTORIES, file), 'utf8'));
  expect(history.events.length).toBeGreaterThan(50);
  // The thread id the recording used (scripts/record-history.ts): signatures cover it.
  await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, history, `recorded-${path.basename(file, '.json')}`);
});

test('a thread works when every workflow task replays from history (maxCachedWorkflows: 0)', async () => {
  const server = await connectToDevServer();
  try {
    const taskQueue = unique('replay');
    const threadId = unique('thread');
    const fixture = recordingAgent({ delete_file: protectedPolicy(), send_email: protectedPolicy() });
    const model = new ScriptedModel([
      callTools(['delete_file', { path: 'a' }, 'c1'], ['lookup', { q: 'b' }, 'c2'], ['send_email', { to: 'x@y.co', subject: 's' }, 'c3']),
      reply('Done.'),
    ]);
    const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
    const options = { agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection, workerOptions: { maxCachedWorkflows: 0 } };
    await withWorker(options, async () => {
      const first = await airlock.handleMessage(threadId, 'go');
      const [del, email] = first.state.pendingInterrupts;
      await airlock.decide(threadId, { interruptId: del.id, action: 'accept', approver: 'alice' });
      await airlock.sendDecision(threadId, { interruptId: email.id, action: 'reject', approver: 'bob' });
      const final = await airlock.awaitResponse(threadId);
      expect(final.content).toBe('Done.');
    });
    expect(fixture.ran('delete_file')).toHaveLength(1);
    expect(fixture.ran('lookup')).toHaveLength(1);
    expect(fixture.ran('send_email')).toHaveLength(0);
    await Worker.runReplayHistory({ workflowBundle: workflowBundle() }, await airlock.handle(threadId).fetchHistory(), threadId);
  } finally {
    await server.close();
  }
});
