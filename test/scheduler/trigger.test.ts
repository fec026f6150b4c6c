import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { SchedulerTest } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

describe('tickflow trigger and runs (real Redis and PostgreSQL)', () => {
  it('runs a schedule now with overridden params, waits for the result, and records it', async () => {
    s = new SchedulerTest('trigger');
    // Daily at midnight: the only run within the test is the one triggered by hand.
    s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    cron: "0 0 * * *"\n    params: { ms: 1 }\n');
    const running = await s.start();
    try {
      const result = await runCli(['trigger', 'nap', '--param', 'ms=30', '--wait'], s.env);
      expect(result.stderr).toBe('');
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(
        /triggered nap \(sleep\) as run manual-\S+ with \{"ms":30,"failAttempts":0\}/,
      );
      expect(JSON.parse(result.stdout.slice(result.stdout.indexOf('{\n')))).toMatchObject({ attempt: 1 });

      const runs = await runCli(['runs', 'nap'], s.env);
      expect(runs.code).toBe(0);
      expect(runs.stdout).toMatch(/manual-\S+\s+#1\s+completed/);
    } finally {
      await s.stop(running);
    }
  });

  it.each([
    [['trigger', 'nap', '--param', 'ms=-1'], /--param does not fit job sleep: .*ms/],
    [['trigger', 'nap', '--param', 'nonsense'], /expected key=value/],
    [['trigger', 'nope'], /no schedule named "nope" .*known schedules: nap/],
    [['runs', 'nap', '--limit', 'zero'], /expected a whole number/],
  ])('%j exits non-zero and says why', async (args, message) => {
    s = new SchedulerTest('trigger');
    s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    every: 1h\n');
    const result = await runCli(args, s.env);
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(message);
  });
});
