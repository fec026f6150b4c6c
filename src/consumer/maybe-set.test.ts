import { describe, expect, it } from 'vitest';
import { MaybeSet } from './maybe-set';

describe('MaybeSet', () => {
  it('never forgets a value, and rarely claims one it was not given', () => {
    const set = new MaybeSet();
    const added = Array.from({ length: 200_000 }, (_, i) => `ACC-${i}`);
    for (const value of added) set.add(value);
    expect(added.every((value) => set.has(value))).toBe(true);
    let falseMaybes = 0;
    for (let i = 0; i < 100_000; i++) if (set.has(`other-${i}`)) falseMaybes++;
    // ~0.2 % expected at this load; a bad hash would give far more.
    expect(falseMaybes).toBeLessThan(1_000);
  });
});
