export { AirlockClient } from './airlock-client';
export type { AirlockClientOptions, ApprovalOptions, StartThreadOptions } from './airlock-client';
export { readAuditTrail } from './audit-trail';
export { listPendingApprovals } from './pending-approvals';
export type { PendingApproval } from './pending-approvals';
export { listRecentDecisions } from './recent-decisions';
export type { RecentDecisions, RecentDecisionsOptions } from './recent-decisions';
export { createSigningKey, loadSigningKey, loadTrustedKeys, trustedKeyOf } from './signing-keys';
export { toAirlockError } from './temporal-errors';
