/**
 * The thread's grants: standing permissions an approver gave with an accept, for later calls of
 * the same tool whose arguments match. Deterministic, no I/O. A grant never reaches past the
 * policy: each call is matched against the policy evaluated on its own arguments.
 */
import { ErrorType, allowedActions, allowsGrants, grantMatches } from '../core';
import type { Decision, GrantRevocation, HitlInterrupt, HitlPolicy, SignedBy, ToolGrant } from '../core';

export class GrantBook {
  private readonly byId = new Map<string, ToolGrant>();

  /** @param carried grants still active when the previous run continued as new */
  constructor(carried: readonly ToolGrant[] = []) {
    for (const grant of carried) this.byId.set(grant.id, { ...grant });
  }

  /** Every grant, oldest first. */
  all(): ToolGrant[] {
    return [...this.byId.values()];
  }

  /** Grants that have neither been revoked nor expired. */
  active(): ToolGrant[] {
    return this.all().filter((grant) => !grant.ended);
  }

  /** Issues the grant a decision asked for, on the interrupt it decided. */
  issue(interrupt: HitlInterrupt, decision: Decision, decidedOnDigest: string, signedBy: SignedBy | undefined, ttlMs: number | undefined, now: number): ToolGrant {
    const grant: ToolGrant = {
      id: `g-${interrupt.id}`,
      toolName: interrupt.toolName,
      match: { ...decision.grant!.match },
      interruptId: interrupt.id,
      grantedBy: decision.approver,
      decision,
      decidedOnDigest,
      ...(signedBy && { signedBy }),
      createdAt: new Date(now).toISOString(),
      ...(ttlMs !== undefined && { expiresAt: new Date(now + ttlMs).toISOString() }),
      uses: 0,
    };
    this.byId.set(grant.id, grant);
    return grant;
  }

  /**
   * The active grant that lets this call run without asking, if any: same tool, every pattern
   * matches, not expired, and the policy evaluated on these arguments allows grants, lets the
   * granter approve, and (when it requires signatures) the grant was signed.
   */
  covering(toolName: string, args: unknown, policy: HitlPolicy, now: number): ToolGrant | undefined {
    if (!allowsGrants(policy) || !allowedActions(policy).includes('accept')) return undefined;
    return this.active().find(
      (grant) =>
        grant.toolName === toolName &&
        (grant.expiresAt === undefined || Date.parse(grant.expiresAt) > now) &&
        (!policy.approvers?.length || policy.approvers.includes(grant.grantedBy)) &&
        (!policy.requireSignature || grant.signedBy !== undefined) &&
        grantMatches(grant, args),
    );
  }

  /** Ends a grant by its time to live; returns it, or `undefined` when it had already ended. */
  expire(grantId: string, now: number): ToolGrant | undefined {
    const grant = this.byId.get(grantId);
    if (!grant || grant.ended) return undefined;
    grant.ended = { type: 'expired', at: grant.expiresAt ?? new Date(now).toISOString() };
    return grant;
  }

  /**
   * Revokes a grant. The granter, or anyone the tool's current policy lets approve, may.
   * Refusals name only the thread's own ids.
   */
  revoke(request: GrantRevocation, policy: HitlPolicy | undefined, now: number): { ok: true; grant: ToolGrant } | { ok: false; errorType: string; reason: string } {
    const refusal = this.refusalOf(request, policy);
    if (refusal) return { ok: false, ...refusal };
    const grant = this.byId.get(request.grantId)!;
    grant.ended = { type: 'revoked', by: request.by, ...(request.reason ? { reason: request.reason } : {}), at: new Date(now).toISOString() };
    return { ok: true, grant };
  }

  /** Why `revoke` would refuse the request (changing nothing), or `undefined`. */
  refusalOf(request: GrantRevocation, policy: HitlPolicy | undefined): { errorType: string; reason: string } | undefined {
    const grant = this.byId.get(request.grantId);
    if (!grant) return { errorType: ErrorType.GrantNotFound, reason: 'No grant with that id in this thread' };
    if (grant.ended) return { errorType: ErrorType.GrantNotFound, reason: `Grant '${grant.id}' already ${grant.ended.type === 'revoked' ? 'was revoked' : 'expired'} at ${grant.ended.at}` };
    const approvers = policy?.approvers ?? [];
    if (approvers.length > 0 && request.by !== grant.grantedBy && !approvers.includes(request.by)) {
      return { errorType: ErrorType.DecisionNotAllowed, reason: `Only the granter or an approver of '${grant.toolName}' (${approvers.join(', ')}) may revoke this grant` };
    }
    return undefined;
  }

  /** The grant with this id, if the thread has one. */
  byIdOf(grantId: string): ToolGrant | undefined {
    return this.byId.get(grantId);
  }
}
