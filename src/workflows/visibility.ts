/**
 * What Temporal's visibility and Web UI show of a thread: search attributes and a memo for the
 * pending-approvals inbox, current details for the Web UI, and the audit events in history.
 * Written only when something changed, so a quiet thread adds no events.
 */
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { AUDIT_MEMO_KEY, AirlockAgent, AirlockNextDeadline, AirlockPendingSince, AirlockPendingTools, AirlockStatus, PENDING_MEMO_KEY, WIRE_VERSION } from '../core';
import type { AuditEvent, ChatMessage, HitlInterrupt, PendingSummary, ThreadStatus } from '../core';
import { describeWaiting } from './current-details';
import { describeCallContext } from './pending-context';
import type { AgentThreadState } from './thread-state';

/** Every audit event is a memo upsert: history keeps each one, with its time, as the audit trail. */
export function recordAudit(event: AuditEvent): void {
  upsertMemo({ [AUDIT_MEMO_KEY]: { version: WIRE_VERSION, ...event } });
}

/**
 * The pending interrupt as visibility shows it: the arguments in full, their digest to bind a
 * decision to them, and the conversation that led to the call.
 */
function summarizePending(interrupt: HitlInterrupt, messages: readonly ChatMessage[]): PendingSummary {
  const context = describeCallContext(messages, interrupt.toolCallId);
  return {
    id: interrupt.id,
    toolName: interrupt.toolName,
    args: interrupt.toolArgs,
    argsDigest: interrupt.argsDigest,
    policyNote: interrupt.policyNote,
    createdAt: interrupt.createdAt,
    deadline: interrupt.deadline,
    approvers: interrupt.policy.approvers,
    ...(interrupt.policy.requireSignature && { requireSignature: true }),
    ...(interrupt.policy.confirm && { confirm: true }),
    ...(context && { context }),
  };
}

export class Visibility {
  private shownStatus?: ThreadStatus;
  private shownPending = '';

  constructor(private readonly thread: AgentThreadState) {}

  /** Names the thread's agent, once at the start of each run. */
  showAgent(): void {
    upsertSearchAttributes([{ key: AirlockAgent, value: this.thread.agentName }]);
  }

  /** Brings the status, the pending tools and deadlines, the pending memo and the current details up to date. */
  sync(): void {
    const pending = this.thread.book.pending();
    const status = this.thread.status();
    const pendingKey = pending.map((interrupt) => interrupt.id).join(',');
    if (status === this.shownStatus && pendingKey === this.shownPending) return;
    this.shownStatus = status;
    this.shownPending = pendingKey;
    const deadlines = pending.flatMap((interrupt) => (interrupt.deadline ? [interrupt.deadline] : [])).sort();
    upsertSearchAttributes([
      { key: AirlockStatus, value: status },
      { key: AirlockPendingTools, value: pending.length ? [...new Set(pending.map((interrupt) => interrupt.toolName))] : null },
      { key: AirlockPendingSince, value: pending.length ? new Date(pending[0].createdAt) : null },
      { key: AirlockNextDeadline, value: deadlines.length ? new Date(deadlines[0]) : null },
    ]);
    upsertMemo({ [PENDING_MEMO_KEY]: pending.length ? { version: WIRE_VERSION, interrupts: pending.map((interrupt) => summarizePending(interrupt, this.thread.messages)) } : undefined });
    setCurrentDetails(describeWaiting(this.thread.threadId, status, pending));
  }
}
