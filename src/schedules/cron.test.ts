import { readFileSync, realpathSync } from 'node:fs';
import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * cron.ts validates a schedule's cron with cron-parser so that the file and BullMQ's job schedulers
 * agree; that holds only if both load the same copy. BullMQ pins an exact version: package.json
 * pins the same one, and npm then installs a single copy.
 */
const fromCronModule = createRequire(new URL('./cron.ts', import.meta.url));
const fromBullmq = createRequire(fromCronModule.resolve('bullmq'));

const FIX = "pin package.json's cron-parser to the version bullmq's package.json names, then npm install";

const versionOf = (packageJson: string) =>
  JSON.parse(readFileSync(packageJson, 'utf8')) as {
    version: string;
    dependencies?: Record<string, string>;
  };

describe("tickflow's cron-parser", () => {
  it('is the very file BullMQ computes fire times with', () => {
    const ours = realpathSync(fromCronModule.resolve('cron-parser'));
    const bullmqs = realpathSync(fromBullmq.resolve('cron-parser'));
    expect(ours, FIX).toBe(bullmqs);
  });

  it('is the version BullMQ pins', () => {
    const bullmq = versionOf(fromCronModule.resolve('bullmq/package.json'));
    const cronParser = versionOf(fromCronModule.resolve('cron-parser/package.json'));
    expect(cronParser.version, FIX).toBe(bullmq.dependencies?.['cron-parser']);
  });
});
