import { defineConfig } from 'vitest/config';

/**
 * The tests next to the code, without the suite's global set-up (no Kafka to start): what the
 * CI's check on other Node versions runs (`.ci/other-node`). Redis and PostgreSQL, which a few of
 * them use, run on every machine here.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'jobs/**/*.test.ts', 'bench/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
    maxWorkers: 2,
  },
});
