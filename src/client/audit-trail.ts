import { WorkflowNotFoundError, type Client } from '@temporalio/client';
import type { temporal } from '@temporalio/proto';
import { AUDIT_MEMO_KEY } from '../core';
import type { AuditEntry, AuditEvent, Decision, ExecuteToolInput, ExecuteToolResult, InterruptResolution } from '../core';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

const GRPC_NOT_FOUND = 5;
type Payload = temporal.api.common.v1.IPayload;

/**
 * The audit trail of a thread, rebuilt from its Temporal event history alone (every run of it,
 * across continue-as-new; completed threads too): for every interrupt its creation, policy,
 * decision, approver, time, reason and the tool's result, plus decisions the thread refused.
 * @throws WorkflowNotFoundError when there is no such thread
 */
export async function readAuditTrail(client: Client, threadId: string): Promise<AuditEntry[]> {
  const decode = (payload: Payload | null | undefined): unknown =>
    payload ? client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload) : undefined;
  const entries: AuditEntry[] = [];
  const byInterrupt = new Map<string, AuditEntry>();
  for (const events of await fetchRuns(client, threadId)) {
    const toolCalls = new Map<string, string>(); // scheduled event id → interrupt id
    for (const event of events) {
      const memo = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[AUDIT_MEMO_KEY];
      if (memo) applyAuditEvent(decode(memo) as AuditEvent, threadId, entries, byInterrupt);
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'executeTool') {
        const input = decode(scheduled.input?.payloads?.[0]) as ExecuteToolInput;
        if (input.interruptId) toolCalls.set(String(event.eventId), input.interruptId);
      }
      const completed = event.activityTaskCompletedEventAttributes;
      const failed = event.activityTaskFailedEventAttributes ?? event.activityTaskTimedOutEventAttributes;
      const scheduledId = String(completed?.scheduledEventId ?? failed?.scheduledEventId ?? '');
      const entry = byInterrupt.get(toolCalls.get(scheduledId) ?? '');
      if (entry && completed) {
        const result = decode(completed.result?.payloads?.[0]) as ExecuteToolResult;
        entry.result = result.ok ? result.output : `Error (${result.errorType}): ${result.error}`;
      } else if (entry && failed) {
        entry.result = `Error: ${failed.failure?.message ?? 'the tool failed'}`;
      }
    }
  }
  return entries;
}

function applyAuditEvent(event: AuditEvent, threadId: string, entries: AuditEntry[], byInterrupt: Map<string, AuditEntry>): void {
  switch (event.kind) {
    case 'interrupt-opened': {
      const { interrupt } = event;
      const entry: AuditEntry = {
        timestamp: interrupt.createdAt,
        threadId,
        interruptId: interrupt.id,
        toolName: interrupt.toolName,
        toolArgs: interrupt.toolArgs,
        decision: 'pending',
        createdAt: interrupt.createdAt,
        policyNote: interrupt.policyNote,
        policy: interrupt.policy,
      };
      entries.push(entry);
      byInterrupt.set(interrupt.id, entry);
      return;
    }
    case 'interrupt-resolved': {
      const entry = byInterrupt.get(event.interruptId);
      if (entry) Object.assign(entry, describeResolution(event.resolution));
      return;
    }
    case 'decision-refused': {
      // The decision is whatever the sender signalled, well formed or not.
      const decision = (typeof event.decision === 'object' && event.decision !== null ? event.decision : {}) as Partial<Decision>;
      const target = byInterrupt.get(String(decision.interruptId));
      entries.push({
        timestamp: event.at,
        threadId,
        interruptId: String(decision.interruptId),
        toolName: target?.toolName ?? '',
        toolArgs: target?.toolArgs,
        decision: 'refused',
        approver: typeof decision.approver === 'string' ? decision.approver : undefined,
        reason: typeof decision.reason === 'string' ? decision.reason : undefined,
        createdAt: target?.createdAt ?? event.at,
        refusal: { errorType: event.errorType, reason: event.reason },
      });
    }
  }
}

function describeResolution(resolution: InterruptResolution): Partial<AuditEntry> {
  switch (resolution.type) {
    case 'accepted':
    case 'rejected':
      return { decision: resolution.type, timestamp: resolution.at, approver: resolution.approver, reason: resolution.reason };
    case 'timed-out':
      return { decision: 'timed-out', timestamp: resolution.at, approver: 'timeout', outcome: resolution.outcome };
    case 'cancelled':
      return { decision: 'cancelled', timestamp: resolution.at, reason: resolution.reason };
  }
}

/** The event histories of every run of the thread, oldest run first. */
async function fetchRuns(client: Client, threadId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined;
  for (;;) {
    const history = await client.workflow
      .getHandle(threadId, runId)
      .fetchHistory()
      .catch((err: { code?: number }) => {
        throw err?.code === GRPC_NOT_FOUND ? new WorkflowNotFoundError(`No thread '${threadId}'`, threadId, runId) : err;
      });
    const events = history.events ?? [];
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}
