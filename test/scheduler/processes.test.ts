import fs from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { expectCadence } from './cadence';
import { SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

describe('scheduler processes (real Redis and PostgreSQL)', () => {
  it('two scheduler processes on one file do not double the runs, and stop gracefully on SIGTERM', async () => {
    s = new SchedulerTest('procs');
    s.writeSchedules(`schedules:
  tick:
    job: sleep
    every: 200ms
    params: { ms: 150 }
`);
    const schedulers = await s.spawnReady(2, ['scheduler'], 'scheduler started');
    const from = Date.now();
    // Child processes: their runs are watched in PostgreSQL (no events cross a process).
    await waitFor(
      async () => {
        const rows = (await s.runs('tick')).filter(
          (r) => r.scheduled_at.getTime() >= from && r.state === 'completed',
        );
        return rows.length >= 8 && new Set(rows.map((r) => r.worker)).size === 2;
      },
      'eight runs, on both processes',
      20_000,
    );
    const stoppedAt = Date.now();
    for (const p of schedulers) p.process.kill('SIGTERM');
    expect(await Promise.all(schedulers.map((p) => p.exited))).toEqual([0, 0]);

    const runs = await s.runs('tick');
    const window = runs.filter((r) => r.scheduled_at.getTime() >= from);
    expect(new Set(runs.map((r) => r.job_id)).size).toBe(runs.length);
    // Not doubled: at most one run per 200ms slot while they ran, and the one due as they stopped.
    expect(window.length).toBeLessThanOrEqual(Math.floor((stoppedAt - from) / 200) + 2);
    expectCadence(window, 200);
    // Both processes ran workers, and shutdown let the active runs finish.
    expect(new Set(runs.map((r) => r.worker)).size).toBe(2);
    expect(runs.filter((r) => r.state !== 'completed')).toEqual([]);
  }, 60_000);

  it('refuses to start on a broken schedules file, printing where the problem is', async () => {
    s = new SchedulerTest('procs');
    s.writeSchedules('schedules:\n  tick:\n    job: nope\n    every: 1s\n');
    const result = await runCli(['scheduler'], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /schedules\.yaml:3:10: schedule "tick", field "job": unknown job type "nope"/,
    );
  });
});

describe('tickflow validate | pause | resume (arguments)', () => {
  it('validate prints each problem with file:line:column and exits 1; a good file exits 0', async () => {
    s = new SchedulerTest('cli');
    s.writeSchedules(
      'schedules:\n  a:\n    job: sleep\n    every: 5 seconds\n  b:\n    job: sleep\n    cron: "0 0 30 2 *"\n',
    );
    const bad = await runCli(['validate'], s.env);
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim().split('\n')).toEqual([
      expect.stringMatching(
        /schedules\.yaml:4:12: schedule "a", field "every": "5 seconds" is not a duration; write/,
      ),
      expect.stringMatching(
        /schedules\.yaml:7:11: schedule "b", field "cron": cron "0 0 30 2 \*" is invalid or never fires/,
      ),
    ]);
    s.writeSchedules('schedules:\n  a:\n    job: sleep\n    every: 5s\n    enabled: false\n');
    const good = await runCli(['validate', s.file], s.env);
    expect(good).toMatchObject({
      code: 0,
      stdout: 'a: sleep, every 5s, disabled\nok: 1 schedule(s), 0 topic(s)\n',
    });
  });

  it.each([[['pause']], [['resume', 'a', '--colour', 'red']], [['schedulr']]])(
    'bad arguments %j exit non-zero',
    async (args) => {
      s = new SchedulerTest('cli');
      const result = await runCli(args, s.env);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/error/);
    },
  );

  it('the process `bin/tickflow` starts is the one that runs: SIGKILL to its pid leaves nothing behind', async () => {
    s = new SchedulerTest('procs');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 1h\n');
    const [worker] = await s.spawnReady(1, ['worker'], 'workers started');
    const pid = worker?.process.pid as number;
    // The worker logs its own pid: the very process that was spawned, with no child of its own.
    expect(worker?.output()).toMatch(new RegExp(`"pid":${pid}[^\\n]*workers started`));
    expect(fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8')).toContain('dist/tickflow.js'); // the built CLI, not tsx
    const children = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
    expect(children).toBe('');
    worker?.process.kill('SIGKILL');
    await worker?.exited;
    expect(() => process.kill(pid, 0)).toThrow();
  });
});
