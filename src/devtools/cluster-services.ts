/**
 * One Temporal service (frontend, history, matching, worker, internal-frontend) as a detached
 * process of the `server` binary, configured by `deploy/temporal/config.yaml` through environment
 * variables, with a pid file and a log of its own.
 */
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { waitUntil } from './wait-until';

export const CLUSTER_SERVICES = ['history', 'matching', 'worker', 'frontend', 'internal-frontend'] as const;
export type ClusterService = (typeof CLUSTER_SERVICES)[number];

/** The ports of one service. */
export interface ServicePorts {
  grpc: number;
  membership: number;
  /** The frontends' HTTP API. */
  http?: number;
}

/** What a service process needs to start: the binary, the config and the values it reads. */
export interface ServiceLaunch {
  serverBinary: string;
  configFile: string;
  /** Folder of the pid files and logs. */
  dir: string;
  /** The environment the config file reads (ports, PostgreSQL, TLS). */
  env: Record<string, string>;
}

/** The gRPC health-check name each service reports under (from the server's source). */
const HEALTH_NAMES: Record<ClusterService, string> = {
  history: 'temporal.api.workflowservice.v1.HistoryService',
  matching: 'temporal.api.workflowservice.v1.MatchingService',
  worker: 'temporal.api.workflowservice.v1.WorkerService',
  frontend: 'temporal.api.workflowservice.v1.WorkflowService',
  'internal-frontend': 'temporal.api.workflowservice.v1.WorkflowService',
};

/** The environment variable names of a service's ports in the config file. */
export function portVariables(service: ClusterService, ports: ServicePorts): Record<string, string> {
  const prefix = service.toUpperCase().replace('-', '_');
  const env: Record<string, string> = { [`${prefix}_GRPC_PORT`]: String(ports.grpc), [`${prefix}_MEMBERSHIP_PORT`]: String(ports.membership) };
  if (ports.http) env[`${prefix}_HTTP_PORT`] = String(ports.http);
  return env;
}

export const serviceLogFile = (dir: string, service: ClusterService) => path.join(dir, `${service}.log`);
const pidFile = (dir: string, service: ClusterService) => path.join(dir, `${service}.pid`);

/** The pid of the service's process when it runs (its pid file names a live `server` process of this service). */
export function runningPid(dir: string, service: ClusterService): number | undefined {
  if (!existsSync(pidFile(dir, service))) return undefined;
  const pid = Number(readFileSync(pidFile(dir, service), 'utf8').trim());
  if (!Number.isInteger(pid) || pid <= 0) return undefined;
  try {
    // Guard against a reused pid: the process must be this very service.
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    const serviceAt = args.indexOf('--service');
    return serviceAt >= 0 && args[serviceAt + 1] === service && !isZombie(pid) ? pid : undefined;
  } catch {
    return undefined;
  }
}

function isZombie(pid: number): boolean {
  try {
    return /\)\s+Z\s/.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return true;
  }
}

/** Starts the service's process, detached, unless it runs. Returns its pid. */
export function startService(service: ClusterService, launch: ServiceLaunch): number {
  const running = runningPid(launch.dir, service);
  if (running) return running;
  const out = openSync(serviceLogFile(launch.dir, service), 'a');
  const child = spawn(launch.serverBinary, ['--config-file', launch.configFile, '--allow-no-auth', 'start', '--service', service], {
    detached: true,
    stdio: ['ignore', out, out],
    // Only what the config file reads, and PATH: nothing of the caller's environment leaks into the server's configuration.
    env: { PATH: '/usr/local/bin:/usr/bin:/bin', ...launch.env },
    cwd: launch.dir,
  });
  closeSync(out);
  child.unref();
  if (!child.pid) throw new Error(`Could not start the Temporal ${service} service (${launch.serverBinary})`);
  writeFileSync(pidFile(launch.dir, service), `${child.pid}\n`);
  return child.pid;
}

/**
 * Ends the service's process: SIGTERM, then SIGKILL after `graceMs`; or at once with `signal: 'SIGKILL'`
 * (a crash, as the durability tests want it). Waits until it is gone.
 */
export async function stopService(dir: string, service: ClusterService, options: { signal?: 'SIGTERM' | 'SIGKILL'; graceMs?: number } = {}): Promise<void> {
  const pid = runningPid(dir, service);
  if (pid) {
    signal(pid, options.signal ?? 'SIGTERM');
    const gone = () => runningPid(dir, service) === undefined;
    try {
      await waitUntil(gone, { timeoutMs: options.graceMs ?? 20_000, what: `the ${service} service to stop`, intervalMs: 100 });
    } catch {
      signal(pid, 'SIGKILL');
      await waitUntil(gone, { timeoutMs: 10_000, what: `the ${service} service to die after SIGKILL`, logFile: serviceLogFile(dir, service) });
    }
  }
  rmSync(pidFile(dir, service), { force: true });
}

/** Sends a signal to a process that may have ended meanwhile. */
function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ESRCH') throw err;
  }
}

/**
 * Waits until the service reports SERVING on its gRPC health check (history: once it owns its
 * shards), or, for a frontend that speaks TLS, until it accepts connections.
 * @throws Error naming the service's log when it exits or the deadline passes
 */
export async function waitForService(dir: string, service: ClusterService, address: string, options: { timeoutMs: number; tls?: boolean }): Promise<void> {
  const check = options.tls ? () => acceptsConnections(address) : () => isServing(address, HEALTH_NAMES[service]);
  await waitUntil(check, {
    timeoutMs: options.timeoutMs,
    what: `the Temporal ${service} service to answer at ${address}`,
    logFile: serviceLogFile(dir, service),
    intervalMs: 300,
    failed: () => (runningPid(dir, service) ? undefined : `The ${service} service exited`),
  });
}

async function isServing(address: string, healthName: string): Promise<boolean> {
  const connection = await Connection.connect({ address, connectTimeout: 1_000 }).catch(() => undefined);
  if (!connection) return false;
  try {
    const response = await connection.withDeadline(Date.now() + 2_000, () => connection.healthService.check({ service: healthName }));
    return response.status === 1; // SERVING
  } catch {
    return false;
  } finally {
    await connection.close();
  }
}

function acceptsConnections(address: string): Promise<boolean> {
  const [host, port] = [address.slice(0, address.lastIndexOf(':')), Number(address.slice(address.lastIndexOf(':') + 1))];
  return new Promise((resolve) => {
    const socket = net.connect({ host, port, timeout: 1_000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
