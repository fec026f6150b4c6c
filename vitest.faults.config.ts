import { defineConfig } from 'vitest/config';

/**
 * `npm run test:faults`: the fault suite (test/faults), apart from `npm test`. It starts its own
 * Kafka, Redis and PostgreSQL on free ports with the launcher, so it needs none of the main suite's
 * services, and it runs alone: the faults, their outages and the processes need the machine.
 */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    // bin/tickflow runs dist/: build it from the sources first (the main suite's pretest does the same).
    globalSetup: ['test/faults/build.ts'],
    testTimeout: 900_000,
    hookTimeout: 180_000,
    pool: 'forks',
    maxWorkers: 1,
    fileParallelism: false,
  },
});
