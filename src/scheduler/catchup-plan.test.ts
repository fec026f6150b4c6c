import { describe, expect, it } from 'vitest';
import type { Schedule } from '../schedules/schedule';
import { MAX_CATCHUP_RUNS, planCatchup } from './catchup-plan';

const at = (seconds: number) => new Date(Date.UTC(2024, 2, 1, 10, 0, seconds));
const everySecond = (catchup: Schedule['catchup'], catchupWindow = 3_600_000) => ({
  trigger: { every: 1_000 },
  catchup,
  catchupWindow,
});

// Paused after the run due at 0 s; the held job is due at 1 s; resumed at 3.5 s: 1, 2 and 3 missed.
const paused = { covered: at(0), held: at(1), now: new Date(at(3).getTime() + 500) };

describe('planCatchup', () => {
  it('none: nothing beyond the held run', () => {
    expect(planCatchup({ schedule: everySecond('none'), ...paused })).toEqual({ slots: [], dropHeld: false });
  });

  it('all: every missed slot but the held one, oldest first', () => {
    expect(planCatchup({ schedule: everySecond('all'), ...paused })).toEqual({
      slots: [at(2), at(3)],
      dropHeld: false,
    });
  });

  it('all: only slots within catchupWindow of now', () => {
    const plan = planCatchup({ schedule: everySecond('all', 1_000), ...paused });
    expect(plan.slots).toEqual([at(3)]);
  });

  it(`all: at most ${MAX_CATCHUP_RUNS}, the newest`, () => {
    const now = at(5_000);
    const plan = planCatchup({ schedule: everySecond('all'), covered: at(0), held: at(1), now });
    expect(plan.slots).toHaveLength(MAX_CATCHUP_RUNS);
    expect(plan.slots.at(-1)).toEqual(now);
  });

  it('last: the latest slot, dropping the stale held run', () => {
    expect(planCatchup({ schedule: everySecond('last'), ...paused })).toEqual({
      slots: [at(3)],
      dropHeld: true,
    });
  });

  it('last: nothing when the held run is itself the latest slot (on time, or one slot late)', () => {
    const onTime = { covered: at(0), held: at(1), now: new Date(at(1).getTime() + 200) };
    expect(planCatchup({ schedule: everySecond('last'), ...onTime }).slots).toEqual([]);
    expect(planCatchup({ schedule: everySecond('all'), ...onTime }).slots).toEqual([]);
  });

  it('last: the held run already started (the scheduler moved on) still gets the latest window', () => {
    const moved = { covered: at(1), held: at(4), now: new Date(at(3).getTime() + 500) };
    expect(planCatchup({ schedule: everySecond('last'), ...moved })).toEqual({
      slots: [at(3)],
      dropHeld: false,
    });
  });

  it('cron: the missed fire times', () => {
    const schedule = {
      trigger: { cron: '*/10 * * * * *', timezone: 'UTC' },
      catchup: 'all' as const,
      catchupWindow: 3_600_000,
    };
    const plan = planCatchup({ schedule, covered: at(0), held: at(10), now: at(45) });
    expect(plan.slots).toEqual([at(20), at(30), at(40)]);
  });
});
