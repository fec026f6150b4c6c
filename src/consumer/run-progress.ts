import type { LateSeconds, StoredProgress } from '../db/watermarks';
import type { ConsumedMessage } from '../kafka/stream-client';

/**
 * What a consumer run records of its progress in its own transaction (see db/watermarks.ts): per
 * partition it took messages from, the offset after the last one taken (what it commits) and the
 * newest event time it stored; and its transactions whose event time is behind the schedule's
 * watermark as read at the start of the run (late), counted by second of event time.
 *
 * Event times are compared as text: the usual one is written as toISOString() writes it (24
 * characters, UTC, milliseconds), and such texts sort as the times do, at a fraction of the cost of
 * parsing each (~0.2 µs a message). Another form the contract allows ("…T12:00:00Z", more or fewer
 * decimals) is brought to that form first, to the millisecond below.
 */
export class RunProgress {
  /** Partition → offset of the last message taken. */
  private readonly lastOffsets = new Map<number, string>();
  /** Partition → newest event time stored, as canonical text. */
  private readonly newest = new Map<number, string>();
  private readonly lateSeconds: LateSeconds = new Map();
  /** The watermark as canonical text; undefined: none yet, so nothing is late. */
  private readonly watermark: string | undefined;

  constructor(watermark: Date | null) {
    this.watermark = watermark ? watermark.toISOString() : undefined;
  }

  /** Every message a run takes, valid or not, in the order taken (each partition's in offset order). */
  taken(messages: readonly ConsumedMessage[]): void {
    for (const message of messages) this.lastOffsets.set(message.partition, message.offset);
  }

  /**
   * A valid transaction of the run, stored by it (`fresh`) or before it (redelivered: in PostgreSQL
   * all the same, its lateness counted when it was first stored).
   */
  stored(partition: number, timestamp: string, fresh: boolean): void {
    const time = timestamp.length === CANONICAL_LENGTH ? timestamp : canonicalTime(timestamp);
    const newest = this.newest.get(partition);
    if (newest === undefined || time > newest) this.newest.set(partition, time);
    if (fresh && this.watermark !== undefined && time < this.watermark) {
      const second = Math.floor(Date.parse(time) / 1_000) * 1_000;
      this.lateSeconds.set(second, (this.lateSeconds.get(second) ?? 0) + 1);
    }
  }

  /** Per partition taken from, in partition order: the offset to commit and the newest event stored. */
  partitions(): StoredProgress[] {
    return [...this.lastOffsets]
      .sort(([a], [b]) => a - b)
      .map(([partition, offset]) => {
        const newest = this.newest.get(partition);
        return {
          partition,
          nextOffset: (BigInt(offset) + 1n).toString(),
          ...(newest === undefined ? {} : { newestEventAt: new Date(newest) }),
        };
      });
  }

  /** Fresh transactions behind the watermark read at the start of the run, by second of event time. */
  get late(): LateSeconds {
    return this.lateSeconds;
  }
}

const CANONICAL_LENGTH = 24;

/** An ISO 8601 UTC time (as the transaction contract allows it) as toISOString() writes it. */
export function canonicalTime(timestamp: string): string {
  return new Date(Date.parse(timestamp)).toISOString();
}
