/** Starting a crash-matrix worker process and killing it (SIGKILL: no shutdown, nothing flushed). */
import { fork, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import type { CrashWorkerConfig } from './crash-worker-process';

const READY_TIMEOUT_MS = 120_000;

export interface CrashWorker {
  pid: number;
  /** Whether it still runs. */
  alive(): boolean;
  /** SIGKILLs the process and waits until it is gone. */
  kill(): Promise<void>;
}

/** Every worker process started here, so that a failed run leaves none behind (`killAllWorkers`). */
const started = new Set<ChildProcess>();

/**
 * Forks `crash-worker-process.js` (compiled: `npm run build`) and waits until its worker runs.
 * @throws Error when the process exits or is not ready within two minutes
 */
export async function startCrashWorker(config: CrashWorkerConfig): Promise<CrashWorker> {
  const script = workerScript();
  const child = fork(script, [JSON.stringify(config)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  started.add(child);
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  void exited.then(() => started.delete(child));
  const kill = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  let timer: NodeJS.Timeout | undefined;
  try {
    await new Promise<void>((resolve, reject) => {
      timer = setTimeout(() => reject(new Error('The crash-matrix worker did not get ready in time')), READY_TIMEOUT_MS);
      child.on('message', (message: { type?: string }) => message.type === 'ready' && resolve());
      child.once('exit', (code, signal) => reject(new Error(`The crash-matrix worker exited before it was ready (${signal ?? code})`)));
    });
  } catch (err) {
    await kill();
    throw err;
  } finally {
    clearTimeout(timer);
  }
  return { pid: child.pid!, alive: () => child.exitCode === null && child.signalCode === null, kill };
}

/** SIGKILLs every worker process still running. */
export async function killAllWorkers(): Promise<void> {
  await Promise.all(
    [...started].map(async (child) => {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      if (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')) await exited;
    }),
  );
}

/** The compiled worker script: beside this file when it runs compiled, in dist/ when it runs from source (jest). */
function workerScript(): string {
  const beside = path.join(__dirname, 'crash-worker-process.js');
  if (existsSync(beside)) return beside;
  const compiled = path.join(__dirname, '../../dist/bench/crash/crash-worker-process.js');
  if (!existsSync(compiled)) throw new Error(`No ${compiled}: run npm run build first`);
  return compiled;
}
