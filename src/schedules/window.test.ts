import { describe, expect, it } from 'vitest';
import { slotsBetween, windowEndingAt, windowsWithin } from './window';

const at = (time: string) => new Date(`2024-03-01T${time}Z`);
const iso = (windows: { from: Date; to: Date }[]) =>
  windows.map((w) => `${w.from.toISOString().slice(11, 19)}-${w.to.toISOString().slice(11, 19)}`);
const minute = { every: 60_000 };
const quarterHour = { cron: '*/15 * * * *', timezone: 'UTC' };

describe('windowEndingAt', () => {
  it('every X: the X before the due time', () => {
    expect(windowEndingAt(minute, at('10:05:00'))).toEqual({ from: at('10:04:00'), to: at('10:05:00') });
  });

  it('cron: from the previous fire time, also when the due time is itself a fire time', () => {
    expect(windowEndingAt(quarterHour, at('10:15:00'))).toEqual({ from: at('10:00:00'), to: at('10:15:00') });
    expect(windowEndingAt(quarterHour, at('10:20:00')).from).toEqual(at('10:15:00'));
  });

  it('cron in a time zone: fire times are read there', () => {
    const daily = { cron: '0 2 * * *', timezone: 'Europe/Paris' };
    expect(windowEndingAt(daily, new Date('2024-03-02T01:00:00Z')).from).toEqual(
      new Date('2024-03-01T01:00:00Z'),
    );
  });
});

describe('windowsWithin (backfill)', () => {
  it('every X: whole windows from --from, the partial tail left out', () => {
    expect(iso(windowsWithin(minute, at('10:00:00'), at('10:03:30'), 100))).toEqual([
      '10:00:00-10:01:00',
      '10:01:00-10:02:00',
      '10:02:00-10:03:00',
    ]);
  });

  it('cron: between fire times inside the range, a fire at --from included', () => {
    expect(iso(windowsWithin(quarterHour, at('10:00:00'), at('10:50:00'), 100))).toEqual([
      '10:00:00-10:15:00',
      '10:15:00-10:30:00',
      '10:30:00-10:45:00',
    ]);
    expect(iso(windowsWithin(quarterHour, at('10:01:00'), at('10:31:00'), 100))).toEqual([
      '10:15:00-10:30:00',
    ]);
  });

  it('stops at max, so a caller can tell "too many" without listing them all', () => {
    expect(windowsWithin({ every: 1_000 }, at('00:00:00'), at('23:00:00'), 5)).toHaveLength(5);
    expect(windowsWithin(quarterHour, at('00:00:00'), at('23:00:00'), 5)).toHaveLength(5);
  });

  it('a range shorter than one window holds none', () => {
    expect(windowsWithin(minute, at('10:00:00'), at('10:00:30'), 100)).toEqual([]);
  });
});

describe('slotsBetween (catch-up)', () => {
  it("every X: the anchor's grid in (after, until], oldest first", () => {
    const slots = slotsBetween(
      { every: 10_000 },
      { after: at('10:00:05'), until: at('10:00:40'), anchor: at('09:00:02') },
      100,
    );
    expect(slots.map((s) => s.toISOString().slice(11, 19))).toEqual(['10:00:12', '10:00:22', '10:00:32']);
  });

  it('cron: the fire times in (after, until], until itself included', () => {
    const slots = slotsBetween(
      quarterHour,
      { after: at('10:00:00'), until: at('10:45:00'), anchor: at('10:00:00') },
      100,
    );
    expect(slots).toEqual([at('10:15:00'), at('10:30:00'), at('10:45:00')]);
  });

  it('keeps the newest when capped, and none for an empty range', () => {
    const range = { after: at('10:00:00'), until: at('10:00:10'), anchor: at('10:00:00') };
    expect(slotsBetween({ every: 1_000 }, range, 2)).toEqual([at('10:00:09'), at('10:00:10')]);
    expect(slotsBetween({ cron: '* * * * * *', timezone: 'UTC' }, range, 2)).toEqual([
      at('10:00:09'),
      at('10:00:10'),
    ]);
    expect(slotsBetween({ every: 1_000 }, { ...range, until: range.after }, 5)).toEqual([]);
  });
});
