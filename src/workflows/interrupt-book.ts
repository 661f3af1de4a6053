/**
 * The thread's interrupts and the rules for deciding them. Deterministic, no I/O: used by the
 * workflow's handlers (the update validator must be synchronous) and its loop. Refusal reasons
 * name only the thread's own ids, never text a sender supplied.
 */
import { ErrorType, allowedActions, interruptIdOf, allowsGrants, argsDigest, callDigest, checkDecisionSignature, signedFieldsOf, toMilliseconds } from '../core';
import type { CallReview, Decision, DecisionChannel, HitlInterrupt, HitlPolicy, InterruptResolution, SignedBy, ToolCall, TrustedKey } from '../core';

export type DecisionCheck =
  | {
      ok: true;
      interrupt: HitlInterrupt;
      signedBy?: SignedBy;
      /** The digest of the arguments the decision was made on (the interrupt's, when checked). */
      decidedOnDigest: string;
      /** A grant's time to live in milliseconds (the request's, capped by the policy), when it has one. */
      grantTtlMs?: number;
    }
  | { ok: false; reason: string; errorType: string; interrupt?: HitlInterrupt };

/** How a decision arrived, kept with its resolution. */
export interface DecisionArrival {
  via: DecisionChannel;
  updateId?: string;
}

/** The worker's verdict on an edit's arguments: the policy that applies to them (`null`: none). */
export interface EditReview {
  policy: HitlPolicy | null;
  review?: CallReview;
}

/** What applying an edit did: decided the call, or kept the edit and left it waiting for a stricter approval. */
export type EditResult = { type: 'decided'; resolution: InterruptResolution } | { type: 'escalated'; interrupt: HitlInterrupt };

