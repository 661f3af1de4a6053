/**
 * What Temporal's visibility and Web UI show of a thread: search attributes and a memo for the
 * pending-approvals inbox, current details for the Web UI, and the audit events in history.
 * Written only when something changed, so a quiet thread adds no events.
 */
import { setCurrentDetails, upsertMemo, upsertSearchAttributes } from '@temporalio/workflow';
import { AUDIT_MEMO_KEY, AirlockAgent, AirlockNextDeadline, AirlockPendingSince, AirlockPendingTools, AirlockStatus, PENDING_MEMO_KEY, WIRE_VERSION, summarizePending } from '../core';
import type { AuditEvent, ThreadStatus } from '../core';
import { describeWaiting } from './current-details';
import type { AgentThreadState } from './thread-state';

/** Every audit event is a memo upsert: history keeps each one, with its time, as the audit trail. */
export function recordAudit(event: AuditEvent): void {
  upsertMemo({ [AUDIT_MEMO_KEY]: { version: WIRE_VERSION, ...event } });
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
    // An edit that escalates changes a waiting call without changing which ones wait.
    const pendingKey = pending.map((interrupt) => `${interrupt.id}:${interrupt.callDigest ?? ''}`).join(',');
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
