import { describe, expect, it } from 'vitest';
import { isNight } from './nairobi-time';
import { counties, population, populationForRate } from './population';
import { isoTimestamp, Simulation, simulate } from './simulator';
import { transactionSchema } from './transaction';

const endAt = new Date('2025-03-01T12:00:00Z');

describe('simulate', () => {
  it('is reproducible from its seed and differs across seeds', () => {
    const a = simulate({ count: 200, fraudRate: 0.05, seed: 42, endAt });
    expect(simulate({ count: 200, fraudRate: 0.05, seed: 42, endAt })).toEqual(a);
    expect(simulate({ count: 200, fraudRate: 0.05, seed: 43, endAt })[0]).not.toEqual(a[0]);
  });

  it('produces valid, time-ordered transactions from the stable population, ending at endAt', () => {
    const stream = simulate({ count: 2_000, fraudRate: 0.05, seed: 1, endAt });
    const accounts = population();
    for (const transaction of stream) {
      expect(transactionSchema.safeParse(transaction).success).toBe(true);
      expect(accounts.has(transaction.accountId)).toBe(true);
      expect(Date.parse(transaction.timestamp)).toBeLessThanOrEqual(endAt.getTime());
    }
    const phones = stream.filter((t) => t.channel === 'mobile_money' && t.counterparty.startsWith('+'));
    expect(phones.length).toBeGreaterThan(100);
    expect(phones.every((t) => /^\+254(7\d|1[01])\d{7}$/.test(t.counterparty))).toBe(true);
  });

  it('hits the fraud rate with every pattern, each one recognisable', () => {
    const stream = simulate({ count: 40_000, fraudRate: 0.05, seed: 9, endAt });
    const fraud = stream.filter((t) => t.label?.fraud);
    expect(fraud.length / stream.length).toBeGreaterThan(0.04);
    expect(fraud.length / stream.length).toBeLessThan(0.06);
    const patterns = new Set(fraud.map((t) => t.label?.pattern));
    expect([...patterns].sort()).toEqual(['amount_spike', 'burst', 'new_device_abroad_night']);
    const night = fraud.filter((t) => t.label?.pattern === 'new_device_abroad_night');
    expect(night.every((t) => isNight(Date.parse(t.timestamp)) && t.country !== 'KE')).toBe(true);
    expect(stream.filter((t) => !t.label?.fraud).every((t) => t.label?.pattern === null)).toBe(true);
  });

  it('makes no fraud at fraudRate 0', () => {
    expect(simulate({ count: 5_000, fraudRate: 0, seed: 2, endAt }).some((t) => t.label?.fraud)).toBe(false);
  });

  it('draws the same stream piece by piece as in one go', () => {
    const options = { count: 3_000, fraudRate: 0.1, seed: 11, endAt };
    const pieces = new Simulation(options);
    const drawn = [];
    while (pieces.remaining > 0) drawn.push(...pieces.take(97));
    expect(drawn).toEqual(simulate(options));
  });

  it('stamps a live window in order, never after its end, with the fraud rate unchanged', () => {
    const window = { from: new Date(endAt.getTime() - 60_000), to: endAt };
    const stream = simulate({ count: 20_000, fraudRate: 0.05, seed: 5, window });
    const times = stream.map((t) => Date.parse(t.timestamp));
    expect(Math.max(...times)).toBeLessThanOrEqual(endAt.getTime());
    // Only a fraud burst reaches back before the window (its messages lead up to its last one).
    const early = stream.filter((t) => Date.parse(t.timestamp) < window.from.getTime());
    expect(early.every((t) => t.label?.pattern === 'burst')).toBe(true);
    const normal = stream.filter((t) => !t.label?.fraud).map((t) => Date.parse(t.timestamp));
    expect(normal).toEqual([...normal].sort((a, b) => a - b));
    // Spread over the whole minute, not bunched at one end.
    expect(normal.filter((at) => at < window.from.getTime() + 30_000).length / normal.length).toBeCloseTo(
      0.5,
      1,
    );
    const fraud = stream.filter((t) => t.label?.fraud).length / stream.length;
    expect(fraud).toBeGreaterThan(0.04);
    expect(fraud).toBeLessThan(0.06);
  });

  it("keeps accounts at a person's pace at 200 a second, which 5,000 accounts cannot", () => {
    const window = { from: new Date(endAt.getTime() - 60_000), to: endAt };
    const repeatShare = (accounts: number) => {
      const stream = simulate({
        count: 12_000,
        fraudRate: 0,
        seed: 4,
        window,
        population: population(accounts),
      });
      return 1 - new Set(stream.map((t) => t.accountId)).size / stream.length;
    };
    // The model's velocity signal fires on an account's second transaction within 10 minutes.
    expect(repeatShare(populationForRate(200).size)).toBeLessThan(0.01);
    expect(repeatShare(5_000)).toBeGreaterThan(0.5);
  });

  it("gives every transaction its account's home county, from a population sized for the rate", () => {
    const people = populationForRate(200);
    const window = { from: new Date(endAt.getTime() - 1_000), to: endAt };
    const stream = simulate({ count: 2_000, fraudRate: 0.05, seed: 8, window, population: people });
    for (const transaction of stream) {
      expect(people.has(transaction.accountId)).toBe(true);
      expect(transaction.county).toBe(people.byId(transaction.accountId)?.county);
      expect(counties).toContain(transaction.county);
    }
    // Drawn from 4 million, not from the first 5,000.
    const indexes = stream.map((t) => Number(t.accountId.slice(4)));
    expect(Math.max(...indexes)).toBeGreaterThan(1_000_000);
  });
});

describe('isoTimestamp', () => {
  it('writes what Date#toISOString writes', () => {
    const times = [
      0,
      999,
      86_399_999,
      86_400_000,
      Date.parse('2025-03-01T23:59:59.999Z'),
      253_402_300_799_999,
    ];
    for (let i = 0; i < 2_000; i++) times.push(Math.floor(((i * 7919) % 2_000) * 1.7e9 + i * 37));
    for (const ms of times) expect(isoTimestamp(ms)).toBe(new Date(ms).toISOString());
  });
});
