/**
 * The cluster's history service dies (SIGKILL) while threads wait for approval, and comes back:
 * no waiting approval is lost, the inbox (visibility in PostgreSQL) still lists them while history
 * is down, and once it is back every decision applies and each approved tool runs exactly once.
 * Runs only in `npm run test:cluster` (it needs the cluster's processes).
 */
import { AirlockClient } from '../../src/client';
import { crashAndRestartService } from '../../src/devtools/cluster';
import { OfflineModel } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, endThreads, quietRuntime, unique, until, withWorker } from '../helpers';

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('history killed while six threads wait: all come back, five approved tools run once each, the rejected one never', async () => {
  const taskQueue = unique('history-crash');
  const fixture = recordingAgent({ delete_file: protectedPolicy('File deletion is irreversible') });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threads = Array.from({ length: 6 }, (_, i) => ({ threadId: unique(`crash-${i}`), file: `report-${i}.csv` }));
  const rejected = threads[5];
  const options = { agents: [fixture.agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection };

  await withWorker(options, async () => {
    const waiting = await Promise.all(threads.map(({ threadId, file }) => airlock.handleMessage(threadId, `delete the file ${file}`)));
    const interrupts = waiting.map((response) => response.state.currentInterrupt!);
    expect(interrupts.map((interrupt) => interrupt.toolArgs)).toEqual(threads.map(({ file }) => ({ path: file })));

    const ours = async () => (await airlock.pendingApprovals()).filter((pending) => threads.some((t) => t.threadId === pending.threadId));
    expect(await until(ours, (pending) => pending.length === threads.length)).toHaveLength(threads.length);

    await crashAndRestartService('history', {
      dir: process.env.AIRLOCK_TEST_CLUSTER_DIR,
      // While history is down, the inbox still reads visibility (PostgreSQL, through the frontend).
      whileDown: async () => expect(await ours()).toHaveLength(threads.length),
    });
    expect(fixture.runs).toHaveLength(0);

    const outcomes = await Promise.all(
      threads.map(({ threadId }, i) =>
        airlock.decide(threadId, {
          interruptId: interrupts[i].id,
          action: threadId === rejected.threadId ? 'reject' : 'accept',
          approver: 'alice',
          reason: 'after the crash',
        }),
      ),
    );
    expect(outcomes.map((outcome) => outcome.type)).toEqual(threads.map(() => 'applied'));

    const finals = await Promise.all(threads.map(({ threadId }) => airlock.awaitResponse(threadId)));
    for (const [i, final] of finals.entries()) {
      expect(final.state.status).toBe('idle');
      const resolution = threads[i] === rejected ? 'rejected' : 'accepted';
      expect(final.state.interrupts[0].resolution).toMatchObject({ type: resolution, approver: 'alice', reason: 'after the crash' });
    }
    await endThreads(airlock, threads.map(({ threadId }) => threadId));
  });

  // Each approved call ran exactly once, with the arguments the approver saw; the rejected one never.
  const ran = fixture.ran('delete_file').map((run) => (run.args as { path: string }).path);
  expect(ran.sort()).toEqual(threads.filter((t) => t !== rejected).map(({ file }) => file).sort());
  for (const { threadId } of threads) {
    const events = (await airlock.handle(threadId).fetchHistory()).events!;
    const toolRuns = events.filter((event) => event.activityTaskScheduledEventAttributes?.activityType?.name === 'executeTool');
    expect(toolRuns).toHaveLength(threadId === rejected.threadId ? 0 : 1);
  }
}, 240_000);
