/**
 * Temporal's schemas in PostgreSQL: the persistence store and SQL visibility, set up with the
 * server's own schema tool from the schemas built into it.
 */
import { spawnSync } from 'node:child_process';
import { appendFileSync } from 'node:fs';
import { schemaVersion, type PostgresOptions } from './postgres';

/**
 * The schema versions of `CLUSTER_SERVER_VERSION` (the server's schema/postgresql/v12/version.go);
 * they change with the server version.
 */
export const SCHEMAS = [
  { database: 'temporal', name: 'postgresql/v12/temporal', version: '1.19' },
  { database: 'temporal_visibility', name: 'postgresql/v12/visibility', version: '1.14' },
] as const;

/**
 * Sets up each database's schema unless its schema tool already recorded a version there; a
 * set-up that was cut off half-way (tables but no version) is redone from scratch.
 * @throws Error naming the log when the schema tool fails, or when a database holds another version
 */
export function setupSchemas(sqlBinary: string, postgres: PostgresOptions, logFile: string): void {
  for (const schema of SCHEMAS) {
    const current = schemaVersion(postgres, schema.database);
    if (current === schema.version) continue;
    if (current) {
      throw new Error(`Database ${schema.database} holds schema ${current}, this server needs ${schema.version}: run the schema tool's update-schema, or start from an empty data directory`);
    }
    const args = ['--plugin', 'postgres12', '--ep', '127.0.0.1', '-p', String(postgres.port), '-u', 'temporal', '--db', schema.database];
    args.push('setup-schema', '--schema-name', schema.name, '--version', schema.version, '--overwrite');
    const result = spawnSync(sqlBinary, args, { encoding: 'utf8', timeout: 120_000, env: { PATH: '/usr/bin:/bin', SQL_PASSWORD: postgres.password } });
    appendFileSync(logFile, `${result.stdout ?? ''}${result.stderr ?? ''}`);
    if (result.status !== 0) {
      const detail = `${result.stdout ?? ''}${result.stderr ?? ''}`.trim().split('\n').slice(-2).join(' | ');
      throw new Error(`The schema tool could not set up ${schema.database}: ${detail || result.error?.message}; see ${logFile}`);
    }
  }
}
