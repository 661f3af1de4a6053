/**
 * A thread starts with its agent and first status as search attributes (set by the client), so
 * it writes none before its first model turn; what a starter sets there is corrected by the thread; and
 * in a namespace that has no Airlock search attributes yet, the client starts threads without.
 */
import { Client } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { temporal } from '@temporalio/proto';
import { AirlockClient } from '../../src/client';
import { AGENT_THREAD_WORKFLOW, AirlockAgent, AirlockPendingTools, AirlockStatus } from '../../src/core';
import type { ThreadInput } from '../../src/core';
import { ScriptedModel, callTools, reply } from '../../src/models';
import { connectToDevServer, endThreads, quietRuntime, unique, until, withWorker } from '../helpers';
import { protectedPolicy, recordingAgent } from '../fixtures';
import { isLocalModelTurn } from '../fixtures/threads';

const { EventType } = temporal.api.enums.v1;
let server: Awaited<ReturnType<typeof connectToDevServer>>;

beforeAll(async () => {
  quietRuntime();
  server = await connectToDevServer();
});
afterAll(() => server.close());

const attributesOf = async (client: Client, threadId: string) => (await client.workflow.getHandle(threadId).describe()).typedSearchAttributes;

test('a thread the client starts carries its agent and status from the start: nothing is written to them before its first model turn', async () => {
  const taskQueue = unique('start-attributes');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const model = new ScriptedModel([callTools(['delete_file', { path: '/tmp/x' }]), reply('Deleted.')]);
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  await withWorker({ agents: [fixture.agent], model, taskQueue, connection: server.nativeConnection }, async () => {
    try {
      const first = await airlock.handleMessage(threadId, 'delete /tmp/x');
      expect(first.state.status).toBe('awaiting_approval');
      const history = await airlock.handle(threadId).fetchHistory();
      const events = history.events ?? [];
      const started = events[0].workflowExecutionStartedEventAttributes!;
      expect(Object.keys(started.searchAttributes?.indexedFields ?? {}).sort()).toEqual(['AirlockAgent', 'AirlockStatus']);
      const firstUpsert = events.findIndex((event) => event.eventType === EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES);
      // The scripted model answers at once: its turns are local activities, each one marker.
      const firstModelTurn = events.findIndex(isLocalModelTurn);
      // The first upsert is the interrupt's (status, pending tool), after the model turn.
      expect(firstModelTurn).toBeGreaterThan(0);
      expect(firstUpsert).toBeGreaterThan(firstModelTurn);
      const upserted = events[firstUpsert].upsertWorkflowSearchAttributesEventAttributes!.searchAttributes!.indexedFields!;
      expect(Object.keys(upserted)).not.toContain('AirlockAgent');

      const shown = await until(() => attributesOf(server.client, threadId), (attributes) => attributes.get(AirlockStatus) === 'awaiting_approval');
      expect(shown.get(AirlockAgent)).toBe(fixture.agent.name);
      expect(shown.get(AirlockPendingTools)).toEqual(['delete_file']);
      expect((await airlock.pendingApprovals()).some((pending) => pending.threadId === threadId)).toBe(true);

      const final = await airlock.resumeWithApproval(threadId, 'accept', { approver: 'alice' });
      expect(final.content).toBe('Deleted.');
      const idle = await until(() => attributesOf(server.client, threadId), (attributes) => attributes.get(AirlockStatus) === 'idle');
      expect(idle.get(AirlockPendingTools)).toBeUndefined();
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('search attributes a starter sets are corrected by the thread in its first workflow task', async () => {
  const taskQueue = unique('start-attributes-forged');
  const fixture = recordingAgent({ delete_file: protectedPolicy() });
  const airlock = new AirlockClient({ client: server.client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  await withWorker({ agents: [fixture.agent], model: new ScriptedModel([]), taskQueue, connection: server.nativeConnection }, async () => {
    try {
      // Any Temporal client can start the workflow with lists that lie: another agent, a waiting tool.
      const input: ThreadInput = { version: 3, agent: fixture.agent.name };
      await server.client.workflow.start(AGENT_THREAD_WORKFLOW, {
        workflowId: threadId,
        taskQueue,
        args: [input],
        typedSearchAttributes: [
          { key: AirlockAgent, value: 'payroll-agent' },
          { key: AirlockStatus, value: 'awaiting_approval' },
          { key: AirlockPendingTools, value: ['wire_transfer'] },
        ],
      });
      const shown = await until(() => attributesOf(server.client, threadId), (attributes) => attributes.get(AirlockStatus) === 'idle');
      expect(shown.get(AirlockStatus)).toBe('idle');
      expect(shown.get(AirlockAgent)).toBe(fixture.agent.name);
      expect(shown.get(AirlockPendingTools)).toBeUndefined();
      expect((await airlock.pendingApprovals()).some((pending) => pending.threadId === threadId)).toBe(false);
    } finally {
      await endThreads(airlock, [threadId]);
    }
  });
});

test('in a namespace without Airlock search attributes the client starts threads without them, and they run', async () => {
  const namespace = unique('no-attributes');
  await server.client.workflowService.registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('1 day') });
  const client = new Client({ connection: server.client.connection, namespace });
  const taskQueue = unique('no-attributes');
  const fixture = recordingAgent({});
  const airlock = new AirlockClient({ client, taskQueue, defaultAgent: fixture.agent.name });
  const threadId = unique('thread');
  // A new namespace becomes usable once the server's namespace cache has it.
  const started = await until(
    () => airlock.startThread({ threadId }).then(() => true, (err: Error) => err.message),
    (outcome) => outcome === true,
  );
  expect(started).toBe(true);
  const description = await airlock.handle(threadId).describe();
  expect(description.status.name).toBe('RUNNING');
  expect(description.typedSearchAttributes.get(AirlockAgent)).toBeUndefined();
  await airlock.handle(threadId).terminate('test over');
});
