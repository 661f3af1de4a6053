/**
 * A production-shaped Temporal cluster on this machine: PostgreSQL (persistence and SQL visibility),
 * the schemas set up by Temporal's schema tool, and the server as one process per service
 * (history, matching, worker, frontend), all on 127.0.0.1, started detached with pid files so it
 * outlives the program that started it. State, logs and the PostgreSQL data live in one folder
 * (default `.temporal/cluster/`); `cluster.json` there remembers ports and the database password.
 *
 * On an empty database the services race to write the cluster's metadata; history starts alone
 * and the others only once it answers. Every wait has a deadline and names the log to read.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync } from 'node:fs';
import path from 'node:path';
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { ensureSearchAttributes } from '../worker/search-attribute-setup';
import { airlockSearchAttributes } from '../core/search-attributes';
import { ensureClusterBinaries } from './cluster-binaries';
import { setupSchemas, SCHEMAS } from './cluster-schema';
import {
  CLUSTER_SERVICES,
  portVariables,
  runningPid,
  serviceLogFile,
  startService,
  stopService,
  waitForService,
  type ClusterService,
  type ServiceLaunch,
} from './cluster-services';
import { freePort } from './dev-server';
import { assignPorts, readState, writeState, type ClusterState, type ClusterTls } from './cluster-state';
import { isPostgresRunning, runStatement, startPostgres, stopPostgres, type PostgresOptions } from './postgres';
import { TEMPORAL_HOME } from './temporal-binaries';
import { waitUntil } from './wait-until';

export type { ClusterTls };

export interface ClusterOptions {
  /** The cluster's folder: state, logs, PostgreSQL's data. Default `.temporal/cluster`. */
  dir?: string;
  /** The frontend's gRPC port; 0 or absent: the port it had before, else a free one. */
  frontendPort?: number;
  /** TLS on the frontend. */
  tls?: ClusterTls;
  /** History shards; fixed when the database is first set up (changing it later is refused by the server). Default 4. */
  historyShards?: number;
  /** The namespace created for Airlock. Default `default`. */
  namespace?: string;
  /** How long each wait may take (PostgreSQL, each service, the namespace). Default 120 s. */
  readyTimeoutMs?: number;
  /** The server's configuration. Default `deploy/temporal/config.yaml` of this project. */
  configFile?: string;
  /** Progress lines. Default: stderr. */
  log?: (line: string) => void;
}

/** A running cluster. */
export interface Cluster {
  /** Where clients connect: the frontend, `127.0.0.1:<port>`. */
  address: string;
  namespace: string;
  dir: string;
  tls: boolean;
  /** Each service's log file, and PostgreSQL's. */
  logs: Record<ClusterService | 'postgres', string>;
}

export const DEFAULT_CLUSTER_DIR = path.join(TEMPORAL_HOME, 'cluster');
const DATABASES = SCHEMAS.map((schema) => schema.database);

const postgresOptions = (dir: string, state: ClusterState): PostgresOptions => ({
  dataDir: path.join(dir, 'pgdata'),
  port: state.postgres.port,
  password: state.postgres.password,
  logFile: path.join(dir, 'postgres.log'),
  databases: [...DATABASES],
});

/** The project's `deploy/temporal/config.yaml`, found from this file (src/ or dist/src/). */
export function defaultConfigFile(): string {
  for (let dir = __dirname; dir !== path.dirname(dir); dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'deploy', 'temporal', 'config.yaml');
    if (existsSync(candidate)) return candidate;
  }
  throw new Error('deploy/temporal/config.yaml not found above ' + __dirname);
}

/** The services a cluster runs, in start order: history first, alone. */
function servicesOf(state: ClusterState): ClusterService[] {
  return CLUSTER_SERVICES.filter((service) => service !== 'internal-frontend' || state.tls);
}

/**
 * Starts whatever of the cluster is not running (all of it, the first time: PostgreSQL's data
 * directory, the databases and schemas, the namespace and Airlock's search attributes) and waits
 * until every service answers. Idempotent: a running cluster is left as it is.
 * @throws Error naming the log to read when a step fails or passes its deadline
 */
