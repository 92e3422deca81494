/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>/test'],
  testMatch: ['**/*.test.ts'],
  transform: { '^.+\\.ts$': ['@swc/jest', { jsc: { target: 'es2023' } }] },
  // One Temporal dev server and one fake-gcs-server for the whole run; tests isolate by ids and
  // task queues, so test files run in parallel workers against the same servers.
  globalSetup: '<rootDir>/test/setup/global-setup.ts',
  globalTeardown: '<rootDir>/test/setup/global-teardown.ts',
  testTimeout: 60_000,
  // Two test files at once even on 2 cores: suites are isolated (own ids, task queues and Vertex
  // projects), and running them side by side is how CI keeps proving it.
  maxWorkers: 2,
  reporters: ['default', '<rootDir>/test/setup/summary-reporter.js'],
};
