import { useRunTempFolder } from './run-temp';

/** Jest's global setup for every project: the run's own temporary folder (see run-temp.ts). */
export default function runSetup(): void {
  useRunTempFolder();
}
