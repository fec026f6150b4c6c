import type { ProfileWrites } from '../db/scoring-rows';
import type { AccountProfile } from '../domain/profile';
import { MaybeSet } from './maybe-set';

/**
 * A run's account histories, bounded: the `capacity` most recently scored accounts stay in memory, and
 * the others are evicted to be written into the run's PostgreSQL transaction. A run of 200,000
 * messages meets ~190,000 accounts; holding them all cost ~80 MB of heap.
 *
 * Pieces are checked (their history looked up) ahead of scoring (CHECKED_AHEAD), so an account a checked piece
 * will read is pinned until that piece is scored: evicting it in between would leave the piece with
 * the history looked up before, older than what the run has written since.
 */
export class RecentProfiles {
  /** Least recently scored first (a Map iterates in insertion order; set() re-inserts). */
  private readonly profiles = new Map<string, AccountProfile>();
  /** Account → the latest checked piece that reads it; removed once that piece is scored. */
  private readonly pins = new Map<string, number>();
  /** Accounts this run evicted: their latest history is in the run's transaction, not here. */
  private readonly evicted = new MaybeSet();
  /**
   * Accounts with no row in account_profiles, committed or written by this run, when last looked up:
   * their first write can be a plain COPY rather than an upsert (half the cost in PostgreSQL).
   */
  private readonly unstored = new Set<string>();

  constructor(private readonly capacity: number) {}

  get size(): number {
    return this.profiles.size;
  }

  has(account: string): boolean {
    return this.profiles.has(account);
  }

  get(account: string): AccountProfile | undefined {
    return this.profiles.get(account);
  }

  set(account: string, profile: AccountProfile): void {
    this.profiles.delete(account);
    this.profiles.set(account, profile);
  }

  /**
   * Pins a checked piece's accounts and says where to read the history of those not in memory: `own`
   * may have been evicted by this run (read on its transaction, which sees its writes), `stored` surely
   * were not (committed history, readable on any connection).
   */
  reserve(piece: number, accounts: Iterable<string>): { own: string[]; stored: string[] } {
    const own: string[] = [];
    const stored: string[] = [];
    for (const account of accounts) {
      this.pins.set(account, piece);
      if (this.profiles.has(account)) continue;
      if (this.evicted.has(account)) own.push(account);
      else stored.push(account);
    }
    return { own, stored };
  }

  /** A lookup of committed history found none for these accounts (from `reserve`'s `stored`). */
  noHistory(accounts: Iterable<string>): void {
    for (const account of accounts) this.unstored.add(account);
  }

  /** The piece is scored: its accounts may be evicted again, unless a later checked piece reads them. */
  release(piece: number, accounts: Iterable<string>): void {
    for (const account of accounts) if (this.pins.get(account) === piece) this.pins.delete(account);
  }

  /** Takes the least recently scored unpinned accounts out of memory, down to capacity: the caller writes them. */
  evict(): ProfileWrites {
    const out: ProfileWrites = { created: new Map(), updated: new Map() };
    let excess = this.profiles.size - this.capacity;
    for (const [account, profile] of this.profiles) {
      if (excess <= 0) break;
      if (this.pins.has(account)) continue;
      this.profiles.delete(account);
      this.evicted.add(account);
      this.sortInto(out, account, profile);
      excess--;
    }
    return out;
  }

  /** What is still in memory, for the write at commit. */
  inMemory(): ProfileWrites {
    const out: ProfileWrites = { created: new Map(), updated: new Map() };
    for (const [account, profile] of this.profiles) this.sortInto(out, account, profile);
    return out;
  }

  /** An account's first write creates its row; it has one from then on. */
  private sortInto(out: ProfileWrites, account: string, profile: AccountProfile): void {
    if (this.unstored.delete(account)) out.created.set(account, profile);
    else out.updated.set(account, profile);
  }
}
