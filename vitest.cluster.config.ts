import { defineConfig } from 'vitest/config';

/**
 * `npm run test:cluster`: tickflow on a 3-node Kafka cluster and Redis with Sentinel (test/cluster),
 * apart from `npm test`. Its global setup starts the cluster on free ports with the launcher; the
 * files run one at a time, as three JVMs already share the machine.
 */
export default defineConfig({
  test: {
    include: ['test/cluster/**/*.test.ts'],
    globalSetup: ['test/cluster/cluster-setup.ts'],
    testTimeout: 600_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
