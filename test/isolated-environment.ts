/**
 * Test runs see no Temporal connection settings of the machine's user: no TEMPORAL_* variable
 * (but the binaries' paths) and an empty config directory, so no `temporalio/temporal.toml` profile.
 * Programs the tests start inherit this environment. The config directory is removed with
 * `removeIsolatedConfig` (a run's global teardown).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const CONFIG_VARIABLE = 'AIRLOCK_TEST_CONFIG_HOME';
/** The process that made the directory: only it removes it (a jest started by a test inherits the variables). */
const OWNER_VARIABLE = 'AIRLOCK_TEST_CONFIG_OWNER';

export function isolateFromUserTemporalSettings(): void {
  if (process.env[OWNER_VARIABLE] === String(process.pid)) return;
  process.env.XDG_CONFIG_HOME = process.env[CONFIG_VARIABLE] = mkdtempSync(path.join(os.tmpdir(), 'airlock-test-config-'));
  process.env[OWNER_VARIABLE] = String(process.pid);
  for (const name of Object.keys(process.env)) if (/^TEMPORAL_(?!CLI_PATH$|TEST_SERVER_PATH$)/.test(name)) delete process.env[name];
}

/** Removes the empty config directory `isolateFromUserTemporalSettings` made. */
export function removeIsolatedConfig(): void {
  const dir = process.env[CONFIG_VARIABLE];
  if (!dir || process.env[OWNER_VARIABLE] !== String(process.pid)) return;
  delete process.env[CONFIG_VARIABLE];
  delete process.env[OWNER_VARIABLE];
  rmSync(dir, { recursive: true, force: true });
}