const policyTtlCap = (policy: HitlPolicy): number | undefined =>
  typeof policy.grants === 'object' && policy.grants.maxTtl !== undefined ? toMilliseconds(policy.grants.maxTtl) : undefined;

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
  open(call: Pick<ToolCall, 'id' | 'name'>, args: unknown, policy: HitlPolicy, turn: number, now: number, askReason?: string): HitlInterrupt {
    const interrupt: HitlInterrupt = {
      id: interruptIdOf(turn, call.id),
      toolName: call.name,
      toolArgs: args,
      argsDigest: argsDigest(args),
      policyNote: policy.note,
      createdAt: new Date(now).toISOString(),
      deadline: policy.timeout === undefined ? undefined : new Date(now + toMilliseconds(policy.timeout)).toISOString(),
      toolCallId: call.id,
      turn,
      policy,
      ...(askReason !== undefined && { askReason }),
      callDigest: callDigest(call.name, args, policy),
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
    const policy = interrupt.policy;
    if (decision.toolName !== undefined && decision.toolName !== interrupt.toolName) {
      return refuse(ErrorType.DecisionEditInvalid, `A decision cannot change the tool: interrupt '${interrupt.id}' calls '${interrupt.toolName}'`);
    }
    // A decision made on what the call was before an edit is stale, whoever made it: say so first.
    const digest = interrupt.argsDigest ?? argsDigest(interrupt.toolArgs);
    const changed = `The call changed since you looked: interrupt '${interrupt.id}' now holds other arguments or another policy; look at it again`;
    if (decision.argsDigest !== undefined && decision.argsDigest !== digest) return refuse(ErrorType.DecisionArgumentsChanged, changed);
    if (decision.callDigest !== undefined && decision.callDigest !== (interrupt.callDigest ?? callDigest(interrupt.toolName, interrupt.toolArgs, policy))) {
      return refuse(ErrorType.DecisionArgumentsChanged, changed);
    }
    const allowed = policy.approvers;
    if (allowed && allowed.length > 0 && !allowed.includes(decision.approver)) {
      return refuse(ErrorType.DecisionNotAllowed, `That approver may not decide '${interrupt.toolName}': allowed approvers are ${allowed.join(', ')}`);
    }
    const actions = allowedActions(policy);
    if (!actions.includes(decision.action as never)) {
      return refuse(ErrorType.DecisionNotAllowed, `The policy of '${interrupt.toolName}' does not allow '${decision.action}' decisions (allowed: ${actions.join(', ')})`);
    }
    let grantTtlMs: number | undefined;
    if (decision.grant) {
      if (!allowsGrants(policy)) return refuse(ErrorType.GrantNotAllowed, `The policy of '${interrupt.toolName}' does not allow grants`);
      const cap = policyTtlCap(policy);
      grantTtlMs = decision.grant.ttl !== undefined ? toMilliseconds(decision.grant.ttl) : cap;
      if (cap !== undefined && grantTtlMs !== undefined && grantTtlMs > cap) {
        return refuse(ErrorType.GrantNotAllowed, `A grant on '${interrupt.toolName}' may last at most ${String((policy.grants as { maxTtl: string | number }).maxTtl)}`);
      }
    }
    const passed = { ok: true as const, interrupt, decidedOnDigest: digest, ...(grantTtlMs !== undefined && { grantTtlMs }) };
    if (!decision.signature) {
      if (policy.requireSignature) {
        return refuse(ErrorType.DecisionSignatureRequired, `The policy of '${interrupt.toolName}' requires a signed decision (an approver key or the approval service)`);
      }
      return passed;
    }
    const verified = checkDecisionSignature(signedFieldsOf(decision, this.threadId, digest), decision.signature, this.trustedKeys());
    if (!verified.ok) return refuse(ErrorType.DecisionSignatureInvalid, verified.reason);
    const { keyId, kind, owner } = verified.key;
    return { ...passed, signedBy: { keyId, kind, owner } };
  }

  /** Applies an accept, reject or respond that passed `check`. */
  apply(check: Extract<DecisionCheck, { ok: true }>, decision: Decision, arrival: DecisionArrival, now: number): InterruptResolution {
    const at = new Date(now).toISOString();
    const origin = originOf(check, decision, arrival);
    const interrupt = check.interrupt;
    switch (decision.action) {
      case 'accept':
        interrupt.resolution = { type: 'accepted', at, ...origin };
        break;
      case 'respond':
        interrupt.resolution = { type: 'responded', at, ...origin, message: decision.message ?? '' };
        break;
      default:
        interrupt.resolution = { type: 'rejected', at, ...origin };
    }
    return interrupt.resolution;
  }

  /**
   * Applies an edit that passed `check`, with the worker's verdict on its arguments. The edit
   * decides the call when the editor may approve the edited call under the policy evaluated on it;
   * otherwise the call keeps the edited arguments and the stricter policy and waits for a person
   * who may.
   */
  applyEdit(check: Extract<DecisionCheck, { ok: true }>, decision: Decision, verdict: EditReview, arrival: DecisionArrival, now: number): EditResult {
    const at = new Date(now).toISOString();
    const interrupt = check.interrupt;
    const args = decision.args;
    const digest = argsDigest(args);
    const origin = originOf(check, decision, arrival);
    interrupt.originalArgs ??= interrupt.toolArgs;
    interrupt.toolArgs = args;
    interrupt.argsDigest = digest;
    const policy = verdict.policy;
    const editorMayApprove =
      !policy ||
      policy.allowAuto ||
      ((!policy.approvers?.length || policy.approvers.includes(decision.approver)) &&
        (!policy.requireSignature || check.signedBy !== undefined) &&
        allowedActions(policy).includes('edit'));
    if (editorMayApprove) {
      interrupt.callDigest = callDigest(interrupt.toolName, args, interrupt.policy);
      interrupt.resolution = { type: 'edited', at, ...origin, args, argsDigest: digest, decidedOnDigest: check.decidedOnDigest };
      return { type: 'decided', resolution: interrupt.resolution };
    }
    interrupt.policy = policy;
    interrupt.policyNote = policy.note;
    if (verdict.review?.ask) interrupt.askReason = verdict.review.reason;
    interrupt.callDigest = callDigest(interrupt.toolName, args, policy);
    (interrupt.edits ??= []).push({ at, ...origin, args, argsDigest: digest });
    return { type: 'escalated', interrupt };
  }

  /**
   * The user's new message answers what waits (`onMessageWhileWaiting: 'reject-pending'`): every
   * waiting call is rejected with the message as the reason. Returns them.
   */
  rejectPendingByMessage(message: string, reasonChars: number, now: number): HitlInterrupt[] {
    const pending = this.pending();
    const at = new Date(now).toISOString();
    const reason = message.length > reasonChars ? `${message.slice(0, reasonChars - 1)}…` : message;
    for (const interrupt of pending) interrupt.resolution = { type: 'rejected', at, approver: 'user', reason, via: 'message' };
    return pending;
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

/** Who decided and through what, kept with the resolution. */
function originOf(check: Extract<DecisionCheck, { ok: true }>, decision: Decision, arrival: DecisionArrival) {
  // Kept exactly as sent (a signature covers it), only an empty one is left out.
  const reason = decision.reason ? decision.reason : undefined;
  return {
    approver: decision.approver,
    ...(reason !== undefined && { reason }),
    ...(check.signedBy && decision.signature && { signedBy: check.signedBy, signature: decision.signature }),
    ...arrival,
  };
}
