import os from 'node:os';
import path from 'node:path';
import { Client, Connection } from '@temporalio/client';
import { NativeConnection } from '@temporalio/worker';
import { ErrorType, isAirlockError } from '../core';
import { osUserName, type Settings } from './config';
import { UsageError, type ParsedArgs } from './args';
import { toAirlockError } from '../client/temporal-errors';
import { AirlockClient, CLIENT_CHANNEL_ARGS } from '../client/airlock-client';
import { probeServer } from './server-probe';
import { dataConverterFor, payloadCodecFor } from './codec-setting';
import type { EncryptionCodec } from '../codec';

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

/** Where the programs connect: the settings' connection with the address resolved. */
export type CliTarget = Settings['temporal'] & { address: string };

/** The server the CLI talks to: the settings' (default `localhost:7233`). */
export function resolveTarget(settings: Settings): CliTarget {
  return { ...settings.temporal, address: settings.temporal.address ?? 'localhost:7233' };
}

/**
 * The options of a Temporal connection to `target`, the same for the client's `Connection.connect`
 * and the worker's `NativeConnection.connect` (their `tls`, `apiKey` and `metadata` have one shape).
 */
export function connectionOptions(target: Pick<CliTarget, 'address' | 'tls' | 'tlsConfig' | 'apiKey' | 'metadata'>) {
  return { address: target.address, tls: target.tls ? (target.tlsConfig ?? true) : undefined, apiKey: target.apiKey, metadata: target.metadata };
}

/** Where a program connects, in words for its log: the address, namespace, TLS, and the profile (never a secret). */
export function describeTarget(target: CliTarget): string {
  const tls = target.tlsConfig?.clientCertPair ? 'mTLS' : target.tls ? 'TLS' : undefined;
  const extras = [tls, target.apiKey ? 'API key' : undefined, target.profile ? `profile ${target.profile.name}` : undefined].filter(Boolean);
  return `${target.address} (namespace ${target.namespace}${extras.map((extra) => `, ${extra}`).join('')})`;
}

/** A worker's connection to `target`, or a failure that says why and what to change. */
export async function connectWorker(target: CliTarget): Promise<NativeConnection> {
  try {
    await probeServer(target);
    return await NativeConnection.connect(connectionOptions(target));
  } catch (err) {
    throw unreachable(target, err);
  }
}

/** Connects, or fails with a message that names the address and how to change it. */
export async function connect(
  target: CliTarget,
  role = 'airlock-cli',
  codec: EncryptionCodec | undefined = payloadCodecFor(target),
): Promise<{ client: Client; airlock: AirlockClient; close: () => Promise<void> }> {
  const dataConverter = dataConverterFor(codec);
  let connection: Connection;
  try {
    await probeServer(target);
    connection = await Connection.connect({ ...connectionOptions(target), connectTimeout: 5_000, channelArgs: CLIENT_CHANNEL_ARGS });
    await connection.workflowService.getSystemInfo({});
  } catch (err) {
    throw unreachable(target, err);
  }
  // The identity Temporal records with every signal and Update this process sends: the audit shows it.
  const client = new Client({ connection, namespace: target.namespace, identity: `${role} ${osUserName()}@${os.hostname()} pid ${process.pid}`, dataConverter });
  const airlock = new AirlockClient({ client, taskQueue: target.taskQueue });
  return { client, airlock, close: () => connection.close() };
}

/** The error for a server that does not answer, saying how to start one or point elsewhere. */
export function unreachable(target: CliTarget, err: unknown): CliError {
  const where = `${target.address}${target.profile ? ` (profile ${target.profile.name})` : ''}`;
  const reason = (err as Error).message.split('\n')[0];
  if (target.tls) return new CliError(`Cannot reach Temporal at ${where} over TLS (${reason}). TLS settings: docs/connecting.md.`);
  return new CliError(`Cannot reach Temporal at ${where} (${reason}). Start one with '${cliName()} dev-server', or set --address / TEMPORAL_ADDRESS.`);
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
