/** Starting the worker process, hearing from it, and stopping it. */
import { fork } from 'node:child_process';
import path from 'node:path';
import type { FromWorker, ToWorker, WorkerConfig } from './ipc';
import { ToolLog } from './tool-log';

export interface WorkerLink {
  pid: number;
  tools: ToolLog;
  /** The worker process's `process.memoryUsage()`. */
  memoryUsage(): Promise<NodeJS.MemoryUsage>;
  /** Rejects if the worker process exits before `stop()`; never resolves. */
  died: Promise<never>;
  stop(): Promise<void>;
}

const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;

/** Forks `worker-process.js` and waits until its worker runs. */
export async function startWorkerProcess(config: WorkerConfig): Promise<WorkerLink> {
  const child = fork(path.join(__dirname, 'worker-process.js'), [JSON.stringify(config)], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const tools = new ToolLog();
  let stopping = false;
  const exited = new Promise<string>((resolve) => child.once('exit', (code, signal) => resolve(signal ? `signal ${signal}` : `code ${code}`)));
  const died = exited.then((how): never => {
    throw new Error(`The worker process exited (${how})${stopping ? ' while stopping' : ''}`);
  });
  died.catch(() => undefined);

  const memoryWaiters: Array<(usage: NodeJS.MemoryUsage) => void> = [];
  const ready = new Promise<void>((resolve) => {
    child.on('message', (message: FromWorker) => {
      if (message.type === 'ready') resolve();
      else if (message.type === 'memory') memoryWaiters.shift()?.(message.usage);
      else tools.record(message.threadId, message.at);
    });
  });
  const memoryUsage = () =>
    Promise.race([
      new Promise<NodeJS.MemoryUsage>((resolve) => {
        memoryWaiters.push(resolve);
        child.send({ type: 'memory' } satisfies ToWorker);
      }),
      died,
    ]);
  const stop = async () => {
    stopping = true;
    if (child.exitCode !== null || child.signalCode !== null) return;
    if (child.connected) child.send({ type: 'stop' } satisfies ToWorker);
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
    await exited;
    clearTimeout(timer);
  };

  try {
    await withTimeout(Promise.race([ready, died]), READY_TIMEOUT_MS, 'The worker process did not get ready in time');
  } catch (err) {
    await stop();
    throw err;
  }
  return { pid: child.pid!, tools, memoryUsage, died, stop };
}

async function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
