import { MaybeSet } from './maybe-set';

/** What a run knows of a transaction id it meets: first time, surely met before, or perhaps. */
export type Meeting = 'new' | 'again' | 'maybe';

/**
 * The transaction ids a run has met, in memory that does not grow with its batchSize: exactly for
 * the pieces not yet queued for COPY, and for the rest a Bloom filter whose "maybe" the run settles
 * by a lookup on its own transaction (which by then has the earlier piece queued before the lookup).
 * A Set of every id cost ~16 MB of heap per 200,000 messages.
 */
export class SeenIds {
  private readonly met = new MaybeSet();
  /** Id → the piece that met it first, until that piece's rows are queued. */
  private readonly pending = new Map<string, number>();

  meet(id: string, piece: number): Meeting {
    if (this.pending.has(id)) return 'again';
    const maybe = this.met.has(id);
    this.met.add(id);
    this.pending.set(id, piece);
    return maybe ? 'maybe' : 'new';
  }

  /** The piece's rows are queued on the run's transaction: a lookup queued later finds them there. */
  queued(piece: number, ids: Iterable<string>): void {
    for (const id of ids) if (this.pending.get(id) === piece) this.pending.delete(id);
  }
}
