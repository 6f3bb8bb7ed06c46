/**
 * Three projects: pure-logic unit tests, integration tests against real servers started by
 * globalSetup, and the same with a real browser. With OPTINFLOW_TEST_TEMPORAL=cluster (npm run
 * test:cluster) there is a fourth, alone: the cluster fault tests and a subset of the integration
 * files, against the real Temporal server on PostgreSQL with two history hosts (docs/cluster.md).
 */
const transform = { '^.+\\.(t|j)sx?$': ['@swc/jest', { jsc: { parser: { syntax: 'typescript' }, target: 'es2022' } }] };

/**
 * Integration files that also run on the cluster: a journey end to end, durability across worker
 * restarts, campaign starts and rows, START in a thread, the confirm page, every opt-in channel,
 * STOP from every source. optout-race stays on the dev server: its bounds are a few seconds, and on
 * a loaded 2-core machine the five server processes and PostgreSQL stretch workflow tasks past them.
 */
const ON_CLUSTER = ['journey-sms', 'journey-durability', 'campaign-start', 'campaign-rows', 'inthread-optin', 'pages-confirm', 'journey-channels', 'optout-sources'];

const clusterProject = {
  displayName: 'cluster',
  testEnvironment: 'node',
  transform,
  testMatch: ['<rootDir>/test/cluster/**/*.test.ts', ...ON_CLUSTER.map((f) => `<rootDir>/test/integration/${f}.test.ts`)],
  globalSetup: '<rootDir>/test/harness/global-setup.ts',
  globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
};

module.exports = {
  // Project configs cannot set this; it must live at the top level to reach integration and browser hooks.
  testTimeout: 120000,
  /**
   * Each integration file loads the whole product afresh (its module registry, the SDKs, mongoose),
   * and some of that stays reachable after the file ends: in one process the heap grew by about 25 MB
   * a file, to about 3 GB near the end, where garbage collection paused the process for seconds at a time
   * and a STOP's webhook missed the carrier's 15 s. A limit runs the files in a child process that is
   * replaced once its heap passes it (it also makes Jest use that child even on two cores).
   */
  workerIdleMemoryLimit: '800MB',
  projects: [
    {
      displayName: 'unit',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/unit/**/*.test.ts'],
    },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
    {
      displayName: 'browser',
      testEnvironment: 'node',
      transform,
      testMatch: ['<rootDir>/test/browser/**/*.test.ts'],
      globalSetup: '<rootDir>/test/harness/global-setup.ts',
      globalTeardown: '<rootDir>/test/harness/global-teardown.ts',
    },
  ].filter(() => process.env.OPTINFLOW_TEST_TEMPORAL !== 'cluster').concat(process.env.OPTINFLOW_TEST_TEMPORAL === 'cluster' ? [clusterProject] : []),
};
