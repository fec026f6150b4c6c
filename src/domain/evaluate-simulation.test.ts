import { describe, expect, it } from 'vitest';
import { evaluateSimulation } from './evaluate-simulation';

const base = { count: 20_000, fraudRate: 0.05, seed: 3, threshold: 0.5 };

describe('evaluateSimulation of a live regime', () => {
  it('scores a 200/s stream from a population sized for it: precise, though short of the replay without history', () => {
    const noonInNairobi = new Date('2025-01-01T09:00:00Z');
    const live = evaluateSimulation({ ...base, ratePerSecond: 200, endAt: noonInNairobi });
    const replay = evaluateSimulation({ ...base, endAt: noonInNairobi });
    expect(live.labelled).toBe(20_000);
    // 5,000 accounts at 200/s would make nearly every account a velocity alarm (precision ~0.06).
    expect(live.model.precision).toBeGreaterThan(0.7);
    expect(live.model.recall).toBeGreaterThan(0.5);
    expect(live.model.precision).toBeLessThan(replay.model.precision ?? 0);
  });
});
