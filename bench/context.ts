import type { AirlockClient } from '../src/client';
import type { ThreadDriver } from './drivers';
import type { Memory } from './memory';
import type { ToolLog } from './tool-log';

/** What every bench phase works with. */
export interface BenchContext {
  airlock: AirlockClient;
  /** Airlock's threads. */
  driver: ThreadDriver;
  /** The bare Temporal workflow with the same steps: the floor. */
  bare: ThreadDriver;
  /** Tool runs as the worker process reports them. */
  tools: ToolLog;
  /** Process ids whose memory and CPU time are read. */
  pids: { server: number; worker: number };
  /** Memory of the worker process and the dev server now. */
  measureMemory(): Promise<Memory>;
  /** Starts a new peak (VmHWM) for the worker and the dev server: peaks read later belong to what follows. */
  resetPeakMemory(): void;
  /** Makes thread ids unique to this run. */
  runId: string;
}
