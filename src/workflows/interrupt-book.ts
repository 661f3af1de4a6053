/**
 * The thread's interrupts and the rules for deciding them. Deterministic, no I/O: used by the
 * workflow's handlers (the update validator must be synchronous) and its loop.
 */
import { ErrorType, toMilliseconds } from '../core';
import type { Decision, HitlInterrupt, HitlPolicy, InterruptResolution, ToolCall } from '../core';

export type DecisionCheck = { ok: true; interrupt: HitlInterrupt } | { ok: false; reason: string; errorType: string };

export class InterruptBook {
  private readonly byId = new Map<string, HitlInterrupt>();

  /** Every interrupt, in creation order. */
  all(): HitlInterrupt[] {
    return [...this.byId.values()];
  }

  /** Interrupts waiting for a decision, oldest first (creation order). */
  pending(): HitlInterrupt[] {
    return this.all().filter((interrupt) => !interrupt.resolution);
  }

  /**
   * Opens an interrupt for a protected tool call. The id is derived from the turn and the
   * model's tool-call id, so it is the same on every replay.
   */
  open(call: Pick<ToolCall, 'id' | 'name'>, args: unknown, policy: HitlPolicy, turn: number, now: number): HitlInterrupt {
    const interrupt: HitlInterrupt = {
      id: `t${turn}-${call.id}`,
      toolName: call.name,
      toolArgs: args,
      policyNote: policy.note,
      createdAt: new Date(now).toISOString(),
      deadline: policy.timeout === undefined ? undefined : new Date(now + toMilliseconds(policy.timeout)).toISOString(),
      toolCallId: call.id,
      turn,
      policy,
    };
    this.byId.set(interrupt.id, interrupt);
    return interrupt;
  }

  /** Whether a decision fits: the interrupt exists, is still waiting, and the approver may decide it. */
  check(decision: Decision): DecisionCheck {
    if (typeof decision !== 'object' || decision === null) {
      return { ok: false, errorType: ErrorType.DecisionInvalid, reason: 'A decision must be an object' };
    }
    const { interruptId, action, approver } = decision;
    if (action !== 'accept' && action !== 'reject') {
      return {
        ok: false,
        errorType: ErrorType.DecisionInvalid,
        reason: `Unknown action '${String(action)}': use 'accept' or 'reject'`,
      };
    }
    if (typeof approver !== 'string' || approver.trim() === '') {
      return { ok: false, errorType: ErrorType.DecisionInvalid, reason: 'A decision must name its approver' };
    }
    const interrupt = typeof interruptId === 'string' ? this.byId.get(interruptId) : undefined;
    if (!interrupt) {
      return {
        ok: false,
        errorType: ErrorType.InterruptNotFound,
        reason: `No interrupt '${String(interruptId)}' in this thread`,
      };
    }
    const resolution = interrupt.resolution;
    if (resolution?.type === 'timed-out') {
      return {
        ok: false,
        errorType: ErrorType.InterruptTimedOut,
        reason: `Interrupt '${interrupt.id}' timed out at ${resolution.at} and was resolved as '${resolution.outcome}'`,
      };
    }
    if (resolution?.type === 'cancelled') {
      return { ok: false, errorType: ErrorType.ThreadEnded, reason: `Interrupt '${interrupt.id}' was cancelled: ${resolution.reason}` };
    }
    if (resolution) {
      return {
        ok: false,
        errorType: ErrorType.InterruptAlreadyDecided,
        reason: `Interrupt '${interrupt.id}' was already ${resolution.type} by ${resolution.approver} at ${resolution.at}`,
      };
    }
    const allowed = interrupt.policy.approvers;
    if (allowed && allowed.length > 0 && !allowed.includes(approver)) {
      return {
        ok: false,
        errorType: ErrorType.DecisionNotAllowed,
        reason: `'${approver}' may not decide '${interrupt.toolName}': allowed approvers are ${allowed.join(', ')}`,
      };
    }
    return { ok: true, interrupt };
  }

  /** Applies a decision that passed `check`. */
  apply(interrupt: HitlInterrupt, decision: Decision, now: number): InterruptResolution {
    const at = new Date(now).toISOString();
    const reason = typeof decision.reason === 'string' && decision.reason.trim() !== '' ? decision.reason : undefined;
    interrupt.resolution =
      decision.action === 'accept'
        ? { type: 'accepted', approver: decision.approver, reason, at }
        : { type: 'rejected', approver: decision.approver, reason, at };
    return interrupt.resolution;
  }

  /** Resolves a still-waiting interrupt by its policy's `onTimeout`. */
  expire(interrupt: HitlInterrupt, now: number): InterruptResolution {
    interrupt.resolution = {
      type: 'timed-out',
      outcome: interrupt.policy.onTimeout ?? 'reject',
      at: new Date(now).toISOString(),
    };
    return interrupt.resolution;
  }

  /** Resolves every still-waiting interrupt as cancelled; their tools do not run. Returns them. */
  cancelPending(reason: string, now: number): HitlInterrupt[] {
    const pending = this.pending();
    for (const interrupt of pending) interrupt.resolution = { type: 'cancelled', reason, at: new Date(now).toISOString() };
    return pending;
  }
}
