export { bundleAirlockWorkflows, createWorker } from './create-worker';
export type { CreateWorkerOptions } from './create-worker';
export { WellFormedFailureConverter } from './failure-converter';
export { ensureSearchAttributes } from './search-attribute-setup';
