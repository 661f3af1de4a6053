export { createWorker } from './create-worker';
export type { CreateWorkerOptions } from './create-worker';
