/** `airlock pending` is served by visibility alone: it lists a waiting thread while no worker runs. */
import { AirlockClient, type PendingApproval } from '../../src/client';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';
import { airlock, eventually } from './cli-process';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const jsonLines = <T>(text: string): T[] => text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as T);

test('airlock pending --json, run with no worker up, lists a thread waiting for approval with its full arguments', async () => {
  const taskQueue = unique('pending-no-worker');
  const threadId = unique('thread');
  const fixture = recordingAgent({ send_email: protectedPolicy('External communication requires review') });
  // Arguments far longer than any preview, keys in no particular order.
  const body = `Dear customers,\n\n${'The outage is over and every account is restored. '.repeat(60)}\n\nRegards`;
  const args = { to: 'all-customers@example.com', subject: 'Incident report', body };
  const model = new ScriptedModel([callTools(['send_email', args]), reply('Sent.')]);
  const client = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const options = { agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection };

  try {
    const waiting = await withWorker(options, () => client.handleMessage(threadId, 'tell every customer the outage is over'));
    const interrupt = waiting.state.currentInterrupt!;
    expect(interrupt.toolName).toBe('send_email');

    // The worker has shut down: a spawned `airlock pending` still lists the thread, in full.
    const listed = await eventually(async () => {
      const result = await airlock(['pending', '--json', '--address', server.address]);
      expect(result.code).toBe(0);
      return jsonLines<PendingApproval>(result.stdout).find((approval) => approval.threadId === threadId);
    });
    expect(listed).toMatchObject({
      threadId,
      id: interrupt.id,
      toolName: 'send_email',
      agent: fixture.agent.name,
      policyNote: 'External communication requires review',
      argsDigest: interrupt.argsDigest,
    });
    expect(listed.args).toEqual(args);
    expect(listed).not.toHaveProperty('argsPreview');

    const text = await airlock(['pending', '--tool', 'send_email', '--address', server.address]);
    expect(text.code).toBe(0);
    const block = text.stdout.split('\n\n').find((part) => part.includes(`Thread:`) && part.includes(threadId));
    expect(block).toContain(JSON.stringify(body));
    expect(fixture.runs).toHaveLength(0);
  } finally {
    await withWorker(options, () => endThreads(client, [threadId]));
  }
});
