import { readMemory, type ProcessMemory } from './proc-stats';
import { round } from './stats';

/**
 * The worker's resident memory, and its main thread's JavaScript heap (`process.memoryUsage()`).
 * Workflow code runs in a worker thread whose heap is not in these heap figures, only in the RSS.
 */
export interface WorkerMemory extends ProcessMemory {
  heapUsedMb: number;
  heapTotalMb: number;
  /** Memory of C++ objects bound to JavaScript objects (`process.memoryUsage().external`). */
  externalMb: number;
}

/** Memory of the worker process and of the dev server. */
export interface Memory {
  worker: WorkerMemory;
  server: ProcessMemory;
}

const MIB = 2 ** 20;

export async function measureMemory(pids: { server: number; worker: number }, workerUsage: () => Promise<NodeJS.MemoryUsage>): Promise<Memory> {
  const usage = await workerUsage();
  return {
    worker: {
      ...readMemory(pids.worker),
      heapUsedMb: round(usage.heapUsed / MIB),
      heapTotalMb: round(usage.heapTotal / MIB),
      externalMb: round(usage.external / MIB),
    },
    server: readMemory(pids.server),
  };
}
