/**
 * A worker whose cache holds fewer threads than are active at once: threads are evicted and
 * replayed, every one is approved, runs its tool once and answers, and (with half as many workflow
 * tasks at once as cached threads) they do not wait out workflow task timeouts. The Temporal Core
 * of TypeScript SDK 1.24.0 stalls a thread evicted while its workflow task runs a local activity;
 * with Temporal's default of 40 tasks at once, 9 to 11 of these 100 threads stalled 10 s each.
 */
import { temporal } from '@temporalio/proto';
import { AirlockClient } from '../../src/client';
import { OfflineModel } from '../../src/models';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { connectToDevServer, endThreads, quietRuntime, unique, withWorker } from '../helpers';

const { EventType, TimeoutType } = temporal.api.enums.v1;

let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

test('100 threads in flight on a worker caching 20: it runs 10 workflow tasks at once, each thread is approved, runs its tool once and answers, and none fails a task or (beyond one) waits out its timeout', async () => {
  const taskQueue = unique('small-cache');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadIds = Array.from({ length: 100 }, (_, index) => `${unique('thread')}-${index}`);

  await withWorker({ agents: [fixture.agent], model: new OfflineModel(), taskQueue, connection: server.nativeConnection, workerOptions: { maxCachedWorkflows: 20 } }, async (worker) => {
    try {
      expect(worker.options.tuner).toMatchObject({ workflowTaskSlotSupplier: { type: 'fixed-size', numSlots: 10 } });
      const parked = await Promise.all(threadIds.map((threadId, index) => airlock.handleMessage(threadId, `delete the file small-cache-${index}.txt`)));
      await Promise.all(
        threadIds.map(async (threadId, index) => {
          const interrupt = parked[index].state.currentInterrupt;
          expect(interrupt?.toolName).toBe('delete_file');
          expect(await airlock.decide(threadId, { interruptId: interrupt!.id, action: 'accept', approver: 'alice' })).toMatchObject({ type: 'applied' });
          const answer = await airlock.awaitResponse(threadId);
          expect(answer.state.status).toBe('idle');
        }),
      );
      // Each tool ran once, for its own thread's file.
      const runs = fixture.ran('delete_file');
      expect(runs).toHaveLength(100);
      expect(new Set(runs.map((run) => run.context.threadId))).toEqual(new Set(threadIds));
      for (const [index, threadId] of threadIds.entries()) {
        expect(runs.find((run) => run.context.threadId === threadId)?.args).toEqual({ path: `small-cache-${index}.txt` });
      }
      // No thread failed a task, and none (at most one: which thread the Core evicts is its own
      // choice, and halving made it pick an idle one in every run measured) waited out a timeout.
      const stalled: string[] = [];
      for (const threadId of threadIds) {
        const events = (await airlock.handle(threadId).fetchHistory()).events ?? [];
        expect(events.filter((event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED)).toEqual([]);
        const timedOut = events.filter(
          (event) => event.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_TIMED_OUT && event.workflowTaskTimedOutEventAttributes?.timeoutType === TimeoutType.TIMEOUT_TYPE_START_TO_CLOSE,
        );
        if (timedOut.length > 0) stalled.push(threadId);
      }
      expect(stalled.length).toBeLessThanOrEqual(1);
    } finally {
      await endThreads(airlock, threadIds);
    }
  });
});
