/**
 * Everything a test run writes to the temporary folder (the tests' sandboxes, certificates, the
 * programs they start) goes into one folder of its own, removed when the run ends: `TMPDIR` points
 * there for the run and for every program it starts. A folder is kept only when the run is cut off.
 */
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT_VARIABLE = 'AIRLOCK_TEST_TMP_ROOT';
const BEFORE_VARIABLE = 'AIRLOCK_TEST_TMPDIR_BEFORE';
/** The process that made the folder: only it removes it (a jest started by a test inherits the variables). */
const OWNER_VARIABLE = 'AIRLOCK_TEST_TMP_OWNER';

/** Points `TMPDIR` at a fresh folder for this run (once per run, whichever setup comes first). */
export function useRunTempFolder(): void {
  if (process.env[OWNER_VARIABLE] === String(process.pid)) return;
  const root = mkdtempSync(path.join(os.tmpdir(), 'airlock-test-run-'));
  // Like /tmp, others may pass through it (PostgreSQL, run as its own user, reaches its data directory in a test's folder).
  chmodSync(root, 0o755);
  process.env[BEFORE_VARIABLE] = process.env.TMPDIR ?? '';
  process.env[ROOT_VARIABLE] = root;
  process.env[OWNER_VARIABLE] = String(process.pid);
  process.env.TMPDIR = root;
}

/** Removes the run's folder and gives `TMPDIR` back its value. */
export function removeRunTempFolder(): void {
  const root = process.env[ROOT_VARIABLE];
  if (!root || process.env[OWNER_VARIABLE] !== String(process.pid)) return;
  const before = process.env[BEFORE_VARIABLE];
  if (before) process.env.TMPDIR = before;
  else delete process.env.TMPDIR;
  delete process.env[ROOT_VARIABLE];
  delete process.env[BEFORE_VARIABLE];
  delete process.env[OWNER_VARIABLE];
  rmSync(root, { recursive: true, force: true, maxRetries: 3 });
}
