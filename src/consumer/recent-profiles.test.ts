import { describe, expect, it } from 'vitest';
import { emptyProfile } from '../domain/profile';
import { RecentProfiles } from './recent-profiles';

const profile = (count: number) => ({ ...emptyProfile(), count });

describe('RecentProfiles', () => {
  it('evicts the least recently scored accounts down to capacity, and sends them back to the run', () => {
    const recent = new RecentProfiles(2);
    recent.set('a', profile(1));
    recent.set('b', profile(1));
    recent.set('c', profile(1));
    recent.set('a', profile(2)); // scored again: now the most recent
    expect([...recent.evict().keys()]).toEqual(['b']);
    expect([...recent.inMemory.keys()]).toEqual(['c', 'a']);
    // An evicted account is read on the run's transaction; one never met, from committed history.
    expect(recent.reserve(1, ['a', 'b', 'd'])).toEqual({ own: ['b'], stored: ['d'] });
  });

  it('keeps an account a checked piece will read until that piece is scored', () => {
    const recent = new RecentProfiles(1);
    recent.set('a', profile(1));
    recent.reserve(7, ['a']);
    recent.set('b', profile(1));
    expect([...recent.evict().keys()]).toEqual(['b']);
    recent.release(7, ['a']);
    recent.set('c', profile(1));
    expect([...recent.evict().keys()]).toEqual(['a']);
  });
});
