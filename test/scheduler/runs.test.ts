import os from 'node:os';
import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { getRun } from '../../src/control/runs';
import { closeDroppedRuns } from '../../src/control/sweep';
import { setPaused } from '../../src/control/toggle';
import { triggerRun } from '../../src/control/trigger';
import { type RunRow, SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

/** Intervals [start, finish) of finished runs that overlap another one. */
function overlaps(runs: RunRow[]): number {
  const spans = runs
    .filter((r) => r.finished_at)
    .map((r) => [r.started_at.getTime(), r.finished_at?.getTime() ?? 0] as const)
    .sort((a, b) => a[0] - b[0]);
  return spans.slice(1).filter(([start], i) => start < (spans[i]?.[1] ?? 0)).length;
}

const finished = (runs: RunRow[]) => runs.filter((r) => r.state !== 'active');

async function jobLog(s: SchedulerTest, schedule: string, jobId: string): Promise<string[]> {
  const queue = new Queue(schedule, { connection: s.redis, prefix: s.config.queuePrefix });
  const { logs } = await queue.getJobLogs(jobId);
  await queue.close();
  return logs;
}

describe('runs (real Redis and PostgreSQL)', () => {
  it('overlap skip: never two active runs of a schedule, even with two worker processes', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  busy:
    job: sleep
    every: 100ms
    params: { ms: 250 }
`);
    await s.start({ workers: false });
    const workers = await s.spawnReady(2, ['worker'], 'workers started');
    const before = await waitFor(async () => {
      const rows = finished(await s.runs('busy'));
      return rows.length >= 6 && rows;
    }, 'six runs with both workers up');
    // The worker finishing a run takes the next waiting one at once; stop it so the other takes over.
    const busiest = before.at(-1)?.worker;
    const stopped = workers.find((w) => busiest === `${os.hostname()}:${w.process.pid}`);
    expect(stopped).toBeDefined();
    stopped?.process.kill('SIGTERM');
    expect(await stopped?.exited).toBe(0);
    const runs = await waitFor(async () => {
      const rows = finished(await s.runs('busy'));
      return rows.filter((r) => r.worker !== busiest).length >= 3 && rows;
    }, 'runs on the other worker');
    expect(new Set(runs.map((r) => r.worker)).size).toBe(2);
    expect(overlaps(runs)).toBe(0);
    const other = workers.find((w) => w !== stopped);
    other?.process.kill('SIGTERM');
    expect(await other?.exited).toBe(0);
  }, 60_000);

  it('overlap allow: runs of one schedule do overlap (the check above can fail)', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  busy:
    job: sleep
    every: 100ms
    params: { ms: 350 }
    overlap: allow
`);
    await s.start();
    const runs = await waitFor(async () => {
      const rows = finished(await s.runs('busy'));
      return rows.length >= 6 && rows;
    }, 'six runs');
    expect(overlaps(runs)).toBeGreaterThan(0);
  });

  it('a run over its timeout is aborted and fails with a timeout error', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  slow:
    job: sleep
    every: 1h
    params: { ms: 10000 }
    timeout: 300ms
`);
    await s.start();
    const [run] = await waitFor(async () => {
      const rows = finished(await s.runs('slow'));
      return rows.length === 1 && rows;
    }, 'the run to fail');
    expect(run).toMatchObject({
      state: 'failed',
      attempt: 1,
      error: 'run timed out after 300ms and was aborted',
    });
    const took = (run?.finished_at?.getTime() ?? 0) - (run?.started_at.getTime() ?? 0);
    expect(took).toBeGreaterThanOrEqual(290);
    expect(took).toBeLessThan(2_000);
    const logs = await jobLog(s, 'slow', String(run?.job_id));
    expect(logs.join('\n')).toMatch(/ERROR attempt 1 failed: run timed out after 300ms/);
  });

  it('a retried run records each attempt, with its log lines in the job log', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  flaky:
    job: sleep
    every: 1h
    params: { failAttempts: 2 }
    retries: 2
    backoff: 100ms
`);
    await s.start();
    const attempts = await waitFor(async () => {
      const rows = await s.runs('flaky');
      return rows.some((r) => r.state === 'completed') && rows;
    }, 'the third attempt to succeed');
    expect(attempts.map((r) => [r.attempt, r.state])).toEqual([
      [1, 'failed'],
      [2, 'failed'],
      [3, 'completed'],
    ]);
    expect(new Set(attempts.map((r) => r.job_id)).size).toBe(1);
    expect(attempts[0]?.error).toBe('failing attempt 1 on purpose (failAttempts=2)');
    const logs = (await jobLog(s, 'flaky', String(attempts[0]?.job_id))).join('\n');
    expect(logs).toMatch(/attempt 1 of sleep started/);
    expect(logs).toMatch(/ERROR attempt 2 failed: failing attempt 2 on purpose/);
    expect(logs).toMatch(/attempt 3 completed in \d+ms/);
  });

  it('a worker killed mid-run leaves a stalled run that another worker retries', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  long:
    job: sleep
    every: 1h
    params: { ms: 1500 }
`);
    await s.start({ workers: false });
    const doomed = s.spawn([], { script: 'test/scheduler/fixtures/short-lock-worker.ts' });
    await waitFor(
      async () => (await s.runs('long')).some((r) => r.state === 'active'),
      'the run to start',
      20_000,
    );
    doomed.process.kill('SIGKILL');
    await s.start({ workerTuning: { lockDuration: 1_000, stalledInterval: 500 } });
    const attempts = await waitFor(async () => {
      const rows = await s.runs('long');
      return rows.some((r) => r.state === 'completed') && rows;
    }, 'the retried run to complete');
    expect(attempts.map((r) => [r.attempt, r.state])).toEqual([
      [1, 'failed'],
      [2, 'completed'],
    ]);
    expect(attempts[0]?.error).toMatch(/^stalled/);
  }, 40_000);

  it('a failure a retry cannot fix fails the run at once; others use their retries', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules(`schedules:
  doomed:
    job: sleep
    cron: "0 0 * * *"
    retries: 3
    backoff: 50ms
    params: { failAttempts: 99 }
`);
    const running = await s.start();
    const by = 'test';
    const permanent = await triggerRun(running.control, 'doomed', { params: { permanent: true }, by });
    const transient = await triggerRun(running.control, 'doomed', { by });
    const finalState = (runId: string) =>
      waitFor(async () => {
        const run = await getRun(running.control, 'doomed', runId);
        return run.state === 'failed' && run;
      }, `run ${runId} to fail for good`);
    expect((await finalState(permanent.runId)).attempts).toBe(1);
    expect((await finalState(transient.runId)).attempts).toBe(4);
  });

  it('a manual run dropped before it ran (Bull Board "empty") is closed in the history', async () => {
    s = new SchedulerTest('runs');
    s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    cron: "0 0 * * *"\n');
    const { control } = await s.start();
    await setPaused(control, 'nap', { paused: true, by: 'test' });
    const { runId } = await triggerRun(control, 'nap', { by: 'test' });
    expect((await getRun(control, 'nap', runId)).state).toBe('queued');
    await control.queues.get('nap').drain(); // what Bull Board's "empty" does
    expect(await closeDroppedRuns(control, 0)).toBe(1);
    expect(await getRun(control, 'nap', runId)).toMatchObject({
      state: 'failed',
      error: expect.stringMatching(/^dropped before it ran/),
    });
  });
});