export async function startCluster(options: ClusterOptions = {}): Promise<Cluster> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = path.resolve(options.dir ?? DEFAULT_CLUSTER_DIR);
  const timeoutMs = options.readyTimeoutMs ?? 120_000;
  mkdirSync(dir, { recursive: true });
  const binaries = await ensureClusterBinaries({ log });
  const state = await planState(dir, options);
  writeState(dir, state);

  const postgres = postgresOptions(dir, state);
  if (!isPostgresRunning(postgres.dataDir)) log(`Starting PostgreSQL on 127.0.0.1:${postgres.port} (data in ${path.relative(process.cwd(), postgres.dataDir)})`);
  startPostgres({ ...postgres, startTimeoutMs: timeoutMs });
  setupSchemas(binaries.sql, postgres, path.join(dir, 'schema.log'));

  const launch: ServiceLaunch = { serverBinary: binaries.server, configFile: state.configFile, dir, env: serverEnv(state) };
  if (!CLUSTER_SERVICES.some((service) => runningPid(dir, service))) forgetMembers(postgres);
  const [first, ...others] = servicesOf(state);
  await startAndWait([first], state, launch, timeoutMs, log);
  await startAndWait(others, state, launch, timeoutMs, log);

  const plainAddress = address(state, state.tls ? 'internal-frontend' : 'frontend');
  await ensureNamespace(plainAddress, state.namespace, timeoutMs, serviceLogFile(dir, 'frontend'));
  return describe(dir, state);
}

async function startAndWait(services: ClusterService[], state: ClusterState, launch: ServiceLaunch, timeoutMs: number, log: (line: string) => void): Promise<void> {
  for (const service of services) {
    if (!runningPid(launch.dir, service)) log(`Starting the Temporal ${service} service on ${address(state, service)}`);
    startService(service, launch);
  }
  await Promise.all(
    services.map((service) => waitForService(launch.dir, service, address(state, service), { timeoutMs, tls: service === 'frontend' && !!state.tls })),
  );
}

/** The remembered state, with ports and a password for whatever is new; refuses a TLS change while the cluster runs. */
async function planState(dir: string, options: ClusterOptions): Promise<ClusterState> {
  const previous = readState(dir);
  const running = previous && CLUSTER_SERVICES.some((service) => runningPid(dir, service));
  if (running && JSON.stringify(previous.tls ?? null) !== JSON.stringify(options.tls ?? null)) {
    throw new Error(`The cluster in ${dir} runs with other TLS settings; stop it first (npm run cluster -- stop)`);
  }
  const state: ClusterState = previous ?? {
    postgres: { port: await freePort(), password: randomBytes(16).toString('hex') },
    historyShards: options.historyShards ?? 4,
    namespace: options.namespace ?? 'default',
    ports: {},
    configFile: '',
  };
  state.tls = options.tls;
  state.configFile = path.resolve(options.configFile ?? defaultConfigFile());
  await assignPorts(state, servicesOf(state), running ? undefined : options.frontendPort);
  return state;
}

/** The environment `deploy/temporal/config.yaml` reads, for every service of this cluster. */
function serverEnv(state: ClusterState): Record<string, string> {
  const env: Record<string, string> = {
    BIND_ON_IP: '127.0.0.1',
    POSTGRES_SEEDS: '127.0.0.1',
    DB_PORT: String(state.postgres.port),
    POSTGRES_USER: 'temporal',
    POSTGRES_PWD: state.postgres.password,
    NUM_HISTORY_SHARDS: String(state.historyShards),
    DYNAMIC_CONFIG_FILE_PATH: path.join(path.dirname(state.configFile), 'dynamicconfig.yaml'),
    LOG_LEVEL: 'info',
  };
  for (const service of servicesOf(state)) Object.assign(env, portVariables(service, state.ports[service]!));
  if (state.tls) {
    Object.assign(env, { USE_INTERNAL_FRONTEND: '1', TEMPORAL_TLS_FRONTEND_CERT: path.resolve(state.tls.certFile), TEMPORAL_TLS_FRONTEND_KEY: path.resolve(state.tls.keyFile) });
    if (state.tls.caFile) env.TEMPORAL_TLS_CLIENT_CA_CERT = path.resolve(state.tls.caFile);
    env.TEMPORAL_TLS_REQUIRE_CLIENT_AUTH = String(!!state.tls.requireClientCert);
  }
  return env;
}

const address = (state: ClusterState, service: ClusterService) => `127.0.0.1:${state.ports[service]!.grpc}`;

