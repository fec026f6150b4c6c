import { describe, expect, it } from 'vitest';
import type { Schedule } from '../schedules/schedule';
import { runWindowOf, scheduledAt, startDelaySeconds, triggerOfRun, windowRunId } from './run-ids';

const due = new Date('2024-03-01T10:00:00Z');
const hourly = { trigger: { every: 3_600_000 } } as Schedule;
const window = { from: new Date('2024-02-01T00:00:00Z'), to: new Date('2024-02-01T01:00:00Z') };

describe('runWindowOf', () => {
  it("a scheduled run: its slot on the job's own cadence, over the file's", () => {
    const job = {
      id: `repeat:x:${due.getTime()}`,
      repeatJobKey: 'x',
      timestamp: 0,
      opts: { repeat: { every: 60_000 } },
    };
    expect(runWindowOf(job, due, hourly)).toEqual({ from: new Date('2024-03-01T09:59:00Z'), to: due });
    const cron = { ...job, opts: { repeat: { pattern: '0 */15 * * * *', tz: 'UTC' } } };
    expect(runWindowOf(cron, due, hourly).from).toEqual(new Date('2024-03-01T09:45:00Z'));
  });

  it('backfill and catch-up runs: the window in their id, whatever the due time', () => {
    for (const id of [windowRunId('backfill', window, 'ab12cd34'), windowRunId('catchup', window)]) {
      expect(runWindowOf({ id, timestamp: 0, opts: {} }, due, hourly)).toEqual(window);
    }
  });

  it("a manual run: the schedule's cadence ending at the trigger time; empty when the schedule is gone", () => {
    const job = { id: 'manual-1', timestamp: due.getTime(), opts: {} };
    expect(runWindowOf(job, due, hourly)).toEqual({ from: new Date('2024-03-01T09:00:00Z'), to: due });
    expect(runWindowOf(job, due, undefined)).toEqual({ from: due, to: due });
  });
});

describe('triggerOfRun', () => {
  it('tells the four kinds of run apart by id', () => {
    expect(triggerOfRun('manual-0f3a')).toBe('manual');
    expect(triggerOfRun(windowRunId('backfill', window, 'ab12cd34'))).toBe('backfill');
    expect(triggerOfRun(windowRunId('catchup', window))).toBe('catchup');
    expect(triggerOfRun(`repeat:x:${due.getTime()}`)).toBe('schedule');
  });
});

describe('scheduledAt', () => {
  const queuedAt = due.getTime() + 5_000;

  it("a scheduled run: the slot in its id; a catch-up run: its window's end, whenever queued", () => {
    const scheduled = { id: `repeat:x:${due.getTime()}`, repeatJobKey: 'x', timestamp: queuedAt, opts: {} };
    expect(scheduledAt(scheduled)).toEqual(due);
    expect(scheduledAt({ id: windowRunId('catchup', window), timestamp: queuedAt, opts: {} })).toEqual(
      window.to,
    );
  });

  it('a backfill or manual run: when queued, plus its delay', () => {
    const backfill = { id: windowRunId('backfill', window, 'ab12cd34'), timestamp: queuedAt, opts: {} };
    expect(scheduledAt(backfill)).toEqual(new Date(queuedAt));
    expect(scheduledAt({ id: 'manual-1', timestamp: queuedAt, opts: { delay: 1_000 } })).toEqual(
      new Date(queuedAt + 1_000),
    );
  });
});

describe('startDelaySeconds', () => {
  const scheduled = { id: `repeat:x:${due.getTime()}`, repeatJobKey: 'x', timestamp: 0, opts: {} };
  const started = due.getTime() + 250;

  it("a scheduled run's first attempt: started after its slot", () => {
    expect(startDelaySeconds({ ...scheduled, attemptsStarted: 1, processedOn: started })).toBe(0.25);
  });

  it('none for a retry, a run not started, or a catch-up or backfill run (late by design)', () => {
    expect(startDelaySeconds({ ...scheduled, attemptsStarted: 2, processedOn: started })).toBeUndefined();
    expect(startDelaySeconds({ ...scheduled, attemptsStarted: 1, processedOn: undefined })).toBeUndefined();
    const catchup = { id: windowRunId('catchup', window), timestamp: 0, opts: {} };
    expect(startDelaySeconds({ ...catchup, attemptsStarted: 1, processedOn: started })).toBeUndefined();
    // Behind the rest of its backfill and the live runs: its wait says nothing of the scheduler's timing.
    const backfill = { id: windowRunId('backfill', window, 'ab12cd34'), timestamp: 0, opts: {} };
    expect(startDelaySeconds({ ...backfill, attemptsStarted: 1, processedOn: started })).toBeUndefined();
  });
});

describe('re-run ids', () => {
  it('carry the window of the run they redo, are due when queued and count in the start delay', () => {
    const id = windowRunId('rerun', window, 'ab12cd34');
    expect(id).toBe(`rerun-${window.from.getTime()}-${window.to.getTime()}-ab12cd34`);
    expect(triggerOfRun(id)).toBe('rerun');
    const job = { id, timestamp: due.getTime(), opts: {} };
    expect(runWindowOf(job, due, hourly)).toEqual(window);
    expect(scheduledAt(job)).toEqual(due);
    expect(startDelaySeconds({ ...job, attemptsStarted: 1, processedOn: due.getTime() + 1_500 })).toBe(1.5);
  });
});
