import { afterEach, describe, expect, it } from 'vitest';
import { listAudit } from '../../src/control/audit';
import { getRun } from '../../src/control/runs';
import { setPaused } from '../../src/control/toggle';
import { triggerRun } from '../../src/control/trigger';
import { webhook } from '../webhook';
import { finishedRuns, SchedulerTest, sleep, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

/** A schedule's switch as PostgreSQL records it. */
async function switchOf(name: string) {
  const { rows } = await s.db.query<{ paused: boolean; note: string | null; changed_by: string | null }>(
    'select paused, note, changed_by from schedule_state where schedule = $1',
    [name],
  );
  return rows[0];
}

/** A schedule's runs from the history, oldest first. */
async function runsOf(name: string) {
  const { rows } = await s.db.query<{
    run_id: string;
    state: string;
    deadline_missed_at: Date | null;
    skipped_slots: number | null;
    skipped_reason: string | null;
  }>(
    `select run_id, state, deadline_missed_at, skipped_slots, skipped_reason from runs
      where schedule = $1 order by due_at`,
    [name],
  );
  return rows;
}

describe('failure policy (real Redis and PostgreSQL, a real webhook)', () => {
  it('pauseAfter: 3 pauses an always-failing schedule after exactly 3 failed runs, noted by tickflow, with a notice; a resume gives it 3 more', async () => {
    const hook = await webhook();
    s = new SchedulerTest('pause_after');
    s.writeSchedules(`schedules:
  broken:
    job: sleep
    every: 150ms
    params: { failAttempts: 99 }
    pauseAfter: 3
    notify: { onPause: "${hook.url}" }
`);
    const app = await s.start();
    const paused = await waitFor(
      async () => (await switchOf('broken'))?.paused && switchOf('broken'),
      'the pause',
    );
    expect(paused).toMatchObject({ note: 'paused after 3 failed runs in a row', changed_by: 'tickflow' });
    // Four more slots pass: a run that started after the third would show here.
    await sleep(600);
    const runs = await runsOf('broken');
    expect(runs.map((run) => run.state)).toEqual(['failed', 'failed', 'failed']);
    await waitFor(async () => hook.of('schedule_paused').length === 1, 'the schedule_paused notice');
    expect(hook.bodies).toHaveLength(1);
    expect(hook.bodies[0]).toMatchObject({
      event: 'schedule_paused',
      schedule: 'broken',
      runId: runs[2]?.run_id,
      note: 'paused after 3 failed runs in a row',
      by: 'tickflow',
      consecutiveFailures: 3,
    });
    const audit = await listAudit(app.control, { schedule: 'broken', limit: 10 });
    expect(audit.entries[0]).toMatchObject({
      by: 'tickflow',
      action: 'pause',
      what: 'paused after 3 failed runs in a row',
    });

    // A person's resume: three more failed runs in a row, then paused again.
    await setPaused(app.control, 'broken', { paused: false, by: 'api:ops' });
    await waitFor(async () => (await switchOf('broken'))?.paused, 'the second pause', 20_000);
    await sleep(450);
    expect((await runsOf('broken')).filter((run) => run.state === 'failed')).toHaveLength(6);
    await waitFor(async () => hook.of('schedule_paused').length === 2, 'the second notice');
  });

  it('deadline: fires once for a slow run (whatever its attempts), while it runs, and never for a fast one', async () => {
    const hook = await webhook();
    s = new SchedulerTest('deadline');
    s.writeSchedules(`schedules:
  slow:
    job: sleep
    every: 1m
    params: { ms: 700, failAttempts: 1 }
    retries: 1
    backoff: 50ms
    deadline: 300ms
    notify: { onDeadline: "${hook.url}" }
  fast:
    job: sleep
    every: 200ms
    params: { ms: 5 }
    deadline: 1s
    notify: { onDeadline: "${hook.url}" }
`);
    const app = await s.start();
    const fastRuns = finishedRuns(app, 'fast', 6);
    const [notice] = await waitFor(
      async () => hook.of('run_deadline_missed', 'slow').length > 0 && hook.of('run_deadline_missed', 'slow'),
      'the notice',
    );
    // Sent while the run still runs: its first attempt takes 700 ms, the deadline is 300 ms after its slot.
    const [slowRun] = await runsOf('slow');
    expect(slowRun?.state).toMatch(/^(active|retrying)$/);
    expect(notice).toMatchObject({
      event: 'run_deadline_missed',
      schedule: 'slow',
      runId: slowRun?.run_id,
      jobType: 'sleep',
      attempt: 1,
      deadline: '300ms',
    });
    await waitFor(async () => (await runsOf('slow'))[0]?.state === 'completed', 'the slow run to complete');
    await fastRuns;
    // The second attempt also ran past the deadline: no second notice.
    expect(hook.of('run_deadline_missed', 'slow')).toHaveLength(1);
    expect(hook.of('run_deadline_missed', 'fast')).toHaveLength(0);
    const detail = await getRun(app.control, 'slow', slowRun?.run_id ?? '');
    expect(detail).toMatchObject({ state: 'completed', attempts: 2 });
    expect(Date.parse(detail.deadlineMissedAt ?? '')).toBeLessThan(Date.parse(detail.finishedAt ?? ''));
    expect((await runsOf('fast')).every((run) => run.deadline_missed_at === null)).toBe(true);
  });

  it('notify.onRecovery hears of a completed run that ends a notified streak', async () => {
    const hook = await webhook();
    s = new SchedulerTest('recovery');
    s.writeSchedules(`schedules:
  nap:
    job: sleep
    cron: "0 0 1 1 *"
    notify: { onFailure: "${hook.url}", onRecovery: "${hook.url}", after: 2 }
`);
    const app = await s.start();
    for (const failAttempts of [99, 99, 0]) {
      const done = finishedRuns(app, 'nap', 1);
      await triggerRun(app.control, 'nap', { params: { failAttempts }, by: 'api:ops' });
      await done;
    }
    await waitFor(async () => hook.bodies.length === 2, 'two notices');
    expect(hook.bodies.map((body) => body.event)).toEqual(['run_failed', 'run_recovered']);
    expect(hook.bodies[1]).toMatchObject({ schedule: 'nap', failedBefore: 2 });
  });

  it('counts the slots a late run skipped: overlap (a run still running) and paused (a pause held it)', async () => {
    s = new SchedulerTest('skipped');
    s.writeSchedules(`schedules:
  long:
    job: sleep
    every: 200ms
    params: { ms: 700 }
  held:
    job: sleep
    every: 200ms
`);
    const app = await s.start({ web: true });
    await finishedRuns(app, 'long', 2, () => true, { timeoutMs: 20_000 });
    // The first run may start late for its own slot (workers still starting: reason late); the
    // runs after it each wait for the one before (overlap).
    const overlapped = await waitFor(
      async () => (await runsOf('long')).find((run) => run.skipped_slots && run.skipped_reason === 'overlap'),
      'a run of long that skipped slots while the one before it ran',
    );
    // A 700 ms run on a 200 ms cadence: the next run starts ~500 ms after its slot, two slots later.
    expect(overlapped).toMatchObject({ skipped_reason: 'overlap' });
    expect(overlapped.skipped_slots).toBeGreaterThanOrEqual(1);
    expect(overlapped.skipped_slots).toBeLessThanOrEqual(4);

    await setPaused(app.control, 'held', { paused: true, by: 'api:ops' });
    // The pause holds the schedule through about five of its 200 ms slots.
    await sleep(1_000);
    const resumed = finishedRuns(app, 'held', 1);
    await setPaused(app.control, 'held', { paused: false, by: 'api:ops' });
    const [held] = await resumed;
    // The skipped slots are counted beside the run (from its start), not before its end: wait for them.
    const run = await waitFor(async () => {
      const found = await getRun(app.control, 'held', held?.runId ?? '');
      return found.skipped ? found : undefined;
    }, 'the skipped slots of the held run recorded');
    expect(run.skipped?.reason).toBe('paused');
    expect(run.skipped?.slots).toBeGreaterThanOrEqual(3);

    const metrics = await (await fetch(`${app.web?.url}/metrics`)).text();
    expect(metrics).toMatch(/tickflow_slots_skipped_total\{schedule="long",reason="overlap"\} [1-9]/);
    expect(metrics).toMatch(/tickflow_slots_skipped_total\{schedule="held",reason="paused"\} [3-9]/);
  });
});