/** Registers the namespace when missing, waits until the frontend knows it, and registers Airlock's search attributes. */
async function ensureNamespace(frontend: string, namespace: string, timeoutMs: number, logFile: string): Promise<void> {
  const connection = await Connection.connect({ address: frontend });
  try {
    // describeNamespace reads the database; the other calls read each frontend's namespace cache,
    // refreshed every few seconds: the namespace is usable once they know it.
    const exists = () => connection.workflowService.describeNamespace({ namespace }).then(() => true, () => false);
    const known = () => connection.operatorService.listSearchAttributes({ namespace }).then(() => true, () => false);
    if (!(await exists())) {
      await connection.workflowService
        .registerNamespace({ namespace, workflowExecutionRetentionPeriod: msToTs('3 days') })
        .catch((err: { code?: number }) => {
          if (err.code !== 6) throw err; // ALREADY_EXISTS
        });
    }
    await waitUntil(known, { timeoutMs, what: `namespace ${namespace} to be known at ${frontend}`, logFile });
    await ensureSearchAttributes(connection, namespace);
    // Registered is not yet usable: queries are checked against the frontend's namespace cache,
    // which learns new attributes within seconds. Ready once a query naming every one is accepted.
    const query = airlockSearchAttributes.map((key) => (key.type === 'DATETIME' ? `${key.name} > '2000-01-01T00:00:00Z'` : `${key.name} = 'ready'`)).join(' AND ');
    const queryable = () => connection.workflowService.countWorkflowExecutions({ namespace, query }).then(() => true, () => false);
    await waitUntil(queryable, { timeoutMs, what: `queries on Airlock's search attributes in namespace ${namespace}`, logFile });
  } finally {
    await connection.close();
  }
}

function describe(dir: string, state: ClusterState): Cluster {
  const logs = Object.fromEntries(servicesOf(state).map((service) => [service, serviceLogFile(dir, service)])) as Cluster['logs'];
  logs.postgres = path.join(dir, 'postgres.log');
  return { address: address(state, 'frontend'), namespace: state.namespace, dir, tls: !!state.tls, logs };
}

/**
 * Temporal's services find each other through the cluster_membership table. Rows of processes
 * that are gone (a stop, a crash, a reboot) look alive until their heartbeat expires, and a
 * service starting meanwhile tries to join them for `maxJoinDuration` (30 s) before it serves.
 * With no service running, every row is stale.
 */
function forgetMembers(postgres: PostgresOptions): void {
  runStatement(postgres, 'temporal', 'DELETE FROM cluster_membership');
}

/** Stops every service (history last), then PostgreSQL. Data stays; the next start carries on from it. */
export async function stopCluster(options: { dir?: string } = {}): Promise<void> {
  const dir = path.resolve(options.dir ?? DEFAULT_CLUSTER_DIR);
  await Promise.all(CLUSTER_SERVICES.filter((service) => service !== 'history').map((service) => stopService(dir, service)));
  await stopService(dir, 'history');
  const state = readState(dir);
  if (!state) return;
  const postgres = postgresOptions(dir, state);
  if (isPostgresRunning(postgres.dataDir)) forgetMembers(postgres);
  stopPostgres(postgres.dataDir, postgres.logFile);
}

/** What runs of the cluster in `dir`: each service's pid (or none), PostgreSQL, and the address. */
export interface ClusterStatus {
  cluster?: Cluster;
  services: Partial<Record<ClusterService, number | undefined>>;
  postgres: boolean;
}

/** The cluster's processes, from its pid files. */
export function clusterStatus(options: { dir?: string } = {}): ClusterStatus {
  const dir = path.resolve(options.dir ?? DEFAULT_CLUSTER_DIR);
  const state = readState(dir);
  if (!state) return { services: {}, postgres: false };
  const services = Object.fromEntries(servicesOf(state).map((service) => [service, runningPid(dir, service)]));
  return { cluster: describe(dir, state), services, postgres: isPostgresRunning(postgresOptions(dir, state).dataDir) };
}

/**
 * Kills one service's process (SIGKILL: a crash) and starts it again, waiting until it answers.
 * For durability tests.
 */
export async function crashAndRestartService(service: ClusterService, options: { dir?: string; readyTimeoutMs?: number; whileDown?: () => Promise<void> } = {}): Promise<void> {
  const dir = path.resolve(options.dir ?? DEFAULT_CLUSTER_DIR);
  const state = readState(dir);
  if (!state?.ports[service]) throw new Error(`No ${service} service in the cluster of ${dir}`);
  const binaries = await ensureClusterBinaries();
  await stopService(dir, service, { signal: 'SIGKILL' });
  await options.whileDown?.();
  startService(service, { serverBinary: binaries.server, configFile: state.configFile, dir, env: serverEnv(state) });
  await waitForService(dir, service, address(state, service), { timeoutMs: options.readyTimeoutMs ?? 120_000, tls: service === 'frontend' && !!state.tls });
}
