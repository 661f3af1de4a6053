export { bundleAirlockWorkflows, createWorker } from './create-worker';
export type { CreateWorkerOptions } from './create-worker';
export { DEFAULT_HEAP_GROWTH_PERCENT, limitHeapGrowth } from './heap-growth';
export { ensureSearchAttributes } from './search-attribute-setup';
