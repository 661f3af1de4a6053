/**
 * Starts one real Temporal dev server for the whole run (in memory, Web UI on a free port) and
 * bundles the workflow code once; tests read both from the environment.
 */
import path from 'node:path';
import { startDevServer } from '../src/devtools/dev-server';
import { findTemporalBinary, TEMPORAL_HOME } from '../src/devtools/temporal-binaries';
import { isolateFromUserTemporalSettings } from './isolated-environment';
import { useRunTempFolder } from './run-temp';
import { writeTestBundle } from './test-bundle';

export default async function globalSetup(): Promise<void> {
  // Both the integration and the e2e project name this setup; one server serves the whole run.
  if ((globalThis as { airlockDevServer?: unknown }).airlockDevServer) return;
  useRunTempFolder();
  isolateFromUserTemporalSettings();
  findTemporalBinary('cli');
  process.env.TEMPORAL_TEST_SERVER_PATH ??= findTemporalBinary('testServer');
  const server = await startDevServer({ port: 0, uiPort: 0, dbFilename: null, logFile: path.join(TEMPORAL_HOME, 'test-dev-server.log') });
  (globalThis as { airlockDevServer?: typeof server }).airlockDevServer = server;
  process.env.AIRLOCK_TEST_ADDRESS = server.address;
  process.env.AIRLOCK_TEST_UI_URL = server.uiUrl ?? '';

  await writeTestBundle('test-workflow-bundle.js');
}
