import { describe, expect, it } from 'vitest';
import { evaluateSimulation } from './evaluate-simulation';
import { quality } from './evaluation';
import type { Features } from './features';
import { scoreFeatures } from './model';
import { emptyProfile, foldProfile } from './profile';
import { featurize } from './scoring';
import { simulate } from './simulator';
import { withoutLabel } from './transaction';

const ordinary: Features = {
  amountKes: 1_500,
  usualAmountKes: 1_500,
  amountRatio: 1,
  historyCount: 20,
  recentCount: 0,
  newDevice: false,
  newCountry: false,
  night: false,
};

describe('built-in model', () => {
  it('scores an ordinary transaction low, with no reasons', () => {
    const { score, reasons } = scoreFeatures(ordinary);
    expect(score).toBeLessThan(0.05);
    expect(reasons).toEqual([]);
  });

  it('explains a high score, strongest reason first', () => {
    const { score, reasons } = scoreFeatures({
      ...ordinary,
      amountRatio: 20,
      amountKes: 30_000,
      newDevice: true,
    });
    expect(score).toBeGreaterThan(0.9);
    expect(reasons.map((r) => r.signal)).toEqual(['amount_above_usual', 'new_device']);
    expect(reasons[0]?.detail).toContain('20.0× the usual KES 1,500');
  });

  it('learns devices, countries and recent activity from history', () => {
    const [first, second] = simulate({ count: 2, fraudRate: 0, seed: 4 }).map(withoutLabel);
    if (!first || !second) throw new Error('expected two transactions');
    const sameAccount = { ...second, accountId: first.accountId, deviceId: 'dev-unknown', country: 'AE' };
    const profiles = new Map([[first.accountId, foldProfile(emptyProfile(), first)]]);
    const [item] = featurize([sameAccount], profiles);
    expect(item?.features).toMatchObject({ newDevice: true, newCountry: true, historyCount: 1 });
    expect(profiles.get(first.accountId)?.devices[0]).toBe('dev-unknown');
  });

  it('beats the amount-threshold rule on both precision and recall', () => {
    const { model, rule, fraud } = evaluateSimulation({
      count: 60_000,
      fraudRate: 0.05,
      seed: 3,
      threshold: 0.5,
    });
    expect(fraud).toBeGreaterThan(2_000);
    expect(model.precision).toBeGreaterThan(rule.precision ?? 1);
    expect(model.recall).toBeGreaterThan(rule.recall ?? 1);
  });
});

describe('quality', () => {
  it('counts precision and recall, null when undefined', () => {
    expect(quality([true, true, false, false], [true, false, true, false])).toMatchObject({
      precision: 0.5,
      recall: 0.5,
    });
    expect(quality([false], [false])).toMatchObject({ precision: null, recall: null });
  });
});
