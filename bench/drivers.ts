/**
 * The two kinds of thread the bench drives the same way: Airlock's `agentThread`, and the bare
 * Temporal workflow with the same steps (the floor). Each step checks the thread did what it should.
 */
import { WithStartWorkflowOperation, type Client } from '@temporalio/client';
import { temporal } from '@temporalio/proto';
import type { AirlockClient } from '../src/client';
import { benchMessage } from './bench-agent';
import { bareAwaitUpdate, bareDecideUpdate, bareEndSignal, bareMessageUpdate } from './bare/workflows';
import { forEachLimited, progress } from './concurrency';
import type { BenchContext } from './context';
import { CpuAccount } from './proc-stats';
import { approve, awaitAnswer, endThreads, parkThread } from './thread-steps';

export interface ThreadDriver {
  name: 'airlock' | 'bare';
  /** Sends the message that asks for the protected tool; returns when the thread waits (the interrupt's id). */
  park(threadId: string, index: number): Promise<string>;
  approve(threadId: string, interruptId: string): Promise<void>;
  /** Waits for the final answer after the tool ran. */
  awaitAnswer(threadId: string): Promise<void>;
  end(threadIds: readonly string[], concurrency: number, label: string): Promise<void>;
}

export function airlockDriver(airlock: AirlockClient): ThreadDriver {
  return {
    name: 'airlock',
    park: (threadId, index) => parkThread(airlock, threadId, index),
    approve: (threadId, interruptId) => approve(airlock, threadId, interruptId),
    awaitAnswer: (threadId) => awaitAnswer(airlock, threadId),
    end: (threadIds, concurrency, label) => endThreads(airlock, threadIds, concurrency, label),
  };
}

export function bareDriver(client: Client, taskQueue: string): ThreadDriver {
  return {
    name: 'bare',
    async park(threadId, index) {
      const startWorkflowOperation = new WithStartWorkflowOperation('bareThread', { workflowId: threadId, taskQueue, workflowIdConflictPolicy: 'USE_EXISTING' });
      const { status } = await client.workflow.executeUpdateWithStart(bareMessageUpdate, { args: [benchMessage(index)], startWorkflowOperation });
      if (status !== 'waiting') throw new Error(`Bare thread ${threadId} should wait for a decision, but is '${status}'`);
      return '';
    },
    async approve(threadId) {
      await client.workflow.getHandle(threadId).executeUpdate(bareDecideUpdate, { args: ['bench'] });
    },
    async awaitAnswer(threadId) {
      const { status, content } = await client.workflow.getHandle(threadId).executeUpdate(bareAwaitUpdate);
      if (status !== 'idle' || !content.includes('delete_file: deleted')) throw new Error(`Bare thread ${threadId} did not answer after its tool: '${status}' ${content}`);
    },
    async end(threadIds, concurrency, label) {
      const tick = progress(label, threadIds.length);
      await forEachLimited(threadIds, concurrency, async (threadId) => {
        const handle = client.workflow.getHandle(threadId);
        await handle.signal(bareEndSignal);
        const approvals: number = await handle.result();
        if (approvals !== 1) throw new Error(`Bare thread ${threadId} ended with ${approvals} approvals, expected 1`);
        tick();
      });
    },
  };
}

/**
 * One driver's share of a phase in which Airlock and the floor take turns: the threads it started
 * and the CPU used during its own turns (the other's left out).
 */
export abstract class DriverShare {
  readonly threadIds: string[] = [];
  protected readonly cpu: CpuAccount;

  constructor(
    readonly driver: ThreadDriver,
    pids: BenchContext['pids'],
  ) {
    this.cpu = new CpuAccount(pids);
  }
}

/** What a history's bytes are for: each event type's group. */
const BYTES_FOR: Array<[RegExp, string]> = [
  [/^WORKFLOW_EXECUTION_STARTED$/, 'start'],
  [/^WORKFLOW_TASK_/, 'workflow tasks'],
  [/^WORKFLOW_EXECUTION_UPDATE_ACCEPTED$/, 'Update requests'],
  [/^WORKFLOW_EXECUTION_UPDATE_COMPLETED$/, 'Update replies'],
  [/^MARKER_RECORDED$/, 'local activities'],
  [/^ACTIVITY_TASK_/, 'activities'],
  [/^(UPSERT_WORKFLOW_SEARCH_ATTRIBUTES|WORKFLOW_PROPERTIES_MODIFIED)$/, 'visibility'],
];

export interface HistorySize {
  events: number;
  bytes: number;
  /** Encoded bytes by what they are for (see `BYTES_FOR`). */
  bytesFor: Record<string, number>;
}

/** Events and encoded bytes of a thread's history (its current run), as the server stores it, and what the bytes are for. */
export async function historySize(client: Client, threadId: string): Promise<HistorySize> {
  const history = await client.workflow.getHandle(threadId).fetchHistory();
  const bytesFor: Record<string, number> = {};
  for (const event of history.events ?? []) {
    const type = (temporal.api.enums.v1.EventType[event.eventType ?? 0] ?? 'UNKNOWN').replace(/^EVENT_TYPE_/, '');
    const group = BYTES_FOR.find(([pattern]) => pattern.test(type))?.[1] ?? type.toLowerCase();
    bytesFor[group] = (bytesFor[group] ?? 0) + temporal.api.history.v1.HistoryEvent.encode(event).finish().length;
  }
  return { events: history.events?.length ?? 0, bytes: temporal.api.history.v1.History.encode(history).finish().length, bytesFor };
}
