/**
 * Test runs see no Temporal connection settings of the machine's user: no TEMPORAL_* variable
 * (but the binaries' paths) and an empty config directory, so no `temporalio/temporal.toml` profile.
 * Programs the tests start inherit this environment.
 */
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function isolateFromUserTemporalSettings(): void {
  process.env.XDG_CONFIG_HOME = mkdtempSync(path.join(os.tmpdir(), 'airlock-test-config-'));
  for (const name of Object.keys(process.env)) if (/^TEMPORAL_(?!CLI_PATH$|TEST_SERVER_PATH$)/.test(name)) delete process.env[name];
}
