import { describe, expect, it } from 'vitest';
import type { ProfileWrites } from '../db/scoring-rows';
import { emptyProfile } from '../domain/profile';
import { RecentProfiles } from './recent-profiles';

const profile = (count: number) => ({ ...emptyProfile(), count });
const written = (writes: ProfileWrites) => [...writes.created.keys(), ...writes.updated.keys()];
const evicted = (recent: RecentProfiles) => written(recent.evict());

describe('RecentProfiles', () => {
  it('evicts the least recently scored accounts down to capacity, and sends them back to the run', () => {
    const recent = new RecentProfiles(2);
    recent.set('a', profile(1));
    recent.set('b', profile(1));
    recent.set('c', profile(1));
    recent.set('a', profile(2)); // scored again: now the most recent
    expect(evicted(recent)).toEqual(['b']);
    expect(written(recent.inMemory())).toEqual(['c', 'a']);
    // An evicted account is read on the run's transaction; one never met, from committed history.
    expect(recent.reserve(1, ['a', 'b', 'd'])).toEqual({ own: ['b'], stored: ['d'] });
  });

  it('keeps an account a checked piece will read until that piece is scored', () => {
    const recent = new RecentProfiles(1);
    recent.set('a', profile(1));
    recent.reserve(7, ['a']);
    recent.set('b', profile(1));
    expect(evicted(recent)).toEqual(['b']);
    recent.release(7, ['a']);
    recent.set('c', profile(1));
    expect(evicted(recent)).toEqual(['a']);
  });

  it('creates the row of an account with no history on its first write, and updates it after', () => {
    const recent = new RecentProfiles(1);
    recent.reserve(1, ['new', 'old']);
    recent.noHistory(['new']);
    recent.set('new', profile(1));
    recent.set('old', profile(5));
    recent.release(1, ['new', 'old']);
    const first = recent.evict();
    expect([...first.created.keys(), ...first.updated.keys()]).toEqual(['new']);
    expect(first.created.has('new')).toBe(true);
    // Met again (read back on the run's transaction) and evicted again: its row exists now.
    recent.set('new', profile(2));
    expect(recent.evict().updated.has('old')).toBe(true);
    expect(recent.inMemory().updated.has('new')).toBe(true);
  });
});
