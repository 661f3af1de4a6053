/**
 * A local PostgreSQL for the cluster: its own data directory, listening on 127.0.0.1 only, run as
 * the `postgres` OS user when this process is root (PostgreSQL refuses to run as root). Clients
 * sign in over TCP as `temporal` with a password; the superuser only through the Unix socket in
 * the data directory, which only its owner can reach.
 */
import { spawnSync } from 'node:child_process';
import { chownSync, closeSync, existsSync, mkdirSync, openSync, readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/** Where Debian keeps PostgreSQL's programs: the newest of `/usr/lib/postgresql/<major>/bin` (15 on Debian 12). */
export const DEFAULT_POSTGRES_BIN = newestPostgresBin();

function newestPostgresBin(): string {
  const root = '/usr/lib/postgresql';
  const majors = existsSync(root) ? readdirSync(root).filter((name) => /^\d+$/.test(name)).map(Number) : [];
  return path.join(root, String(majors.length ? Math.max(...majors) : 15), 'bin');
}

export interface PostgresOptions {
  /** The data directory (created, and owned by the user PostgreSQL runs as). */
  dataDir: string;
  /** TCP port on 127.0.0.1. */
  port: number;
  /** The server's log. */
  logFile: string;
  /** The password of the `temporal` role (set on every start). */
  password: string;
  /** Databases owned by `temporal`, created when missing. */
  databases: string[];
  /** Where `initdb`, `pg_ctl` and `psql` are. Default: the newest `/usr/lib/postgresql/<major>/bin`. */
  binDir?: string;
  /** How long start-up may take. Default 60 s. */
  startTimeoutMs?: number;
}

interface OsUser {
  uid: number;
  gid: number;
}

/** The `postgres` OS user when running as root (PostgreSQL refuses root), else nobody to switch to. */
function runAs(): OsUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((entry) => entry.startsWith('postgres:'));
  if (!line) throw new Error('Running as root, PostgreSQL needs the "postgres" OS user, which does not exist (apt-get install postgresql creates it)');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function run(binary: string, args: string[], what: string, logFile?: string, input?: string): string {
  const user = runAs();
  const result = spawnSync(binary, args, { encoding: 'utf8', uid: user?.uid, gid: user?.gid, timeout: 120_000, cwd: '/', input });
  if (result.error || result.status !== 0) {
    const detail = (result.stderr || result.error?.message || '').trim().split('\n').slice(-3).join(' | ');
    throw new Error(`${what} failed${detail ? `: ${detail}` : ''}${logFile ? `; see ${logFile}` : ''}`);
  }
  return result.stdout;
}

function ownedDir(dir: string, mode: number): void {
  mkdirSync(dir, { recursive: true, mode });
  const user = runAs();
  if (user) chownSync(dir, user.uid, user.gid);
}

/** True when the server of this data directory runs. */
export function isPostgresRunning(dataDir: string, binDir = DEFAULT_POSTGRES_BIN): boolean {
  if (!existsSync(path.join(dataDir, 'PG_VERSION'))) return false;
  const user = runAs();
  return spawnSync(path.join(binDir, 'pg_ctl'), ['status', '-D', dataDir], { uid: user?.uid, gid: user?.gid, stdio: 'ignore', cwd: '/' }).status === 0;
}

/**
 * Creates the data directory once (initdb), starts the server unless it runs, and makes sure the
 * `temporal` role (with `password`) and the databases exist.
 * @throws Error naming the log when initdb, start-up (past its deadline) or a statement fails
 */
export function startPostgres(options: PostgresOptions): void {
  const binDir = options.binDir ?? DEFAULT_POSTGRES_BIN;
  if (!existsSync(path.join(binDir, 'pg_ctl'))) {
    throw new Error(`PostgreSQL is not installed at ${binDir} (Debian: apt-get install postgresql)`);
  }
  mkdirSync(path.dirname(options.logFile), { recursive: true });
  if (!existsSync(path.join(options.dataDir, 'PG_VERSION'))) {
    ownedDir(options.dataDir, 0o700);
    run(path.join(binDir, 'initdb'), ['-D', options.dataDir, '-U', 'postgres', '--auth-local=trust', '--auth-host=scram-sha-256', '--encoding=UTF8', '--no-locale'], 'initdb');
  }
  if (!isPostgresRunning(options.dataDir, binDir)) {
    const user = runAs();
    closeSync(openSync(options.logFile, 'a'));
    if (user) chownSync(options.logFile, user.uid, user.gid);
    const settings = `-c listen_addresses=127.0.0.1 -p ${options.port} -k ${options.dataDir} -c unix_socket_permissions=0700`;
    const seconds = Math.ceil((options.startTimeoutMs ?? 60_000) / 1000);
    run(path.join(binDir, 'pg_ctl'), ['start', '-D', options.dataDir, '-l', options.logFile, '-w', '-t', String(seconds), '-o', settings], `PostgreSQL's start on 127.0.0.1:${options.port}`, options.logFile);
  }
  ensureRoleAndDatabases(options, binDir);
}

/** Runs one statement, given on stdin: a command line is readable by every local user (`ps`), a password in it too. */
function psql(options: PostgresOptions, binDir: string, sql: string, database = 'postgres'): string {
  const args = ['-h', options.dataDir, '-p', String(options.port), '-U', 'postgres', '-d', database, '-v', 'ON_ERROR_STOP=1', '-tAXq', '-f', '-'];
  return run(path.join(binDir, 'psql'), args, 'A PostgreSQL statement', options.logFile, `${sql};\n`).trim();
}

function ensureRoleAndDatabases(options: PostgresOptions, binDir: string): void {
  if (!/^[0-9a-f]{16,}$/.test(options.password)) throw new Error('The temporal role password must be hexadecimal');
  const hasRole = psql(options, binDir, "SELECT 1 FROM pg_roles WHERE rolname = 'temporal'") === '1';
  try {
    psql(options, binDir, `${hasRole ? 'ALTER' : 'CREATE'} ROLE temporal LOGIN PASSWORD '${options.password}'`);
  } catch {
    // psql's error would quote the statement, password included.
    throw new Error(`Setting the temporal role's password failed; see ${options.logFile}`);
  }
  for (const database of options.databases) {
    if (!/^[a-z_][a-z0-9_]*$/.test(database)) throw new Error(`Not a plain database name: ${JSON.stringify(database)}`);
    const exists = psql(options, binDir, `SELECT 1 FROM pg_database WHERE datname = '${database}'`) === '1';
    if (!exists) psql(options, binDir, `CREATE DATABASE ${database} OWNER temporal`);
  }
}

/** The schema version the schema tool recorded in `database`, if any. */
export function schemaVersion(options: PostgresOptions, database: string): string | undefined {
  const binDir = options.binDir ?? DEFAULT_POSTGRES_BIN;
  if (psql(options, binDir, "SELECT to_regclass('schema_version') IS NOT NULL", database) !== 't') return undefined;
  return psql(options, binDir, `SELECT curr_version FROM schema_version WHERE version_partition = 0 AND db_name = '${database}'`, database) || undefined;
}

/** Runs one statement in `database` as the superuser (through the private Unix socket); returns its rows as text. */
export function runStatement(options: PostgresOptions, database: string, sql: string): string {
  return psql(options, options.binDir ?? DEFAULT_POSTGRES_BIN, sql, database);
}

/** Stops the server of this data directory (fast shutdown: open sessions are ended), if it runs. */
export function stopPostgres(dataDir: string, logFile?: string, binDir = DEFAULT_POSTGRES_BIN): void {
  if (!isPostgresRunning(dataDir, binDir)) return;
  run(path.join(binDir, 'pg_ctl'), ['stop', '-D', dataDir, '-m', 'fast', '-w', '-t', '60'], 'Stopping PostgreSQL', logFile);
}
