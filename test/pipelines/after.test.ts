import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { sleepJob } from '../../jobs/sleep';
import { defineJob } from '../../src/runtime/job';
import { JobRegistry } from '../../src/runtime/job-registry';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(async () => s.cleanup());

/** Returns the upstream run it was given: what a job that runs `after:` another sees of it. */
const echoUpstream = defineJob({
  name: 'echo-upstream',
  description: 'returns ctx.upstream',
  params: z.strictObject({}),
  async run(ctx) {
    return { upstream: ctx.upstream ?? null, window: ctx.window };
  },
});

const jobs = new JobRegistry([sleepJob, echoUpstream]);

interface Row {
  run_id: string;
  state: string;
  trigger: string;
  triggered_by: string | null;
  window_from: Date;
  window_to: Date;
  result: {
    upstream: { schedule: string; runId: string; window: { from: string; to: string } };
    window: unknown;
  };
}

const runsOf = async (schedule: string) =>
  (
    await s.db.query<Row>(
      `select run_id, state, trigger, triggered_by, window_from, window_to, result from runs
        where schedule = $1 order by due_at`,
      [schedule],
    )
  ).rows;

describe('after: a schedule that runs after each completed run of another', () => {
  it('runs once per upstream completion, with the upstream run and its window', async () => {
    s = new SchedulerTest('after_runs');
    s.writeSchedules(`schedules:
  up:
    job: sleep
    every: 1s
    params: { ms: 20 }
  down:
    job: echo-upstream
    after: up
`);
    const running = await s.start({ jobs });
    const downs = await waitFor(async () => {
      const rows = (await runsOf('down')).filter((row) => row.state === 'completed');
      return rows.length >= 3 && rows;
    }, 'three completed runs of down');
    const ups = new Map((await runsOf('up')).map((row) => [row.run_id, row]));
    for (const down of downs) {
      expect(down.trigger).toBe('after');
      const upstream = ups.get(down.result.upstream.runId);
      expect(upstream?.state).toBe('completed');
      expect(down.triggered_by).toBe(`up/${upstream?.run_id}`);
      expect(down.result.upstream.schedule).toBe('up');
      // The upstream's window is the downstream run's window, and it is handed over as it was.
      expect(down.window_from).toEqual(upstream?.window_from);
      expect(down.window_to).toEqual(upstream?.window_to);
      expect(down.result.upstream.window).toEqual({
        from: upstream?.window_from.toISOString(),
        to: upstream?.window_to.toISOString(),
      });
    }
    // One downstream run per upstream completion, never two for the same one.
    const followed = downs.map((down) => down.result.upstream.runId);
    expect(new Set(followed).size).toBe(followed.length);
    const view = (await s.schedules(running)).find((schedule) => schedule.name === 'down');
    expect(view).toMatchObject({ cadence: 'after up', after: 'up', scheduled: false });
  });

  it('`tickflow validate` refuses a cycle, naming the schedules', async () => {
    s = new SchedulerTest('after_cycle');
    s.writeSchedules(`schedules:
  a:
    job: sleep
    after: b
  b:
    job: sleep
    after: a
`);
    const result = await runCli(['validate', s.file], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr + result.stdout).toMatch(/schedules a → b → a wait for each other in a cycle/);
  });
});
