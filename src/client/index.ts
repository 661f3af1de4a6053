export { AirlockClient } from './airlock-client';
export type { AirlockClientOptions, ApprovalOptions, StartThreadOptions } from './airlock-client';
export { ensureSearchAttributes } from './search-attribute-setup';
