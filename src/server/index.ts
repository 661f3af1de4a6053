export { createApprovalServer } from './approval-server';
export type { ApprovalServer, ApprovalServerOptions, ListenOptions } from './approval-server';
export { createApproverTokens, loadApproverTokens } from './auth';
export type { ApproverTokens, TokenSources } from './auth';
export { openApiDocument } from './openapi';
export type { CodecEndpointOptions } from './codec-routes';
