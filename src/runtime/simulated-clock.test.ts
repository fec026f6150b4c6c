import { describe, expect, it } from 'vitest';
import { eventWindow } from './simulated-clock';

const now = Date.parse('2025-06-01T10:00:00Z');

describe('eventWindow', () => {
  it('continues from where the previous run ended, up to now', () => {
    expect(eventWindow(now - 1_000, now, 1_000)).toEqual({ from: new Date(now - 1_000), to: new Date(now) });
    expect(eventWindow(now - 300, now, 1_000)).toEqual({ from: new Date(now - 300), to: new Date(now) });
  });

  it('spans at most maxSpan after a pause or on the first run', () => {
    expect(eventWindow(now - 3_600_000, now, 1_000).from).toEqual(new Date(now - 1_000));
    expect(eventWindow(undefined, now, 2_500).from).toEqual(new Date(now - 2_500));
  });

  it('ignores an end ahead of the wall clock (the old accelerated clock), so nothing is in the future', () => {
    const window = eventWindow(now + 12 * 3_600_000, now, 1_000);
    expect(window).toEqual({ from: new Date(now - 1_000), to: new Date(now) });
  });
});
