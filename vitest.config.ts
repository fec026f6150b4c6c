import { configDefaults, defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'jobs/**/*.test.ts', 'bench/**/*.test.ts', 'test/**/*.test.ts'],
    // The fault and cluster suites run apart: `npm run test:faults`, `npm run test:cluster`.
    exclude: [...configDefaults.exclude, 'test/faults/**', 'test/cluster/**'],
    // Starts Kafka (and Redis/PostgreSQL if absent) once for the whole run; stops only what it started.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // Two cores: Kafka's JVM needs one of them.
    maxWorkers: 2,
  },
});
