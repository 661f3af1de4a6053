import type { Client } from '@temporalio/client';
import { toAirlockError } from './temporal-errors';
import { decodeHistoryPayloads } from './history-payloads';
import { readAuditEvents, readCompactPendingMemo } from '../core/wire-schemas';
import { optionalTsToMs } from '@temporalio/common/lib/time';
import type { temporal } from '@temporalio/proto';
import { AUDIT_MEMO_KEY, PENDING_MEMO_KEY, expandOutcome, interruptOfPending, toolInputInFull } from '../core';
import type { AuditEntry, AuditEvent, CompactOutcome, Decision, DecisionChannel, DecisionOutcome, ExecuteToolResult, ExecuteToolWireInput, HitlInterrupt, HitlPolicy, InterruptResolution, PendingSummary, ToolGrant } from '../core';

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

type Payload = temporal.api.common.v1.IPayload;

/** Where a decision came from, as history records it: the sender's identity and the time it reached the server. */
interface Arrival {
  sender?: string;
  at?: string;
}

/**
 * The decisions that reached the thread in one run, from the events that carried them: Updates by
 * id, signals in order with their decoded decision.
 */
class Arrivals {
  private readonly updates = new Map<string, Arrival>();
  private readonly signals: Array<Arrival & { decision: Partial<Decision> }> = [];

  constructor(private readonly decode: (payload: Payload | null | undefined) => unknown) {}

  /** Notes an event that may carry a decision. */
  see(event: HistoryEvent): void {
    const at = eventTime(event);
    const accepted = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
    if (accepted?.meta?.updateId) this.updates.set(accepted.meta.updateId, { sender: accepted.meta.identity ?? undefined, at });
    const signaled = event.workflowExecutionSignaledEventAttributes;
    if (signaled?.signalName === 'decision') {
      const value = this.decode(signaled.input?.payloads?.[0]);
      const decision = (typeof value === 'object' && value !== null ? value : {}) as Partial<Decision>;
      this.signals.push({ sender: signaled.identity ?? undefined, at, decision });
    }
  }

  /** Where the decision with these parts came from (a signal is matched once, first come first served). */
  find(via: DecisionChannel | undefined, updateId: string | undefined, decision: Partial<Decision>): Arrival {
    if (via === 'update') return (updateId && this.updates.get(updateId)) || {};
    if (via !== 'signal') return {};
    const index = this.signals.findIndex((signal) => signal.decision.interruptId === decision.interruptId && signal.decision.approver === decision.approver);
    return index < 0 ? {} : this.signals.splice(index, 1)[0];
  }
}

