/** The workflow bundle a test run builds once and its workers share (`AIRLOCK_TEST_BUNDLE`). */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { TEMPORAL_HOME } from '../src/devtools/temporal-binaries';
import { bundleAirlockWorkflows } from '../src/worker';

/** Bundles the workflows into `.temporal/<fileName>` and names it in `AIRLOCK_TEST_BUNDLE`. */
export async function writeTestBundle(fileName: string): Promise<void> {
  const noop = () => undefined;
  const bundle = await bundleAirlockWorkflows({ logger: { log: noop, trace: noop, debug: noop, info: noop, warn: console.warn, error: console.error } });
  const bundlePath = path.join(TEMPORAL_HOME, fileName);
  mkdirSync(TEMPORAL_HOME, { recursive: true });
  writeFileSync(bundlePath, bundle.code);
  process.env.AIRLOCK_TEST_BUNDLE = bundlePath;
}
