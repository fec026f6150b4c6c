import { describe, expect, it } from 'vitest';
import type { ClockSchedule } from '../schedules/schedule';
import { canonicalJson, matchesSpec, schedulerSpecOf } from './scheduler-spec';

const schedule: ClockSchedule = {
  name: 'heartbeat',
  job: 'sleep',
  trigger: { every: 5_000 },
  enabled: true,
  params: { ms: 10, failAttempts: 0 },
  overlap: 'skip',
  retries: 2,
  backoff: { type: 'fixed', delay: 500 },
  timeout: 60_000,
  keep: { completed: 100, failed: 500 },
  catchup: 'none',
  catchupWindow: 3_600_000,
};

/** A scheduler as Redis hands it back: other key order, plus fields of its own. */
const stored = {
  key: 'heartbeat',
  name: 'sleep',
  every: 5_000,
  next: 1,
  iterationCount: 3,
  offset: 40,
  template: {
    data: { failAttempts: 0, ms: 10 },
    opts: {
      removeOnFail: { count: 500 },
      removeOnComplete: { count: 100 },
      backoff: { delay: 500, type: 'fixed' },
      attempts: 3,
    },
  },
};

describe('scheduler spec', () => {
  it('turns a schedule into repeat options and a job template', () => {
    expect(schedulerSpecOf(schedule)).toEqual({
      repeat: { every: 5_000 },
      template: { name: 'sleep', data: schedule.params, opts: stored.template.opts },
    });
    expect(schedulerSpecOf({ ...schedule, trigger: { cron: '0 * * * *', timezone: 'UTC' } }).repeat).toEqual({
      pattern: '0 * * * *',
      tz: 'UTC',
    });
  });

  it('matches the stored scheduler whatever its key order', () => {
    expect(matchesSpec(stored, schedulerSpecOf(schedule))).toBe(true);
  });

  it.each([
    ['interval', { trigger: { every: 1_000 } }],
    ['params', { params: { ms: 11, failAttempts: 0 } }],
    ['job type', { job: 'other' }],
    ['retries', { retries: 0 }],
    ['history', { keep: { completed: 5, failed: 500 } }],
    ['trigger kind', { trigger: { cron: '* * * * *', timezone: 'UTC' } }],
  ])('sees a change of %s', (_what, change) => {
    expect(matchesSpec(stored, schedulerSpecOf({ ...schedule, ...change } as ClockSchedule))).toBe(false);
  });

  it('canonical JSON sorts keys at every depth', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { f: 1, e: 0 }], c: 3 } })).toBe(
      '{"a":{"c":3,"d":[2,{"e":0,"f":1}]},"b":1}',
    );
  });
});