function eventTime(event: HistoryEvent): string | undefined {
  const ms = optionalTsToMs(event.eventTime);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

/**
 * The audit trail of a thread, rebuilt from its Temporal event history alone (every run of it,
 * across continue-as-new; completed threads too): for every interrupt its creation, policy,
 * decision, approver, the sender's Temporal identity, how it arrived, the key that signed it,
 * time, reason and the tool's result, plus every decision the thread refused. Each decision is
 * dated by the event that delivered it, a timeout by its deadline.
 * @throws AirlockError `ThreadNotFound` when there is no such thread
 */
export async function readAuditTrail(client: Client, threadId: string): Promise<AuditEntry[]> {
  const decode = (payload: Payload | null | undefined): unknown =>
    payload ? client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload) : undefined;
  const entries: AuditEntry[] = [];
  const byInterrupt = new Map<string, AuditEntry>();
  for (const events of await fetchRuns(client, threadId)) {
    const toolCalls = new Map<string, string>(); // scheduled event id → interrupt id
    const arrivals = new Arrivals(decode);
    const decideUpdates = new Map<string, { interruptId: string; updateId: string; decision?: Partial<Decision> }>(); // `decide` Updates by accepted event id: what their compact outcomes leave out
    for (const event of events) {
      arrivals.see(event);
      const fields = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields;
      const memo = fields?.[AUDIT_MEMO_KEY];
      if (memo) for (const audit of readAuditEvents(decode(memo))) applyAuditEvent(audit, threadId, entries, byInterrupt, arrivals);
      // Version 4 runs: an interrupt's opening is recorded once, in the pending memo.
      const pending = fields?.[PENDING_MEMO_KEY];
      if (pending?.data?.length) {
        for (const interrupt of openedIn(decode(pending))) if (!byInterrupt.has(interrupt.id)) applyAuditEvent({ kind: 'interrupt-opened', interrupt }, threadId, entries, byInterrupt, arrivals);
      }
      // ... and a decision applied through the `decide` Update, once, in that Update's result.
      const request = event.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest;
      if (request?.input?.name === 'decide') {
        const decision = decode(request.input.args?.payloads?.[0]) as Partial<Decision> | undefined;
        decideUpdates.set(String(event.eventId), { interruptId: String(decision?.interruptId ?? ''), updateId: request.meta?.updateId ?? '', decision: typeof decision === 'object' && decision !== null ? decision : undefined });
      }
      const updateDone = event.workflowExecutionUpdateCompletedEventAttributes;
      const decided = updateDone && decideUpdates.get(String(updateDone.acceptedEventId));
      if (updateDone && decided) {
        const sent = decode(updateDone.outcome?.success?.payloads?.[0]) as DecisionOutcome | CompactOutcome | undefined;
        const outcome = sent && expandOutcome(sent, decided.interruptId, decided.updateId, decided.decision);
        const entry = outcome?.type === 'applied' ? byInterrupt.get(outcome.interruptId) : undefined;
        if (outcome?.type === 'applied' && entry?.decision === 'pending') {
          applyAuditEvent({ kind: 'interrupt-resolved', interruptId: outcome.interruptId, toolName: entry.toolName, resolution: outcome.resolution }, threadId, entries, byInterrupt, arrivals);
        }
      }
      const scheduled = event.activityTaskScheduledEventAttributes;
      if (scheduled?.activityType?.name === 'executeTool') {
        const input = toolInputInFull(decode(scheduled.input?.payloads?.[0]) as ExecuteToolWireInput, threadId);
        // A call a rule or a grant let through is found by its idempotency key (thread/turn/call id);
        // a lean run may record its audit event after the activity's schedule, in the same task.
        toolCalls.set(String(event.eventId), input.interruptId ?? allowedKey(input.idempotencyKey));
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

function applyAuditEvent(event: AuditEvent, threadId: string, entries: AuditEntry[], byInterrupt: Map<string, AuditEntry>, arrivals: Arrivals): void {
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
        ...(interrupt.argsDigest && { argsDigest: interrupt.argsDigest }),
        ...(interrupt.askReason !== undefined && { askReason: interrupt.askReason }),
      };
      entries.push(entry);
      byInterrupt.set(interrupt.id, entry);
      return;
    }
    case 'interrupt-edited': {
      const entry = byInterrupt.get(event.interruptId);
      if (!entry) return;
      if (entry.originalArgs === undefined) entry.originalArgs = entry.toolArgs;
      entry.toolArgs = event.edit.args;
      entry.argsDigest = event.edit.argsDigest;
      entry.policy = event.policy;
      entry.policyNote = event.policy.note;
      if (event.askReason !== undefined) entry.askReason = event.askReason;
      entry.edits = [...(entry.edits ?? []), event.edit];
      return;
    }
    case 'call-allowed': {
      const entry: AuditEntry = {
        timestamp: event.at,
        threadId,
        interruptId: '',
        toolName: event.toolName,
        toolArgs: event.args,
        decision: 'allowed',
        reason: event.reason,
        createdAt: event.at,
        ...(event.grantId && { grantId: event.grantId }),
      };
      entries.push(entry);
      byInterrupt.set(allowedKey(`${threadId}/${event.turn}/${event.toolCallId}`), entry);
      return;
    }
    case 'grant-issued': {
      const entry = byInterrupt.get(event.grant.interruptId);
      if (entry) Object.assign(entry, { grantId: event.grant.id, grant: { id: event.grant.id, match: event.grant.match, ...(event.grant.expiresAt && { expiresAt: event.grant.expiresAt }) } });
      return;
    }
    case 'grant-ended': {
      const ended = event.ended;
      entries.push({
        timestamp: ended.at,
        threadId,
        interruptId: event.interruptId,
        toolName: event.toolName,
        toolArgs: undefined,
        decision: ended.type === 'revoked' ? 'grant-revoked' : 'grant-expired',
        ...(ended.type === 'revoked' && { approver: ended.by, ...(ended.reason !== undefined && { reason: ended.reason }) }),
        createdAt: ended.at,
        grantId: event.grantId,
      });
      return;
    }
    case 'interrupt-resolved': {
      const entry = byInterrupt.get(event.interruptId);
      if (!entry) return;
      Object.assign(entry, describeResolution(event.resolution));
      const resolution = event.resolution;
      if (resolution.type === 'edited') {
        if (entry.originalArgs === undefined) entry.originalArgs = entry.toolArgs;
        entry.toolArgs = resolution.args;
        entry.argsDigest = resolution.argsDigest;
      }
      if ((resolution.type === 'accepted' || resolution.type === 'rejected' || resolution.type === 'edited' || resolution.type === 'responded') && resolution.via !== 'message') {
        const arrival = arrivals.find(resolution.via, resolution.updateId, { interruptId: event.interruptId, approver: resolution.approver });
        // An Update is applied as it arrives (the thread's time is its time); a signal may wait in
        // history until a worker runs, so it is dated by the event that delivered it.
        Object.assign(entry, arrival.sender && { sender: arrival.sender }, resolution.via === 'signal' && arrival.at && { timestamp: arrival.at });
      }
      return;
    }
    case 'decision-refused': {
      // Older versions kept whatever the sender signalled, well formed or not.
      const decision = (typeof event.decision === 'object' && event.decision !== null ? event.decision : {}) as Partial<Decision>;
      const interruptId = typeof decision.interruptId === 'string' ? decision.interruptId : '';
      const target = byInterrupt.get(interruptId);
      const arrival = arrivals.find(event.via, event.updateId, decision);
      entries.push({
        timestamp: (event.via === 'signal' && arrival.at) || event.at,
        threadId,
        interruptId,
        toolName: target?.toolName ?? '',
        toolArgs: target?.toolArgs,
        decision: 'refused',
        approver: typeof decision.approver === 'string' ? decision.approver : undefined,
        ...(arrival.sender && { sender: arrival.sender }),
        ...(event.via && { via: event.via }),
        reason: typeof decision.reason === 'string' ? decision.reason : undefined,
        createdAt: target?.createdAt ?? event.at,
        refusal: { errorType: event.errorType, reason: event.reason },
      });
    }
  }
}

/**
 * The interrupts a version 4 to 6 pending memo records as opened in its task: each summary joined with
 * the fields it lacks (`opened`), or, in the memo's third form, those marked `opened`. Anything
 * malformed is skipped: the memo is also what lists read.
 */
function openedIn(memo: unknown): Array<Omit<HitlInterrupt, 'resolution'>> {
  try {
    const compact = readCompactPendingMemo(memo);
    if (compact) return compact.filter((summary) => summary.opened === 1).map(interruptOfPending);
  } catch {
    return [];
  }
  const { interrupts, opened } = (typeof memo === 'object' && memo !== null ? memo : {}) as { interrupts?: PendingSummary[]; opened?: Array<{ id: string; toolCallId: string; turn: number; policy: HitlPolicy }> };
  if (!Array.isArray(interrupts) || !Array.isArray(opened)) return [];
  return opened.flatMap(({ id, toolCallId, turn, policy }) => {
    const summary = interrupts.find((interrupt) => interrupt.id === id);
    if (!summary || typeof policy !== 'object' || policy === null) return [];
    return [
      {
        id,
        toolName: summary.toolName,
        toolArgs: summary.args,
        argsDigest: summary.argsDigest,
        policyNote: summary.policyNote,
        createdAt: summary.createdAt,
        toolCallId,
        turn,
        policy,
        ...(summary.deadline !== undefined && { deadline: summary.deadline }),
        ...(summary.askReason !== undefined && { askReason: summary.askReason }),
        ...(summary.callDigest !== undefined && { callDigest: summary.callDigest }),
      } as Omit<HitlInterrupt, 'resolution'>,
    ];
  });
}

/** The key under which a call that ran without asking is found again when its tool activity is scheduled. */
const allowedKey = (idempotencyKey: string) => `allowed:${idempotencyKey}`;

function describeResolution(resolution: InterruptResolution): Partial<AuditEntry> {
  switch (resolution.type) {
    case 'accepted':
    case 'rejected':
    case 'edited':
    case 'responded':
      return {
        decision: resolution.type,
        timestamp: resolution.at,
        approver: resolution.approver,
        reason: resolution.reason,
        ...(resolution.via && { via: resolution.via }),
        ...(resolution.signedBy && { signedBy: resolution.signedBy }),
        ...(resolution.type === 'responded' && { response: resolution.message }),
      };
    case 'timed-out':
      return { decision: 'timed-out', timestamp: resolution.at, approver: 'timeout', outcome: resolution.outcome };
    case 'cancelled':
      return { decision: 'cancelled', timestamp: resolution.at, reason: resolution.reason };
  }
}

/**
 * The thread's grants (active, revoked and expired) with how many calls each let through, rebuilt
 * from history alone: works while no worker runs.
 * @throws AirlockError `ThreadNotFound`
 */
export async function readGrants(client: Client, threadId: string): Promise<ToolGrant[]> {
  const decode = (payload: Payload | null | undefined): unknown =>
    payload ? client.workflow.options.loadedDataConverter.payloadConverter.fromPayload(payload) : undefined;
  const grants = new Map<string, ToolGrant>();
  for (const events of await fetchRuns(client, threadId)) {
    for (const event of events) {
      const memo = event.workflowPropertiesModifiedEventAttributes?.upsertedMemo?.fields?.[AUDIT_MEMO_KEY];
      if (!memo) continue;
      for (const audit of readAuditEvents(decode(memo))) {
        if (audit.kind === 'grant-issued') grants.set(audit.grant.id, { ...audit.grant });
        const grant = grants.get(audit.kind === 'grant-ended' || audit.kind === 'call-allowed' ? (audit.grantId ?? '') : '');
        if (grant && audit.kind === 'grant-ended') grant.ended = audit.ended;
        if (grant && audit.kind === 'call-allowed') grant.uses++;
      }
    }
  }
  return [...grants.values()];
}

/**
 * Events per page of history read. A page is one gRPC message, of which a client receives at most
 * 4 MB unless its channel says otherwise, and events can be large: a signal's payload, a tool's
 * result. The server's default page (a thousand events) went over that on a thread with large
 * payloads, and the read failed after retrying for 40 s.
 */
const HISTORY_PAGE_EVENTS = 50;

/** The event histories of every run of the thread, oldest run first. */
export async function fetchRuns(client: Client, threadId: string): Promise<HistoryEvent[][]> {
  const runs: HistoryEvent[][] = [];
  let runId: string | undefined;
  for (;;) {
    const events = await fetchRun(client, threadId, runId).catch((err: unknown) => {
      throw toAirlockError(err, threadId);
    });
    await decodeHistoryPayloads(client, events);
    runs.unshift(events);
    runId = events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ?? undefined;
    if (!runId) return runs;
  }
}

/** One run's events (the latest run's when `runId` is undefined), a page of `HISTORY_PAGE_EVENTS` at a time. */
async function fetchRun(client: Client, workflowId: string, runId: string | undefined): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextPageToken: Uint8Array | undefined;
  do {
    const page = await client.workflowService.getWorkflowExecutionHistory({
      namespace: client.options.namespace,
      execution: { workflowId, runId },
      maximumPageSize: HISTORY_PAGE_EVENTS,
      nextPageToken,
    });
    events.push(...(page.history?.events ?? []));
    nextPageToken = page.nextPageToken?.length ? page.nextPageToken : undefined;
  } while (nextPageToken);
  return events;
}
