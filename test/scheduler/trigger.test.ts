import { afterEach, describe, expect, it } from 'vitest';
import { migrate } from '../../src/db/migrate';
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
      expect(result.stdout).toMatch(/triggered nap as run manual-\S+ with \{"ms":30,"failAttempts":0\}/);
      expect(JSON.parse(result.stdout.slice(result.stdout.indexOf('{\n')))).toMatchObject({ attempt: 1 });

      const runs = await runCli(['runs', 'nap'], s.env);
      expect(runs.code).toBe(0);
      expect(runs.stdout).toMatch(/manual-\S+\s+completed\s+\d+\.\d\ds/);
    } finally {
      await s.stop(running);
    }
  });

  it('a command on a database never migrated says what to run', async () => {
    s = new SchedulerTest('trigger');
    s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    every: 1h\n');
    const result = await runCli(['list'], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/has no tickflow tables yet: run `tickflow migrate`/);
  });

  it('pausing a schedule the scheduler has not set up yet says to start it', async () => {
    s = new SchedulerTest('trigger');
    s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    every: 1h\n');
    await migrate(s.config, s.t.log);
    const result = await runCli(['pause', 'nap'], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /schedule "nap" is in the schedules file but not set up .*start `tickflow scheduler`/,
    );
  });
});
