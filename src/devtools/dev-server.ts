/**
 * Starting (or reusing) a local Temporal dev server: the `temporal` CLI from temporal-binaries,
 * state in a SQLite file, Airlock's search attributes registered at start.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, openSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { searchAttributeCliArgs } from '../core/search-attributes';
import { ensureSearchAttributes } from '../worker/search-attribute-setup';
import { findTemporalBinary, TEMPORAL_HOME } from './temporal-binaries';

export interface DevServerOptions {
  /** gRPC port; 0 picks a free one. Default 7233. */
  port?: number;
  /** Web UI port; 0 picks a free one; `false` runs headless. Default port + 1000. */
  uiPort?: number | false;
  /** SQLite state file; `null` keeps state in memory. Default `.temporal/dev-server.db`. */
  dbFilename?: string | null;
  namespace?: string;
  /** More `temporal server start-dev` arguments, e.g. `--dynamic-config-value K=V`. */
  extraArgs?: string[];
  /** Where the server's own output goes. Default `.temporal/dev-server.log`. */
  logFile?: string;
  /** How long to wait for the server to answer. Default 60 s. */
  readyTimeoutMs?: number;
  /**
   * SQLite's `synchronous` setting for the state file (WAL journal). `NORMAL` (default) measures
   * fastest while losing nothing when a process crashes: a commit is in the WAL file, which the OS
   * holds; on power loss or an OS crash the last commits before it may be lost (the file stays
   * consistent). `FULL` syncs the WAL on every commit: nothing committed is lost on power loss
   * either, at a cost per write. (`OFF` is never used: it can corrupt the file on power loss.)
   */
  sqliteSynchronous?: 'NORMAL' | 'FULL';
}

export interface DevServer {
  address: string;
  namespace: string;
  /** Web UI address, when the UI runs. */
  uiUrl?: string;
  /** True when this call started the server (and `stop` ends it). */
  started: boolean;
  stop(): Promise<void>;
}

export const DEFAULT_DB_FILE = path.join(TEMPORAL_HOME, 'dev-server.db');

/** A free TCP port on 127.0.0.1. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.unref();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** True when a Temporal frontend answers at the address and has the namespace. */
async function isServerUp(address: string, namespace: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 }).catch(() => undefined);
  if (!connection) return false;
  try {
    await connection.workflowService.describeNamespace({ namespace });
    return true;
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

/**
 * Reuses a server already answering at `127.0.0.1:<port>`, or starts one.
 * Either way the search attributes are registered before this returns.
 */
export async function ensureDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port ?? 7233;
  if (port !== 0 && (await isServerUp(`127.0.0.1:${port}`, namespace))) {
    const address = `127.0.0.1:${port}`;
    await withConnection(address, (connection) => ensureSearchAttributes(connection, namespace));
    const uiPort = options.uiPort === undefined ? port + 1000 : options.uiPort;
    return { address, namespace, uiUrl: uiPort ? `http://127.0.0.1:${uiPort}` : undefined, started: false, stop: async () => undefined };
  }
  return startDevServer({ ...options, port });
}

/** Starts a dev server and waits until it answers. */
export async function startDevServer(options: DevServerOptions = {}): Promise<DevServer> {
  const namespace = options.namespace ?? 'default';
  const port = options.port || (await freePort());
  const uiPort = options.uiPort === false ? false : options.uiPort || (options.uiPort === 0 ? await freePort() : port + 1000);
  const dbFilename = options.dbFilename === undefined ? DEFAULT_DB_FILE : options.dbFilename;
  const args = ['server', 'start-dev', '--ip', '127.0.0.1', '--port', String(port), '--namespace', namespace, '--log-level', 'warn'];
  args.push(...(uiPort === false ? ['--headless'] : ['--ui-port', String(uiPort), '--ui-disable-news-fetch']));
  if (dbFilename) {
    mkdirSync(path.dirname(dbFilename), { recursive: true });
    args.push('--db-filename', dbFilename, '--sqlite-pragma', 'journal_mode=WAL', '--sqlite-pragma', `synchronous=${options.sqliteSynchronous ?? 'NORMAL'}`);
  }
  // The dev server reads its single history shard's transfer queue 20 times a second by default,
  // which delays each workflow task handed out that way by up to ~50 ms (bench/RESULTS.md).
  args.push('--dynamic-config-value', 'history.transferProcessorMaxPollRPS=1000');
  // The dev server reads the search attributes' definitions from its database at every use, so that
  // one added by hand works at once; a production server caches them. Airlock's are registered as the
  // server starts, and reading them again made each workflow task that sets one (a decision's, whose
  // tool activity waits for it) about 0.6 ms slower (bench/RESULTS.md). One added later by hand
  // works once the cache refreshes.
  args.push('--dynamic-config-value', 'system.forceSearchAttributesCacheRefreshOnRead=false');
  args.push(...searchAttributeCliArgs(), ...(options.extraArgs ?? []));

  const logFile = options.logFile ?? path.join(TEMPORAL_HOME, 'dev-server.log');
  mkdirSync(path.dirname(logFile), { recursive: true });
  const out = openSync(logFile, 'a');
  const child = spawn(findTemporalBinary('cli'), args, { stdio: ['ignore', out, out] });
  const address = `127.0.0.1:${port}`;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  // However this process ends (an error, process.exit from a signal handler, even during start-up), the server it started stops too.
  const stopOnExit = () => child.kill('SIGTERM');
  process.once('exit', stopOnExit);
  child.once('exit', () => process.off('exit', stopOnExit));

  const deadline = Date.now() + (options.readyTimeoutMs ?? 60_000);
  for (;;) {
    if (child.exitCode !== null) throw new Error(`temporal server start-dev exited with code ${child.exitCode}; see ${logFile}`);
    if (await isServerUp(address, namespace)) break;
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`temporal server start-dev did not answer at ${address} in time; see ${logFile}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return {
    address,
    namespace,
    uiUrl: uiPort === false ? undefined : `http://127.0.0.1:${uiPort}`,
    started: true,
    stop: () => stopProcess(child, exited),
  };
}

async function stopProcess(child: ChildProcess, exited: Promise<number | null>): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

async function withConnection<T>(address: string, fn: (connection: Connection) => Promise<T>): Promise<T> {
  const connection = await Connection.connect({ address });
  try {
    return await fn(connection);
  } finally {
    await connection.close();
  }
}
