import { Consumer, type ConsumerOptions, type Message, type MessagesStream } from '@platformatic/kafka';
import type { Logger } from '../../log/logger';
import { PieceFeed } from '../piece-feed';
import type { ConsumedMessage, RunConsumer, TakeOptions } from '../stream-client';
import { toConsumed } from './records';

type Bytes = Buffer;
type Received = Message<Bytes, Bytes, Bytes, Bytes>;
type Stream = MessagesStream<Bytes, Bytes, Bytes, Bytes>;

/** The group and fetch settings of kafkajs's BoundedConsumer (bounded-consumer.ts says why each). */
const MEMBER_OPTIONS = {
  sessionTimeout: 10_000,
  rebalanceTimeout: 15_000,
  heartbeatInterval: 1_000,
  maxWaitTime: 50,
  maxBytesPerPartition: 512 * 1024,
  maxBytes: 32 * 1024 * 1024,
  autocommit: false,
} as const;

/** Where the next message of a partition is, and the leader epoch its commit names (KIP-320). */
interface Position {
  offset: bigint;
  leaderEpoch: number;
}

/**
 * One run's messages, fed by the stream's 'data' events and read piece by piece by the run's work
 * while fetching goes on. Keeps per partition only the last message taken (what a successful run
 * commits); a piece is gone once the work has finished with it. Like kafkajs's BoundedConsumer, a run
 * takes at most a share of its `max` from each partition per fetch, so a partition with a backlog
 * cannot crowd out the others; a partition's messages past its share are dropped for the rest of the
 * run (`dropped`), and fetched again by the next run from the committed offset.
 */
class RunFeed extends PieceFeed {
  /** Partition → the last message taken: a successful run commits the offset after it. */
  readonly last = new Map<number, Position>();
  /** Partition → messages taken since the last fetch response. */
  private takenThisFetch = new Map<number, number>();
  /** Partitions past their share: nothing more of theirs this run (it would leave a gap). */
  readonly dropped = new Set<number>();
  private fetchesSeen = 0;
  private countAtLastFetch = 0;
  /** A caught-up check is in flight: no second one meanwhile. */
  private confirming = false;

  constructor(
    max: number,
    share: number,
    pieceSize: number,
    /** Called with true when the work is behind (stop fetching), false when it caught up. */
    private readonly hold: (held: boolean) => void,
    /** Whether every owned partition has been fetched to its end (asks the brokers). */
    private readonly fetchedToEnd: () => Promise<boolean>,
  ) {
    super(max, share, pieceSize);
  }

  /** Takes (or drops) one message; false once the run is over (the caller keeps it for the next run). */
  add(message: Received): boolean {
    if (this.done) return false;
    const { partition } = message;
    const thisFetch = this.takenThisFetch.get(partition) ?? 0;
    if (this.dropped.has(partition) || thisFetch >= this.share) {
      this.dropped.add(partition);
      return true;
    }
    this.takenThisFetch.set(partition, thisFetch + 1);
    this.push(toConsumed(message));
    this.last.set(message.partition, { offset: message.offset, leaderEpoch: message.leaderEpoch });
    this.took(1);
    return true;
  }

  /**
   * Called at each fetch response, before its messages are pushed: the previous fetch's messages have
   * all been taken unless some still wait in the stream's buffer (`buffered`). A fetch that added
   * nothing, after messages arrived, suggests every owned partition is caught up; the first fetch
   * after resuming may have been issued before the run, hence `fetchesSeen >= 2`. With several brokers
   * one broker's empty fetch says nothing of another's backlog (the stream fetches from each at once
   * and its 'fetch' event does not name the broker), so the run ends only once the brokers confirm
   * that every owned partition was fetched to its end.
   */
  onFetch(buffered: number): void {
    if (this.done) return;
    this.takenThisFetch.clear();
    // A partial piece goes now rather than wait for more: the work starts on it meanwhile.
    this.handOver();
    if (this.backpressured || buffered > 0) return;
    if (this.fetchesSeen >= 2 && this.taken > 0 && this.taken === this.countAtLastFetch)
      this.confirmCaughtUp();
    this.countAtLastFetch = this.taken;
    this.fetchesSeen++;
  }

