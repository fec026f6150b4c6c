import { requester, startThread } from '../runtime/threads';
import type { RecordPiece } from './record-piece';
import type { RecordThreadData } from './record-thread';
import { RecordMaker, type RecordOptions, type RecordTally } from './records';

/**
 * Records made at a time. Small, so that a piece's objects die in the thread's small young
 * generation instead of surviving its collections (measured: 1,000 spent ~35 % of the thread's time
 * in GC and made it the slower side; 250 takes a third less thread time and ~30 MB less peak RSS).
 */
const PIECE = 250;
/**
 * Runs of at least this many records make them on a thread of their own, in parallel with the
 * sending (kafkajs's encoding on this one): on two cores a 200k run took ~3.5 s on one thread and
 * 1.6–2.0 s with two (idle machine).
 * A thread takes tens of ms to start and load the simulator, more than a small run saves.
 */
export const OFF_THREAD_MIN = 20_000;
/**
 * Pieces a thread may have made and not yet handed over: 3,000 records (~1.2 MB), about what one
 * request takes, so the thread keeps making records while the sender waits for an acknowledgement
 * (kafkajs encodes the next request only then). Measured on a 200k run: 4 ahead 2.1-2.3 s, 12 ahead
 * 1.9-2.0 s, 16 no faster and more peak RSS.
 */
const PIECES_AHEAD = 12;
/**
 * The thread's young generation (V8 lets it grow to tens of MB): the thread's garbage is short-lived
 * strings, and this bounds the run's peak RSS.
 */
const THREAD_LIMITS = { maxYoungGenerationSizeMb: 4 };

/** A run's records, piece by piece; `tally` is complete once the iteration has ended. */
export interface RecordStream extends AsyncIterable<RecordPiece> {
  readonly tally: RecordTally | undefined;
}

export function recordStream(options: RecordOptions): RecordStream {
  return options.count >= OFF_THREAD_MIN ? new ThreadRecords(options) : new InlineRecords(options);
}

/** Made on this thread, between sends (each piece while the request before it is in flight). */
class InlineRecords implements RecordStream {
  tally: RecordTally | undefined;

  constructor(private readonly options: RecordOptions) {}

  async *[Symbol.asyncIterator](): AsyncIterator<RecordPiece> {
    const maker = new RecordMaker(this.options);
    while (maker.remaining > 0) yield maker.next(PIECE);
    this.tally = maker.tally;
  }
}

interface Reply {
  piece: RecordPiece;
  tally?: RecordTally;
}

/** Made on a thread of its own (src/producer/record-thread.ts), PIECES_AHEAD pieces ahead. */
class ThreadRecords implements RecordStream {
  tally: RecordTally | undefined;

  constructor(private readonly options: RecordOptions) {}

  async *[Symbol.asyncIterator](): AsyncIterator<RecordPiece> {
    const data: RecordThreadData = { ...this.options, pieceSize: PIECE };
    const thread = startThread('src/producer/record-thread', data, THREAD_LIMITS);
    const ask = requester<'next', Reply>(thread, 'record thread');
    const request = () => ask('next');
    try {
      const ahead = Array.from({ length: PIECES_AHEAD }, request);
      for (;;) {
        const reply = await (ahead.shift() as Promise<Reply>);
        if (reply.tally) {
          this.tally = reply.tally;
          yield reply.piece;
          return;
        }
        ahead.push(request());
        yield reply.piece;
      }
    } finally {
      // Also when the caller stops early (a failed send, an abort): the thread makes nothing more.
      await thread.terminate();
    }
  }
}
