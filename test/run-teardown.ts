import { removeIsolatedConfig } from './isolated-environment';
import { removeRunTempFolder } from './run-temp';

/** Jest's global teardown for every project: removes the run's temporary folder and its empty config directory. */
export default function runTeardown(): void {
  removeIsolatedConfig();
  removeRunTempFolder();
}
