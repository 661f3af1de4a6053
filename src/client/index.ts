export { AirlockClient } from './airlock-client';
export type { AirlockClientOptions, ApprovalOptions, StartThreadOptions } from './airlock-client';
export { ensureSearchAttributes } from './search-attribute-setup';
export { readAuditTrail } from './audit-trail';
export { listPendingApprovals } from './pending-approvals';
export type { PendingApproval } from './pending-approvals';
export { runTerminalChat } from './terminal-chat';
export type { TerminalChatOptions } from './terminal-chat';
