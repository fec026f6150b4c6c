import type { ConsumedMessage } from './stream-client';

/**
 * Pieces handed to the work but not yet taken by it. Intake waits while this many are waiting, so a
 * run holds a few pieces at a time, whatever its `max`: memory follows the piece size.
 */
const PIECES_AHEAD = 2;

/**
 * One bounded run's messages, pushed by a client's intake and read piece by piece by the run's work
 * while fetching goes on. Keeps no message once the work has its piece. What differs per client —
 * how messages arrive, how intake is held back, when the run is caught up — is the subclass's; the
 * pieces, the limits and the end of the run are here, once.
 */
export class PieceFeed {
  private readonly ready: ConsumedMessage[][] = [];
  private current: ConsumedMessage[] = [];
  protected taken = 0;
  private yielded = 0;
  /** When the last message was taken (performance.now()); the idle limit counts from it. */
  private lastArrival = performance.now();
  protected done = false;
  private wakeReader?: () => void;
  private finish!: () => void;
  readonly finished = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(
    protected readonly max: number,
    /** Per partition per fetch: a partition with a backlog cannot crowd out the others. */
    protected readonly share: number,
    private readonly pieceSize: number,
  ) {}

  /** The work took a piece: intake held back may go on. */
  protected onPieceTaken(): void {}
  /** A piece went to the work: intake may have to wait. */
  protected onHandedOver(): void {}
  /** The run ended: intake waiting for room must stop waiting. */
  protected onStopped(): void {}

  /**
   * Ends the run once `maxWaitMs` passed without a new message. Messages are taken at the pace the work
   * reads them, so a busy run is not cut short by a limit meant for waiting.
   */
  stopWhenIdle(maxWaitMs: number): void {
    const check = () => {
      if (this.done) return;
      const idle = this.backpressured ? 0 : performance.now() - this.lastArrival;
      if (idle >= maxWaitMs) this.stop();
      else setTimeout(check, maxWaitMs - idle).unref();
    };
    setTimeout(check, maxWaitMs).unref();
  }

  /** No more messages for this run: the reader gets what is left, then the end. */
  stop(): void {
    if (this.done) return;
    this.done = true;
    this.handOver();
    this.finish();
    this.wakeReader?.();
    this.onStopped();
  }

  /** The run's pieces in arrival order, each partition's messages in offset order. */
  async *pieces(): AsyncGenerator<ConsumedMessage[]> {
    for (;;) {
      const piece = this.ready.shift();
      if (piece) {
        this.yielded += piece.length;
        // The work took a piece: the run is busy, not idle.
        this.lastArrival = performance.now();
        this.onPieceTaken();
        yield piece;
        continue;
      }
      if (this.done) return;
      await new Promise<void>((resolve) => {
        this.wakeReader = resolve;
      });
    }
  }

  /** True once every message taken has been handed to the work: only then may its offsets be committed. */
  get drained(): boolean {
    return this.done && this.yielded === this.taken;
  }

  /** The work is behind: pieces wait for it, and intake waits too. */
  protected get backpressured(): boolean {
    return !this.done && this.ready.length >= PIECES_AHEAD;
  }

  /** Adds one message to the piece being filled; a full piece goes to the work. */
  protected push(message: ConsumedMessage): void {
    this.current.push(message);
    if (this.current.length >= this.pieceSize) this.handOver();
  }

  /** `count` messages were taken: the idle limit restarts, and a run at its `max` ends. */
  protected took(count: number): void {
    this.taken += count;
    this.lastArrival = performance.now();
    if (this.taken >= this.max) this.stop();
  }

  /** The piece being filled goes to the work now, full or not. */
  protected handOver(): void {
    if (this.current.length === 0) return;
    this.ready.push(this.current);
    this.current = [];
    this.wakeReader?.();
    this.onHandedOver();
  }
}
