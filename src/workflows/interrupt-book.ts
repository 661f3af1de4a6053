/**
 * The thread's interrupts and the rules for deciding them. Deterministic, no I/O: used by the
 * workflow's handlers (the update validator must be synchronous) and its loop. Refusal reasons
 * name only the thread's own ids, never text a sender supplied.
 */
import { ErrorType, argsDigest, checkDecisionSignature, toMilliseconds } from '../core';
import type { Decision, DecisionChannel, HitlInterrupt, HitlPolicy, InterruptResolution, SignedBy, ToolCall, TrustedKey } from '../core';

export type DecisionCheck =
  | { ok: true; interrupt: HitlInterrupt; signedBy?: SignedBy }
  | { ok: false; reason: string; errorType: string; interrupt?: HitlInterrupt };

/** How a decision arrived, kept with its resolution. */
export interface DecisionArrival {
  via: DecisionChannel;
  updateId?: string;
}

export class InterruptBook {
  private readonly byId = new Map<string, HitlInterrupt>();

  /**
   * @param threadId the thread the signatures must name
   * @param trustedKeys the keys the worker trusts now (from its registry)
   */
  constructor(
    private readonly threadId: string,
    private readonly trustedKeys: () => readonly TrustedKey[],
  ) {}

  /** Every interrupt, in creation order. */
  all(): HitlInterrupt[] {
    return [...this.byId.values()];
  }

  /** Whether any interrupt waits for a decision (without building the list: status checks run on every activation). */
  hasPending(): boolean {
    for (const interrupt of this.byId.values()) if (!interrupt.resolution) return true;
    return false;
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
      argsDigest: argsDigest(args),
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

  /**
   * Whether a well-formed decision (see `parseDecision`) fits: the interrupt exists and waits, the
   * approver may decide it, the arguments it names are the interrupt's, and its signature holds
   * (required where the policy says so).
   */
  check(decision: Decision): DecisionCheck {
    const interrupt = this.byId.get(decision.interruptId);
    if (!interrupt) return { ok: false, errorType: ErrorType.InterruptNotFound, reason: 'No interrupt with that id in this thread' };
    const refuse = (errorType: string, reason: string): DecisionCheck => ({ ok: false, errorType, reason, interrupt });
    const resolution = interrupt.resolution;
    if (resolution?.type === 'timed-out') {
      return refuse(ErrorType.InterruptTimedOut, `Interrupt '${interrupt.id}' timed out at ${resolution.at} and was resolved as '${resolution.outcome}'`);
    }
    if (resolution?.type === 'cancelled') return refuse(ErrorType.ThreadEnded, `Interrupt '${interrupt.id}' was cancelled: ${resolution.reason}`);
    if (resolution) {
      return refuse(ErrorType.InterruptAlreadyDecided, `Interrupt '${interrupt.id}' was already ${resolution.type} by ${resolution.approver} at ${resolution.at}`);
    }
    const allowed = interrupt.policy.approvers;
    if (allowed && allowed.length > 0 && !allowed.includes(decision.approver)) {
      return refuse(ErrorType.DecisionNotAllowed, `That approver may not decide '${interrupt.toolName}': allowed approvers are ${allowed.join(', ')}`);
    }
    const digest = interrupt.argsDigest ?? argsDigest(interrupt.toolArgs);
    if (decision.argsDigest !== undefined && decision.argsDigest !== digest) {
      return refuse(ErrorType.DecisionArgumentsChanged, `The decision names other arguments than interrupt '${interrupt.id}' holds; look at them again`);
    }
    if (!decision.signature) {
      if (interrupt.policy.requireSignature) {
        return refuse(ErrorType.DecisionSignatureRequired, `The policy of '${interrupt.toolName}' requires a signed decision (an approver key or the approval service)`);
      }
      return { ok: true, interrupt };
    }
    const fields = { ...decision, threadId: this.threadId, argsDigest: digest };
    const verified = checkDecisionSignature(fields, decision.signature, this.trustedKeys());
    if (!verified.ok) return refuse(ErrorType.DecisionSignatureInvalid, verified.reason);
    const { keyId, kind, owner } = verified.key;
    return { ok: true, interrupt, signedBy: { keyId, kind, owner } };
  }

  /** Applies a decision that passed `check`. */
  apply(check: Extract<DecisionCheck, { ok: true }>, decision: Decision, arrival: DecisionArrival, now: number): InterruptResolution {
    const at = new Date(now).toISOString();
    // Kept exactly as sent (a signature covers it), only an empty one is left out.
    const reason = decision.reason ? decision.reason : undefined;
    const origin = {
      approver: decision.approver,
      ...(reason !== undefined && { reason }),
      ...(check.signedBy && decision.signature && { signedBy: check.signedBy, signature: decision.signature }),
      ...arrival,
    };
    check.interrupt.resolution = decision.action === 'accept' ? { type: 'accepted', at, ...origin } : { type: 'rejected', at, ...origin };
    return check.interrupt.resolution;
  }

  /** Resolves a still-waiting interrupt by its policy's `onTimeout`, dated by its deadline (when the timer fired). */
  expire(interrupt: HitlInterrupt, now: number): InterruptResolution {
    interrupt.resolution = {
      type: 'timed-out',
      outcome: interrupt.policy.onTimeout ?? 'reject',
      at: interrupt.deadline ?? new Date(now).toISOString(),
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
