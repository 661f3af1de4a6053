import os from 'node:os';
import { Client, Connection } from '@temporalio/client';
import { DEFAULT_TASK_QUEUE, ErrorType, isAirlockError } from '../core';
import { toAirlockError } from '../client/temporal-errors';
import { AirlockClient } from '../client/airlock-client';
import type { ParsedArgs } from './args';

/** Exit codes: 0 done, 1 failed, 2 bad usage, 3 decision refused. */
export const EXIT = { ok: 0, failed: 1, usage: 2, refused: 3 } as const;

/** A failure to report in one line, with an exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: number = EXIT.failed,
  ) {
    super(message);
    this.name = 'CliError';
  }
}

/** Where the CLI connects, from flags, then `TEMPORAL_ADDRESS` / `TEMPORAL_NAMESPACE` / `TEMPORAL_TASK_QUEUE`. */
export interface CliTarget {
  address: string;
  namespace: string;
  taskQueue: string;
  apiKey?: string;
  tls: boolean;
}

export function resolveTarget(args: ParsedArgs, env: NodeJS.ProcessEnv): CliTarget {
  return {
    address: args.options.address ?? env.TEMPORAL_ADDRESS ?? 'localhost:7233',
    namespace: args.options.namespace ?? env.TEMPORAL_NAMESPACE ?? 'default',
    taskQueue: args.options['task-queue'] ?? env.TEMPORAL_TASK_QUEUE ?? DEFAULT_TASK_QUEUE,
    apiKey: env.TEMPORAL_API_KEY || undefined,
    tls: env.TEMPORAL_TLS === 'true' || env.TEMPORAL_TLS === '1' || Boolean(env.TEMPORAL_API_KEY),
  };
}

/** Connects, or fails with a message that names the address and how to change it. */
export async function connect(target: CliTarget, role = 'airlock-cli'): Promise<{ client: Client; airlock: AirlockClient; close: () => Promise<void> }> {
  let connection: Connection;
  try {
    connection = await Connection.connect({ address: target.address, tls: target.tls || undefined, apiKey: target.apiKey, connectTimeout: 5_000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw unreachable(target, err);
  }
  // The identity Temporal records with every signal and Update this process sends: the audit shows it.
  const client = new Client({ connection, namespace: target.namespace, identity: `${role} ${safeUserName()}@${os.hostname()} pid ${process.pid}` });
  const airlock = new AirlockClient({ client, taskQueue: target.taskQueue });
  return { client, airlock, close: () => connection.close() };
}

/** The error for a server that does not answer, saying how to start one or point elsewhere. */
export function unreachable(target: CliTarget, err: unknown): CliError {
  return new CliError(`Cannot reach Temporal at ${target.address} (${(err as Error).message}). Start one with 'airlock dev-server', or set --address / TEMPORAL_ADDRESS.`);
}

/** Resolves when the process is asked to stop (Ctrl-C, SIGTERM). */
export function stopRequested(): Promise<void> {
  return new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, () => resolve())));
}

/** The approver name: `--as`, else `AIRLOCK_APPROVER`, else the OS user. */
export function approverName(args: ParsedArgs, env: NodeJS.ProcessEnv): string {
  if (args.options.as) return args.options.as;
  if (env.AIRLOCK_APPROVER) return env.AIRLOCK_APPROVER;
  return safeUserName();
}

function safeUserName(): string {
  try {
    return os.userInfo().username;
  } catch {
    return 'cli';
  }
}

/** Turns what Temporal throws about a thread into Airlock's errors, and those into a one-line failure. */
export async function onThread<T>(threadId: string, namespace: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    const error = toAirlockError(err, threadId);
    if (isAirlockError(error, ErrorType.ThreadNotFound)) throw new CliError(`No thread '${threadId}' in namespace '${namespace}'`);
    if (isAirlockError(error)) throw new CliError(`${error.type}: ${error.message}`);
    throw error;
  }
}
