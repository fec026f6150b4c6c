import { describe, expect, it } from 'vitest';
import {
  ACCOUNT_MEAN_GAP_SECONDS,
  accountsForRate,
  counties,
  POPULATION_SIZE,
  Population,
  population,
  populationForRate,
} from './population';

describe('population', () => {
  it('derives an account from its seed and index alone, whatever the population size', () => {
    const small = new Population(5_000);
    const large = new Population(4_000_000);
    const again = new Population(4_000_000);
    expect(large.account(1_234)).toEqual(small.account(1_234));
    expect(again.account(3_999_999)).toEqual(large.account(3_999_999));
    expect(again.account(3_999_999).contacts).toEqual(large.account(3_999_999).contacts);
    expect(new Population(10, 1).account(3)).not.toEqual(new Population(10, 2).account(3));
    expect(large.account(7).phone).not.toBe(large.account(8).phone);
  });

  it('knows which ids are its own, and re-derives an account from its id', () => {
    const people = new Population(2_000_000);
    for (const index of [0, 4_999, 999_999, 1_999_999]) {
      const account = people.account(index);
      expect(people.has(account.id)).toBe(true);
      expect(people.byId(account.id)).toEqual(account);
    }
    expect(people.account(0).id).toBe('ACC-000001');
    expect(people.account(1_999_999).id).toBe('ACC-2000000');
    for (const stranger of ['ACC-2000001', 'ACC-000000', 'ACC-0000001', 'ACC-00001', 'acc-000001', 'X'])
      expect(people.has(stranger), stranger).toBe(false);
    expect(people.byId('ACC-2000001')).toBeUndefined();
  });

  it('grows with the rate so that each account keeps ~4 transactions a day', () => {
    expect(accountsForRate(200)).toBe(4_000_000);
    expect(accountsForRate(200) / 200).toBe(ACCOUNT_MEAN_GAP_SECONDS);
    // The replay's one transaction every 4 s is the classic 5,000-account population.
    expect(accountsForRate(0.25)).toBe(POPULATION_SIZE);
    expect(accountsForRate(0.001)).toBe(POPULATION_SIZE);
    expect(populationForRate(200).size).toBe(4_000_000);
    expect(populationForRate(200)).toBe(populationForRate(200));
  });

  it('spreads accounts over Kenyan counties, Nairobi the largest market', () => {
    const people = population(20_000);
    const byCounty = new Map<string, number>();
    for (let index = 0; index < people.size; index++) {
      const { county } = people.account(index);
      byCounty.set(county, (byCounty.get(county) ?? 0) + 1);
    }
    expect([...byCounty.keys()].sort()).toEqual([...counties].sort());
    const share = (county: string) => (byCounty.get(county) ?? 0) / people.size;
    expect(share('Nairobi')).toBeGreaterThan(0.2);
    expect(share('Nairobi')).toBeLessThan(0.3);
    expect(share('Mombasa')).toBeGreaterThan(0.02);
    expect(share('Kiambu')).toBeGreaterThan(share('Siaya'));
  });

  it('refuses a size that is not a whole number of accounts, naming it', () => {
    expect(() => new Population(0)).toThrow(/population size must be a whole number of accounts ≥ 1, got 0/);
    expect(() => new Population(2.5)).toThrow(/got 2.5/);
  });
});
