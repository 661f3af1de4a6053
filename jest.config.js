/**
 * Three groups: `unit` (pure rules, no server, seconds), `integration` (real Temporal servers:
 * a dev server started once for the run, the time-skipping server where timers matter) and
 * `e2e` (spawned CLI processes, HTTP, headless Chromium). `npm test` runs all three.
 */
const base = {
  testEnvironment: 'node',
  transform: { '^.+\\.ts$': ['ts-jest', { isolatedModules: true }] },
};
const withServer = {
  ...base,
  globalSetup: '<rootDir>/test/global-setup.ts',
  globalTeardown: '<rootDir>/test/global-teardown.ts',
};

/** @type {import('jest').Config} */
module.exports = {
  testTimeout: 120_000,
  // Files kill what they start (test/e2e/cli-process.ts); should anything still hold the event loop
  // once every test has reported, the run ends instead of hanging (jest names the leak).
  forceExit: true,
  // The run writes its temporary files in a folder of its own, removed at the end (test/run-temp.ts).
  globalSetup: '<rootDir>/test/run-setup.ts',
  globalTeardown: '<rootDir>/test/run-teardown.ts',
  reporters: ['default', '<rootDir>/test/timing-reporter.js'],
  projects: [
    { ...base, displayName: 'unit', testMatch: ['<rootDir>/test/unit/**/*.test.ts', '<rootDir>/test/tools/**/*.test.ts'] },
    {
      ...withServer,
      displayName: 'integration',
      testMatch: ['<rootDir>/test/{workflows,security,guarantees,replay,models,client}/**/*.test.ts'],
    },
    { ...withServer, displayName: 'e2e', testMatch: ['<rootDir>/test/e2e/**/*.test.ts'] },
  ],
};
