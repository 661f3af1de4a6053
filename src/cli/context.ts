import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { ErrorType, isAirlockError } from '../core';
import { osUserName, type Settings } from './config';
import { UsageError, type ParsedArgs } from './args';
import { toAirlockError } from '../client/temporal-errors';
import { AirlockClient } from '../client/airlock-client';
import { dataConverterFor } from './codec-setting';

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
  /** History encryption keys; absent: history in the clear. */
  codecKeys?: Settings['temporal']['codecKeys'];
}

/** The server the CLI talks to: the settings' (default `localhost:7233`). */
export function resolveTarget(settings: Settings): CliTarget {
  return { ...settings.temporal, address: settings.temporal.address ?? 'localhost:7233' };
}

/** The options of a Temporal connection (client or worker) to `target`. */
export function connectionOptions(target: Pick<CliTarget, 'address' | 'tls' | 'apiKey'>) {
  return { address: target.address, tls: target.tls || undefined, apiKey: target.apiKey };
}

/** Connects, or fails with a message that names the address and how to change it. */
export async function connect(target: CliTarget, role = 'airlock-cli'): Promise<{ client: Client; airlock: AirlockClient; close: () => Promise<void> }> {
  const dataConverter = dataConverterFor(target);
  let connection: Connection;
  try {
    await probeTcp(target.address);
    connection = await Connection.connect({ ...connectionOptions(target), connectTimeout: 5_000 });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw unreachable(target, err);
  }
  // The identity Temporal records with every signal and Update this process sends: the audit shows it.
  const client = new Client({ connection, namespace: target.namespace, identity: `${role} ${osUserName()}@${os.hostname()} pid ${process.pid}`, dataConverter });
  const airlock = new AirlockClient({ client, taskQueue: target.taskQueue });
  return { client, airlock, close: () => connection.close() };
}

/**
 * Opens (and closes) a plain TCP connection: a refused connection or an unknown host fails at once,
 * where the gRPC channel would keep retrying until its deadline.
 */
function probeTcp(address: string, timeoutMs = 5_000): Promise<void> {
  const match = /^(.*):(\d+)$/.exec(address);
  if (!match) return Promise.resolve();
  const host = match[1].replace(/^\[(.*)\]$/, '$1');
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port: Number(match[2]), timeout: timeoutMs });
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('timeout', () => {
      socket.destroy();
      reject(new Error(`no answer within ${timeoutMs / 1000}s`));
    });
    socket.once('error', (err: NodeJS.ErrnoException) => reject(new Error(err.code === 'ECONNREFUSED' ? 'connection refused' : err.code === 'ENOTFOUND' ? 'unknown host' : err.message)));
  });
}

/** The error for a server that does not answer, saying how to start one or point elsewhere. */
export function unreachable(target: CliTarget, err: unknown): CliError {
  return new CliError(`Cannot reach Temporal at ${target.address} (${(err as Error).message}). Start one with '${cliName()} dev-server', or set --address / TEMPORAL_ADDRESS.`);
}

/**
 * How the user runs this CLI, for hints: `npx airlock` when the program lives inside the current
 * project (its node_modules, or this package itself), `airlock` when it is installed elsewhere.
 */
export function cliName(): string {
  const program = path.resolve(process.argv[1] ?? '');
  return program.startsWith(process.cwd() + path.sep) ? 'npx airlock' : 'airlock';
}

/** Resolves when the process is asked to stop (Ctrl-C, SIGTERM). */
export function stopRequested(): Promise<void> {
  return new Promise((resolve) => ['SIGINT', 'SIGTERM'].forEach((signal) => process.once(signal, () => resolve())));
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

/** The command's positional arguments, exactly `names` of them. @throws UsageError otherwise */
export function positionals(args: Pick<ParsedArgs, 'positionals'>, names: string[]): string[] {
  if (args.positionals.length !== names.length) {
    throw new UsageError(`Expected ${names.map((name) => `<${name}>`).join(' ')}, got ${args.positionals.length} argument(s)`);
  }
  return args.positionals;
}

/** Connects to the settings' server, runs `fn`, and closes the connection. */
export async function withConnection<T>(settings: Settings, fn: (connected: Awaited<ReturnType<typeof connect>>, target: CliTarget) => Promise<T>): Promise<T> {
  const target = resolveTarget(settings);
  const connected = await connect(target);
  try {
    return await fn(connected, target);
  } finally {
    await connected.close();
  }
}
