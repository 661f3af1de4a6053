/** What the bench and its worker process tell each other. */

/** How the worker process is set up (passed as its only argument, JSON). */
export interface WorkerConfig {
  address: string;
  namespace: string;
  taskQueue: string;
  maxCachedWorkflows: number;
  /** The pre-built workflow bundle (`workflow-bundle.ts`). */
  workflowBundlePath: string;
  /** The bare workflow (the floor): its task queue and bundle. */
  bareTaskQueue: string;
  bareBundlePath: string;
}

export type ToWorker = { type: 'stop' } | { type: 'memory' };

export type FromWorker =
  | { type: 'ready' }
  /** The answer to `{ type: 'memory' }`: the worker process's `process.memoryUsage()`. */
  | { type: 'memory'; usage: NodeJS.MemoryUsage }
  /** The bench tool started: `at` is `nowMs()` in the worker process. */
  | { type: 'tool-started'; threadId: string; at: number };
