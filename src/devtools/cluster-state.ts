/**
 * What a local cluster remembers between runs (`cluster.json` in its folder, mode 600): the
 * PostgreSQL port and password, the history shard count, each service's ports, TLS and the config file.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { ClusterService, ServicePorts } from './cluster-services';
import { freePort } from './dev-server';
import { isPortFree } from './port-check';

/** TLS on the frontend, the port clients use. Temporal's own services then talk through an internal frontend without TLS. */
export interface ClusterTls {
  /** PEM certificate the frontend presents. */
  certFile: string;
  /** Its PEM private key. */
  keyFile: string;
  /** PEM CA whose client certificates the frontend accepts (with `requireClientCert`). */
  caFile?: string;
  /** Mutual TLS: clients must present a certificate signed by `caFile`. Default false. */
  requireClientCert?: boolean;
}

/** What `cluster.json` remembers between runs. */
export interface ClusterState {
  postgres: { port: number; password: string };
  historyShards: number;
  namespace: string;
  ports: Partial<Record<ClusterService, ServicePorts>>;
  tls?: ClusterTls;
  /** The server's configuration file; its dynamic configuration is `dynamicconfig.yaml` beside it. */
  configFile: string;
}

const stateFile = (dir: string) => path.join(dir, 'cluster.json');

/** The state of the cluster in `dir`, if it was ever started. */
export function readState(dir: string): ClusterState | undefined {
  return existsSync(stateFile(dir)) ? (JSON.parse(readFileSync(stateFile(dir), 'utf8')) as ClusterState) : undefined;
}

/** Saves the state, readable by its owner only (it holds the database password). */
export function writeState(dir: string, state: ClusterState): void {
  writeFileSync(stateFile(dir), JSON.stringify(state, null, 2), { mode: 0o600 });
}

/**
 * Gives each of `services` without ports a gRPC, a membership and (frontends) an HTTP port on
 * 127.0.0.1; `frontendPort`, when given, is the frontend's gRPC port.
 */
export async function assignPorts(state: ClusterState, services: ClusterService[], frontendPort?: number): Promise<void> {
  const taken = new Set<number>([state.postgres.port, ...Object.values(state.ports).flatMap((ports) => [ports.grpc, ports.membership, ports.http ?? 0])]);
  // Membership ports go to cluster_membership.rpc_port, a SMALLINT in Temporal's PostgreSQL
  // schema: above 32767 the service dies at start. The OS hands out higher ones, so pick them here.
  const nextPort = async (below32768 = false): Promise<number> => {
    for (;;) {
      const port = below32768 ? 16_384 + Math.floor(Math.random() * 16_384) : await freePort();
      if (!taken.has(port) && (!below32768 || (await isPortFree(port)))) {
        taken.add(port);
        return port;
      }
    }
  };
  if (frontendPort && state.ports.frontend) state.ports.frontend.grpc = frontendPort;
  for (const service of services) {
    if (state.ports[service]) continue;
    const isFrontend = service === 'frontend' || service === 'internal-frontend';
    const grpc = service === 'frontend' && frontendPort ? frontendPort : await nextPort();
    state.ports[service] = { grpc, membership: await nextPort(true), ...(isFrontend ? { http: await nextPort() } : {}) };
  }
}
