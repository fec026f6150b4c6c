import { describe, expect, it } from 'vitest';
import { eventWindow } from './producer-batch';

describe("producer-batch's event window", () => {
  const at = (ms: number) => new Date(ms);
  const now = 1_700_000_000_000;

  it("is the run's window when it has ended", () => {
    expect(eventWindow({ from: at(now - 2_000), to: at(now - 1_000) }, 200, 200, now)).toEqual({
      from: at(now - 2_000),
      to: at(now - 1_000),
    });
  });

  it('is cut at the wall clock, so no event is stamped in the future', () => {
    expect(eventWindow({ from: at(now - 500), to: at(now + 500) }, 200, 200, now)).toEqual({
      from: at(now - 500),
      to: at(now),
    });
  });

  it('spans count ÷ ratePerSecond seconds ending now for a run without a span', () => {
    expect(eventWindow({ from: at(now), to: at(now) }, 400, 200, now)).toEqual({
      from: at(now - 2_000),
      to: at(now),
    });
  });
});
