/**
 * `npm run cluster [-- start|stop|status|build] [--port <n>]`: a Temporal cluster on PostgreSQL on this
 * machine, one process per service, detached (it keeps running after this command), in
 * `.temporal/cluster/`. `start` (the default) is idempotent; `stop` ends the services and PostgreSQL
 * and keeps the data.
 */
import { clusterStatus, startCluster, stopCluster } from '../src/devtools/cluster';
import { CLUSTER_SERVER_VERSION, ensureClusterBinaries } from '../src/devtools/cluster-binaries';
import { isPortFree } from '../src/devtools/port-check';

const USAGE = `Usage: npm run cluster [-- start|stop|status|build] [--port <n>]
  start    start PostgreSQL and the Temporal services (history, matching, worker, frontend); idempotent
  stop     stop them all (the data stays in .temporal/cluster/)
  status   what runs
  build    only build the Temporal server and schema tool, if missing
  --port   the frontend's port the first time (default 7233 when free, else any free port)`;

function parseArgs(argv: string[]): { command: string; port?: number } {
  let command = 'start';
  let port: number | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--port') {
      port = Number(argv[++i]);
      if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UsageError('--port takes a port number (1-65535)');
    } else if (['start', 'stop', 'status', 'build'].includes(arg)) command = arg;
    else if (arg === '--help' || arg === '-h') command = 'help';
    else throw new UsageError('Unknown argument (see --help)');
  }
  return { command, port };
}

class UsageError extends Error {}

function printStatus(): boolean {
  const status = clusterStatus();
  if (!status.cluster) {
    console.log('No cluster here yet (npm run cluster starts one).');
    return false;
  }
  console.log(`PostgreSQL: ${status.postgres ? 'running' : 'stopped'}`);
  for (const [service, pid] of Object.entries(status.services)) console.log(`${service.padEnd(18)} ${pid ? `running (pid ${pid})` : 'stopped'}`);
  console.log(`Frontend:   ${status.cluster.address}${status.cluster.tls ? ' (TLS)' : ''}, namespace ${status.cluster.namespace}; logs in ${status.cluster.dir}`);
  return status.postgres && Object.values(status.services).every(Boolean);
}

async function main(): Promise<number> {
  const { command, port } = parseArgs(process.argv.slice(2));
  if (command === 'help') {
    console.log(USAGE);
    return 0;
  }
  if (command === 'status') return printStatus() ? 0 : 1;
  if (command === 'build') {
    const binaries = await ensureClusterBinaries();
    console.log(`Temporal server ${CLUSTER_SERVER_VERSION}: ${binaries.server}\nSchema tool:             ${binaries.sql}`);
    return 0;
  }
  if (command === 'stop') {
    await stopCluster();
    console.log('Cluster stopped (data kept in .temporal/cluster/).');
    return 0;
  }
  const started = Date.now();
  const before = clusterStatus();
  const wasRunning = before.postgres && Object.values(before.services).every(Boolean);
  const frontendPort = port ?? (before.cluster ? undefined : (await isPortFree(7233)) ? 7233 : undefined);
  const cluster = await startCluster({ frontendPort });
  const readiness = wasRunning ? 'already running' : `ready in ${((Date.now() - started) / 1000).toFixed(1)} s`;
  console.log(`Temporal cluster ${readiness}: ${cluster.address} (namespace ${cluster.namespace})`);
  console.log(`  PostgreSQL + history, matching, worker, frontend as separate processes; logs in ${cluster.dir}/`);
  console.log('Point Airlock at it:');
  console.log(`  TEMPORAL_ADDRESS=${cluster.address} npm start`);
  console.log(`  TEMPORAL_ADDRESS=${cluster.address} npx airlock worker`);
  console.log('Stop it with: npm run cluster -- stop');
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: Error) => {
    console.error(err instanceof UsageError ? `${err.message}\n${USAGE}` : `Cluster: ${err.message}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