  private confirmCaughtUp(): void {
    if (this.confirming) return;
    this.confirming = true;
    this.fetchedToEnd().then(
      (caughtUp) => {
        this.confirming = false;
        if (caughtUp) this.stop();
      },
      // Not confirmed: the run goes on, and ends when full or idle at the latest.
      () => {
        this.confirming = false;
      },
    );
  }

  /** The stream goes on once the work is no longer behind; after the run it stays paused. */
  protected override onPieceTaken(): void {
    if (!this.done && !this.backpressured) this.hold(false);
  }

  protected override onHandedOver(): void {
    if (this.backpressured) this.hold(true);
  }
}

/**
 * One long-lived group member for one topic on @platformatic/kafka, with kafkajs's BoundedConsumer's
 * contract: a run resumes the member's message stream and hands what arrives (bounded by count and
 * time) to the run's work piece by piece; then pauses it and either commits the offsets after the last
 * message taken (after the work succeeded) or rewinds. The stream has no seek, so a rewind (and a
 * rebalance) replaces it with a new one that starts from the group's committed offsets: runs commit
 * only what they stored, in order, so that is the first message of the failed run. The new stream is
 * opened before the old one closes, so the member never leaves the group.
 */
export class PlatformaticBoundedConsumer implements RunConsumer {
  private stream!: Stream;
  private feed?: RunFeed;
  private failure?: Error;
  /** The stream's buffer may hold messages a rebalance or a rewind invalidated: replace it before the next run. */
  private stale = false;
  private joined = false;
  /** Runs of the same consumer take turns: messages are one run's until committed or rewound. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly consumer: Consumer<Bytes, Bytes, Bytes, Bytes>,
    readonly topic: string,
    readonly group: string,
    private readonly log: Logger,
  ) {}

  static async start(
    options: Omit<ConsumerOptions<Bytes, Bytes, Bytes, Bytes>, 'groupId'>,
    topic: string,
    group: string,
    log: Logger,
  ): Promise<PlatformaticBoundedConsumer> {
    const consumer = new Consumer<Bytes, Bytes, Bytes, Bytes>({
      ...options,
      ...MEMBER_OPTIONS,
      groupId: group,
    });
    const self = new PlatformaticBoundedConsumer(consumer, topic, group, log);
    consumer.on('consumer:group:join', () => self.onJoin());
    // A rejoin that failed for good (emitted as 'error', which would otherwise crash the process).
    consumer.on('error', (error) => self.fail(error));
    consumer.on('consumer:heartbeat:stalled', ({ lastError, stalledFor }) =>
      self.fail(lastError ?? new Error(`no heartbeat answered for ${stalledFor} ms`)),
    );
    try {
      self.stream = await self.openStream();
    } catch (error) {
      await consumer.close(true).catch(() => {});
      throw error;
    }
    return self;
  }

  /** The partitions this member owns now (changes on rebalance). */
  get partitions(): number[] {
    return [...(this.consumer.assignments?.find((a) => a.topic === this.topic)?.partitions ?? [])];
  }

