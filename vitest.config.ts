import { defineConfig } from 'vitest/config';

/**
 * Two groups: everything light runs first, in parallel; then the suites that start clusters of real
 * processes or a Kafka broker run one file at a time (on 2 cores, two clusters at once make timing-
 * sensitive tests such as the chaos test needlessly fragile).
 */
const HEAVY = ['test/cluster/**/*.test.ts', 'connectors/kafka/**/*.test.ts', 'test/kafka/**/*.test.ts', 'test/deploy/**/*.test.ts', 'test/yarn/**/*.test.ts', 'test/kubernetes/**/*.test.ts', 'deploy/ssh/**/*.test.ts', 'test/infra/**/*.test.ts', 'test/emulators/**/*.test.ts',
  // the store connectors' suites start Redis, PostgreSQL and MariaDB servers (test/stores/servers.ts)
  'test/stores/**/*.test.ts', 'connectors/redis/**/*.test.ts', 'connectors/postgres/**/*.test.ts', 'connectors/mysql/**/*.test.ts',
  // the web dashboard in a real Chromium against a cluster of real processes
  'test/dashboard/dashboard.test.ts'];

export default defineConfig({
  test: {
    globalSetup: ['test/helpers/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
    projects: [
      {
        extends: true,
        test: {
          name: 'main',
          include: ['**/*.test.ts'],
          exclude: ['node_modules/**', 'dist/**', '.dist-*/**', ...HEAVY],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'processes',
          include: HEAVY,
          exclude: ['node_modules/**', 'dist/**'],
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
