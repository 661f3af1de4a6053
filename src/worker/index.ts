export { bundleAirlockWorkflows, createWorker } from './create-worker';
export type { CreateWorkerOptions } from './create-worker';
export { ensureSearchAttributes } from './search-attribute-setup';
