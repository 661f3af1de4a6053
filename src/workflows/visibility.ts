/**
 * What Temporal's visibility and Web UI show of a thread: search attributes and a memo for the
 * pending-approvals inbox, current details for the Web UI, and the audit events in history.
 * Written only when something changed, so a quiet thread adds no events.
 *
 * Threads of input version 3 (lean history) write at most one search-attribute upsert and one
 * memo upsert per workflow task: changes are collected while the task runs and flushed once, at
 * the end of the task's synchronous work. Older runs write as they always did, so they replay.
 *
 * Threads of input version 4 to 6 write no audit event that history already records in another event
 * of the same task: an interrupt that opens is in the pending memo written with it (which carries
 * the few fields its summary lacks, under `opened`; version 6's memo holds them all and marks the
 * interrupt `opened`), and a decision applied through the `decide` Update is in that Update's
 * result. `readAuditTrail` rebuilds both from there.
 */
import { setCurrentDetails, upsertMemo, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow';
import { AUDIT_MEMO_KEY, AirlockAgent, COMPACT_PENDING_VERSION, compactPending, airlockSearchAttributes, AirlockNextDeadline, AirlockPendingSince, AirlockPendingTools, AirlockStatus, PENDING_MEMO_KEY, WIRE_VERSION, summarizePending } from '../core';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import type { AuditEvent, HitlInterrupt } from '../core';
import { describeWaiting } from './current-details';
import type { AgentThreadState } from './thread-state';

/** The version of the lean audit memo, `{ version, events }` (see `readAuditEvents`). */
const AUDIT_BATCH_VERSION = 3;

type SearchAttributeUpdate = SearchAttributeUpdatePair;

export class Visibility {
  /** What the search attributes show now, by key (as comparable text). */
  private readonly shownAttributes = new Map<string, string>();
  private shownStatus?: string;
  private shownPending = '';
  private readonly auditBatch: AuditEvent[] = [];
  private flushScheduled = false;

  /**
   * @param thread the thread's state
   * @param lean batch the writes of each workflow task (input version 3)
   * @param noEcho write no audit event another event of the task records (input version 4 to 6)
   * @param compactMemo write the pending memo in its third form (input version 6, `compactPending`)
   */
  constructor(
    private readonly thread: AgentThreadState,
    private readonly lean = false,
    private readonly noEcho = false,
    private readonly compactMemo = false,
  ) {
    if (lean) this.readStartAttributes();
  }

  /**
   * A lean thread's first run that the client started with its agent and status already set
   * (`startAttributes`) writes only what differs from them: nothing, when they were true. Whatever
   * the starter set is compared with the thread's own values at the first flush and corrected
   * there, so a starter can make the lists wrong for no longer than the first workflow task.
   * Runs started otherwise (earlier clients, continue-as-new, which inherits the last run's
   * attributes) write every attribute once, as they always did, so their histories replay.
   */
  private readStartAttributes(): void {
    const info = workflowInfo();
    const started = info.typedSearchAttributes;
    if (info.continuedFromExecutionRunId || started.get(AirlockAgent) === undefined) return;
    for (const key of airlockSearchAttributes) this.shownAttributes.set(key.name, JSON.stringify(started.get(key as never) ?? null));
  }

  /** Records an audit event: every one is in history, with its time (one memo upsert each, or one per task when lean). */
  audit(event: AuditEvent): void {
    if (!this.lean) {
      upsertMemo({ [AUDIT_MEMO_KEY]: { version: WIRE_VERSION, ...event } });
      return;
    }
    this.auditBatch.push(event);
    this.scheduleFlush();
  }

  /** Names the thread's agent, once at the start of each run. */
  showAgent(): void {
    if (this.lean) {
      this.scheduleFlush();
      return;
    }
    upsertSearchAttributes([{ key: AirlockAgent, value: this.thread.agentName }]);
  }

  /** Brings the status, the pending tools and deadlines, the pending memo and the current details up to date. */
  sync(): void {
    if (this.lean) {
      this.scheduleFlush();
      return;
    }
    const pending = this.thread.book.pending();
    const status = this.thread.status();
    const pendingKey = pendingKeyOf(pending);
    if (status === this.shownStatus && pendingKey === this.shownPending) return;
    this.shownStatus = status;
    this.shownPending = pendingKey;
    upsertSearchAttributes(this.attributes());
    upsertMemo({ [PENDING_MEMO_KEY]: pending.length ? { version: WIRE_VERSION, interrupts: pending.map((interrupt) => summarizePending(interrupt, this.thread.messages)) } : undefined });
    setCurrentDetails(describeWaiting(this.thread.threadId, status, pending));
  }

  /**
   * Lean mode: writes what changed since the last flush, once, after the work the current
   * activation does synchronously (handlers, the loop up to its next wait).
   */
  private scheduleFlush(): void {
    if (this.flushScheduled) return;
    this.flushScheduled = true;
    void Promise.resolve().then(() => {
      this.flushScheduled = false;
      this.flush();
    });
  }

  private flush(): void {
    const changed = this.attributes().filter((update) => {
      const text = JSON.stringify(update.value ?? null);
      if (this.shownAttributes.get(update.key.name) === text) return false;
      this.shownAttributes.set(update.key.name, text);
      return true;
    });
    if (changed.length > 0) upsertSearchAttributes(changed);
    const pending = this.thread.book.pending();
    const pendingKey = pendingKeyOf(pending);
    const memo: Record<string, unknown> = {};
    const pendingChanged = pendingKey !== this.shownPending;
    const events = this.auditBatch.splice(0);
    // Version 4: what the pending memo or an Update's result records is not written again.
    const waiting = new Set(pendingChanged ? pending.map((interrupt) => interrupt.id) : []);
    const echoed = (event: AuditEvent) =>
      this.noEcho &&
      ((event.kind === 'interrupt-opened' && waiting.has(event.interrupt.id)) ||
        (event.kind === 'interrupt-resolved' && 'via' in event.resolution && event.resolution.via === 'update' && event.resolution.updateId !== undefined));
    const opened = events.flatMap((event) => (event.kind === 'interrupt-opened' && echoed(event) ? [event.interrupt] : []));
    const written = events.filter((event) => !echoed(event));
    if (written.length > 0) memo[AUDIT_MEMO_KEY] = { version: AUDIT_BATCH_VERSION, events: written };
    if (pendingChanged) {
      this.shownPending = pendingKey;
      memo[PENDING_MEMO_KEY] = pending.length ? this.pendingMemo(pending, opened) : undefined;
    }
    if (Object.keys(memo).length > 0) upsertMemo(memo);
    const status = this.thread.status();
    // An edit that escalates changes the waiting call (not which tools wait): the details say so too.
    if (status !== this.shownStatus || changed.length > 0 || pendingChanged) {
      this.shownStatus = status;
      setCurrentDetails(describeWaiting(this.thread.threadId, status, pending));
    }
  }

  /**
   * The pending memo: the third form (version 6: the policy itself, interrupts that opened in this
   * task marked), or the second, with the fields the summaries lack for those that opened.
   */
  private pendingMemo(pending: HitlInterrupt[], opened: HitlInterrupt[]): Record<string, unknown> {
    const messages = this.thread.messages;
    if (this.compactMemo) {
      const openedIds = new Set(opened.map((interrupt) => interrupt.id));
      return { version: COMPACT_PENDING_VERSION, interrupts: pending.map((interrupt) => compactPending(interrupt, messages, openedIds.has(interrupt.id))) };
    }
    return {
      version: WIRE_VERSION,
      interrupts: pending.map((interrupt) => summarizePending(interrupt, messages)),
      ...(opened.length > 0 && { opened: opened.map(({ id, toolCallId, turn, policy }) => ({ id, toolCallId, turn, policy })) }),
    };
  }

  private attributes(): SearchAttributeUpdate[] {
    const pending = this.thread.book.pending();
    const deadlines = pending.flatMap((interrupt) => (interrupt.deadline ? [interrupt.deadline] : [])).sort();
    return [
      ...(this.lean ? [{ key: AirlockAgent, value: this.thread.agentName }] : []),
      { key: AirlockStatus, value: this.thread.status() },
      { key: AirlockPendingTools, value: pending.length ? [...new Set(pending.map((interrupt) => interrupt.toolName))] : null },
      { key: AirlockPendingSince, value: pending.length ? new Date(pending[0].createdAt) : null },
      { key: AirlockNextDeadline, value: deadlines.length ? new Date(deadlines[0]) : null },
    ] as SearchAttributeUpdate[];
  }
}

/** Which interrupts wait, and in what form (an edit that escalates changes a call without changing which ones wait). */
function pendingKeyOf(pending: ReturnType<AgentThreadState['book']['pending']>): string {
  return pending.map((interrupt) => `${interrupt.id}:${interrupt.callDigest ?? ''}`).join(',');
}