  /** False once the client gave up on this member; the owner should start a new one. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  consume<T>(
    options: TakeOptions,
    work: (pieces: AsyncIterable<ConsumedMessage[]>) => Promise<T>,
  ): Promise<T> {
    const run = this.turn.then(async () => {
      const feed = await this.open(options);
      try {
        const result = await work(feed.pieces());
        if (!feed.drained) throw new Error('consumer work returned before reading every piece of its run');
        // No abort check here: the work has stored its rows, so its offsets are committed even if the
        // run was aborted meanwhile (the work itself checks before its PostgreSQL commit).
        await this.commit(feed.last);
        return result;
      } catch (error) {
        feed.stop();
        this.stale = true;
        this.log.debug({ topic: this.topic }, 'the next run starts again from the committed offsets');
        throw error;
      }
    });
    this.turn = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.feed?.stop();
    await this.stream.close().catch(() => {});
    await this.consumer.close(true);
  }

  private onJoin(): void {
    this.log.info(
      { topic: this.topic, group: this.group, partitions: this.partitions },
      'consumer group joined',
    );
    // The first join is the member's own start; any later one is a rebalance.
    if (this.joined) {
      this.stale = true;
      // The run in progress ends its intake now rather than hold the group up.
      this.feed?.stop();
    }
    this.joined = true;
  }

  private fail(error: Error): void {
    this.failure ??= error;
    // The run in progress gets no more messages: it ends now instead of waiting out maxWait.
    this.feed?.stop();
  }

  private async openStream(): Promise<Stream> {
    const stream = await this.consumer.consume({
      topics: [this.topic],
      // Where the group committed; a partition without a commit starts at its earliest message.
      mode: 'committed',
      fallbackMode: 'earliest',
      ...MEMBER_OPTIONS,
    });
    stream.pause();
    stream.on('data', (message) => this.onMessage(stream, message));
    stream.on('fetch', () => {
      if (stream === this.stream) this.feed?.onFetch(stream.readableLength);
    });
    stream.on('error', (error) => {
      if (stream === this.stream) this.fail(error);
    });
    return stream;
  }

  private onMessage(stream: Stream, message: Received): void {
    // A replaced stream's messages come again from the new one.
    if (stream !== this.stream) return;
    if (this.feed?.add(message)) return;
    // Between runs, or past a full run: kept, in order, for the next run.
    stream.pause();
    stream.unshift(message);
  }

  /** A new stream from the committed offsets, opened before the old closes (so no group rejoin). */
  private async replaceStream(): Promise<void> {
    const old = this.stream;
    this.stream = await this.openStream();
    this.stale = false;
    await old.close().catch((error) => this.log.warn({ err: error }, 'could not close a replaced stream'));
  }

  /** Starts feeding a run: resumes the stream until the feed stops (full, caught up, timed out, aborted). */
  private async open({ max, maxWaitMs, signal, pieceSize }: TakeOptions): Promise<RunFeed> {
    if (this.failure) throw new Error(`Kafka consumer for ${this.topic} stopped: ${this.failure.message}`);
    signal.throwIfAborted();
    if (this.stale) await this.replaceStream();
    const stream = this.stream;
    const share = Math.ceil(max / Math.max(1, this.partitions.length));
    const feed = new RunFeed(
      max,
      share,
      pieceSize,
      (held) => (held ? stream.pause() : stream.resume()),
      () => this.fetchedToEnd(stream),
    );
    const stop = () => feed.stop();
    feed.stopWhenIdle(maxWaitMs);
    signal.addEventListener('abort', stop, { once: true });
    this.feed = feed;
    void feed.finished.then(() => {
      if (this.feed === feed) this.feed = undefined;
      // The stream moved past the dropped messages: the next run starts again from the committed offsets.
      if (feed.dropped.size > 0) this.stale = true;
      signal.removeEventListener('abort', stop);
      stream.pause();
    });
    stream.resume();
    return feed;
  }

  /** True when the stream's next offset of every owned partition is at the partition's end or past it. */
  private async fetchedToEnd(stream: Stream): Promise<boolean> {
    const ends = (await this.consumer.listOffsets({ topics: [this.topic] })).get(this.topic) ?? [];
    return this.partitions.every(
      (partition) =>
        (stream.offsetsToFetch.get(`${this.topic}:${partition}`) ?? -1n) >= (ends[partition] ?? 0n),
    );
  }

  private async commit(last: Map<number, Position>): Promise<void> {
    const owned = this.partitions;
    const offsets = [...last]
      .filter(([partition]) => owned.includes(partition))
      .map(([partition, { offset, leaderEpoch }]) => ({
        topic: this.topic,
        partition,
        offset: offset + 1n,
        leaderEpoch,
      }));
    if (offsets.length) await this.consumer.commit({ offsets });
  }
}
