export { AirlockClient, decisionUpdateId } from './airlock-client';
export type { AirlockClientOptions, ApprovalOptions, StartThreadOptions } from './airlock-client';
export { readAuditTrail } from './audit-trail';
export { listPendingApprovals } from './pending-approvals';
export type { PendingApproval } from './pending-approvals';
export { createSigningKey, loadSigningKey, loadTrustedKeys, trustedKeyOf } from './signing-keys';
export { toAirlockError, translatingTemporalErrors } from './temporal-errors';
export { withWorkerDeadline } from './worker-deadline';
