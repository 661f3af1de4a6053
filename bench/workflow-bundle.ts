import { writeFileSync } from 'node:fs';
import { bundleWorkflowCode } from '@temporalio/worker';
import { bundleAirlockWorkflows } from '../src/worker';

/**
 * Bundles the `agentThread` workflow into `file`, as a production deployment would ahead of
 * time, so that the worker process does not run webpack (and its memory shows the worker alone).
 */
export async function writeWorkflowBundle(file: string): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleAirlockWorkflows({
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message) => process.stderr.write(`${message}\n`) },
  });
  writeFileSync(file, code);
}

/** Bundles the bare workflow (the floor the bench compares with) into `file`. */
export async function writeBareBundle(file: string): Promise<void> {
  const quiet = () => undefined;
  const { code } = await bundleWorkflowCode({
    workflowsPath: require.resolve('./bare/workflows'),
    logger: { log: quiet, trace: quiet, debug: quiet, info: quiet, warn: quiet, error: (message) => process.stderr.write(`${message}\n`) },
  });
  writeFileSync(file, code);
}
