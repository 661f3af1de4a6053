/**
 * `npm run test:cluster`: the integration tests that need nothing but a Temporal server, run against
 * a production-shaped cluster (PostgreSQL, one process per Temporal service) that the global setup
 * starts in `.temporal/cluster-test/` (building the server first if needed) and the teardown stops.
 * Left out: tests that start servers of their own (continue-as-new, `npm start`), that need the
 * time-skipping server (timeouts, grant expiry), the Temporal Web UI or Chromium (the cluster runs
 * no Web UI), replay (no server) and packaging. docs/cluster.md says why for each.
 */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
};

/** @type {import('jest').Config} */
module.exports = {
  ...base,
  displayName: 'cluster',
  testTimeout: 180_000,
  forceExit: true,
  reporters: ['default', '<rootDir>/test/timing-reporter.js'],
  globalSetup: '<rootDir>/test/cluster/global-setup.ts',
  globalTeardown: '<rootDir>/test/cluster/global-teardown.ts',
  testMatch: [
    '<rootDir>/test/cluster/**/*.test.ts',
    '<rootDir>/test/guarantees/{concurrent-decisions,max-turns,message-signal,tool-retries,worker-death-during-model}.test.ts',
    '<rootDir>/test/workflows/{approval,richer-decisions,worker-restart,start-attributes}.test.ts',
    '<rootDir>/test/e2e/{approval-after-crash,approval-api,approval-api-decisions,approval-auth,cli,cli-decisions,pending-without-worker}.test.ts',
    '<rootDir>/test/e2e/{signed-decisions-cli,openapi-contract}.test.ts',
    '<rootDir>/test/security/**/*.test.ts',
    '<rootDir>/test/client/terminal-chat.test.ts',
    '<rootDir>/test/models/openai-thread.test.ts',
  ],
};
