/** Shared test plumbing: the run's dev server, the pre-built workflow bundle, workers scoped to a test. */
import { mkdtempSync, readFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection, Runtime, type Worker } from '@temporalio/worker';
import type { AirlockClient } from '../src/client';
import { createWorker, type CreateWorkerOptions } from '../src/worker';

let runtimeInstalled = false;

/** Keeps the SDK's own logs quiet unless they are warnings. Call once per test file. */
export function quietRuntime(): void {
  if (runtimeInstalled) return;
  runtimeInstalled = true;
  try {
    Runtime.install({ logger: new (require('@temporalio/worker').DefaultLogger)('WARN') });
  } catch {
    // Already installed by an earlier file in this process.
  }
}

/** The workflow bundle built once by the global setup. */
export function workflowBundle(): { code: string } {
  return { code: readFileSync(process.env.AIRLOCK_TEST_BUNDLE!, 'utf8') };
}

/** Connections to the run's dev server. Close them in `afterAll`. */
export async function connectToDevServer() {
  const address = process.env.AIRLOCK_TEST_ADDRESS!;
  const connection = await Connection.connect({ address });
  const nativeConnection = await NativeConnection.connect({ address });
  const client = new Client({ connection });
  return {
    address,
    connection,
    nativeConnection,
    client,
    close: async () => {
      await connection.close();
      await nativeConnection.close();
    },
  };
}

/** A name no other test uses: thread ids and task queues. */
export function unique(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

/** A fresh sandbox folder for the example tools. */
export function tempDir(prefix = 'airlock-test-'): string {
  return mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Creates a worker on the shared bundle and runs `fn` while it polls. */
export async function withWorker<T>(options: CreateWorkerOptions, fn: (worker: Worker) => Promise<T>): Promise<T> {
  const worker = await createWorker({ workflowBundle: workflowBundle(), ...options });
  return worker.runUntil(fn(worker));
}

/**
 * Ends threads a test started and waits until each has completed, so a failed test leaves nothing
 * waiting in the namespace's lists. Call it while the threads' worker still runs; a thread that
 * does not complete within `timeoutMs` is terminated. Threads already closed are left as they are.
 */
export async function endThreads(airlock: AirlockClient, threadIds: Iterable<string>, timeoutMs = 10_000): Promise<void> {
  await Promise.all(
    [...threadIds].map(async (threadId) => {
      const handle = airlock.handle(threadId);
      try {
        await airlock.endThread(threadId);
        await airlock.client.withDeadline(Date.now() + timeoutMs, () => handle.result());
      } catch {
        await handle.terminate('test clean-up').catch(() => undefined);
      }
    }),
  );
}

/** How many history events make a dedicated server suggest continue-as-new. */
export const SUGGEST_CONTINUE_AS_NEW_AT = 30;

/**
 * A dev server of a test file's own that suggests continue-as-new after a few dozen events, with
 * connections to it. Stop it with `close()` in `afterAll`.
 */
export async function startContinueAsNewServer(logName: string) {
  const { startDevServer } = await import('../src/devtools/dev-server');
  const { TEMPORAL_HOME } = await import('../src/devtools/temporal-binaries');
  const dev = await startDevServer({
    port: 0,
    uiPort: false,
    dbFilename: null,
    logFile: path.join(TEMPORAL_HOME, `${logName}.log`),
    extraArgs: ['--dynamic-config-value', `limit.historyCount.suggestContinueAsNew=${SUGGEST_CONTINUE_AS_NEW_AT}`],
  });
  const connection = await Connection.connect({ address: dev.address });
  const nativeConnection = await NativeConnection.connect({ address: dev.address });
  return {
    dev,
    connection,
    nativeConnection,
    client: new Client({ connection }),
    close: async () => {
      await connection.close();
      await nativeConnection.close();
      await dev.stop();
    },
  };
}

/** Reads `read` until `holds` accepts the value (visibility is eventually consistent), then returns it; after `timeoutMs` the last value. */
export async function until<T>(read: () => Promise<T> | T, holds: (value: T) => boolean, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (holds(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}
