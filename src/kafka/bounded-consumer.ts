import type { Consumer, EachBatchPayload, Kafka } from 'kafkajs';
import type { Logger } from '../log/logger';
import { PieceFeed } from './piece-feed';
import type { ConsumedMessage, RunConsumer, TakeOptions } from './stream-client';

/** A fetch loop that started no fetch for this long is gone (kafkajs replaced it, or its broker left). */
const FETCH_LOOP_GONE_MS = 5_000;

/**
 * One run's messages, fed by the fetch loop and read piece by piece by the run's work while fetching
 * goes on. Keeps only the first and last offset taken per partition (to rewind or commit), not the
 * messages: a piece is gone once the work has finished with it.
 */
class RunFeed extends PieceFeed {
  /** Partition → offset of the first message taken: where a failed run rewinds to. */
  readonly first = new Map<number, string>();
  /** Partition → offset of the last message taken: what a successful run commits. */
  readonly last = new Map<number, string>();
  /** Broker (node id) → fetches it completed since the run opened: kafkajs runs one fetch loop per broker. */
  private readonly fetchesByNode = new Map<number, number>();
  /** Partitions whose last batch left messages behind (the run's share, or the broker's fetch size). */
  private readonly behind = new Set<number>();
  private wakeFetcher?: () => void;

  constructor(
    max: number,
    share: number,
    pieceSize: number,
    /** The brokers this member was fetching from when the run opened: each must report before "caught up". */
    fetchingFrom: number[],
  ) {
    super(max, share, pieceSize);
    for (const nodeId of fetchingFrom) this.fetchesByNode.set(nodeId, 0);
  }

  /** Takes what fits of a fetched batch; returns the offset of the last message taken, if any. */
  add(batch: EachBatchPayload['batch']): string | undefined {
    if (this.done) return undefined;
    const room = Math.min(this.share, this.max - this.taken);
    const taken = batch.messages.slice(0, Math.max(0, room));
    for (const message of taken) {
      this.push({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
      });
    }
    const last = taken.at(-1)?.offset;
    if (last === undefined) return undefined;
    // Caught up on this partition when the whole batch was taken and it reached the high watermark.
    if (taken.length === batch.messages.length && Number(batch.offsetLag()) <= 0)
      this.behind.delete(batch.partition);
    else this.behind.add(batch.partition);
    if (!this.first.has(batch.partition)) this.first.set(batch.partition, taken[0]?.offset as string);
    this.last.set(batch.partition, last);
    // A partial piece goes now rather than wait for the next fetch: the work starts on it meanwhile.
    this.handOver();
    this.took(taken.length);
    return last;
  }

  /**
   * Called at each fetch of broker `nodeId`. kafkajs runs one fetch loop per broker (the leader of
   * the partitions it fetches) and hands a fetch's batches over before that loop's next fetch; a
   * loop's first fetch after resuming may have been issued while paused. So once every broker (those
   * fetched from when the run opened, and any since) has fetched three times, each has had a fetch
   * issued after resuming and handed over: a partition that brought nothing then had nothing, and one
   * that did says itself whether it reached its high watermark. The run is caught up when, after
   * messages arrived, no partition is behind. (Counting fetches across brokers as if they were one
   * loop's let two idle brokers' empty fetches end a run while another broker still held a backlog:
   * found on a 3-node cluster, test/cluster/caught-up.test.ts.)
   */
  onFetch(nodeId: number): void {
    this.fetchesByNode.set(nodeId, (this.fetchesByNode.get(nodeId) ?? 0) + 1);
    // While a batch waits for room the fetch loop is held, not caught up.
    if (this.backpressured || this.taken === 0 || this.behind.size > 0) return;
    if ([...this.fetchesByNode.values()].every((fetches) => fetches >= 3)) this.stop();
  }

  /**
   * Waits until the work has room for more (or the run ended), sending heartbeats meanwhile. A
   * heartbeat refused because the group is rebalancing ends the run's intake: the member must rejoin
   * now rather than hold every other member up until the work catches up.
   */
  async room(heartbeat: () => Promise<void>): Promise<void> {
    while (this.backpressured) {
      await new Promise<void>((resolve) => {
        this.wakeFetcher = resolve;
        setTimeout(resolve, 1_000);
      });
      try {
        await heartbeat();
      } catch {
        this.stop();
      }
    }
  }

  protected override onPieceTaken(): void {
    this.wakeFetcher?.();
  }

  protected override onStopped(): void {
    this.wakeFetcher?.();
  }
}

/**
 * One long-lived group member for one topic, paused between runs. A run resumes it and hands what
 * arrives (bounded by count and time) to the run's work piece by piece while fetching goes on; then
 * pauses it again and either commits (after the work succeeded) or rewinds to the first message
 * taken, so the next run sees the same messages. The group is joined once per process, not per run.
 */
export class BoundedConsumer implements RunConsumer {
  private feed?: RunFeed;
  private assigned: number[] = [];
  /** Broker (node id) → when its fetch loop last started a fetch (it does every maxWaitTimeInMs, paused or not). */
  private readonly fetchStarts = new Map<number, number>();
  private failure?: Error;
  /** Runs of the same consumer take turns: a batch is one run's until committed or rewound. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly consumer: Consumer,
    readonly topic: string,
    readonly group: string,
    private readonly log: Logger,
  ) {}

  static async start(kafka: Kafka, topic: string, group: string, log: Logger): Promise<BoundedConsumer> {
    const consumer = kafka.consumer({
      groupId: group,
      // Short enough that a killed worker's partitions move on within seconds.
      sessionTimeout: 10_000,
      rebalanceTimeout: 15_000,
      heartbeatInterval: 1_000,
      // How long an idle or paused fetch loop sleeps: bounds the latency of a resume.
      maxWaitTimeInMs: 50,
      // Per partition per fetch: ~1,300 transactions. A run takes a share of each partition and
      // drops the rest of a fetch (fetched again next run), so larger fetches mostly decode waste.
      // A fetch is decoded whole and waits while the run works: at 2 MB (~5,000 transactions) its
      // messages outlived the young generation, and a 200,000-message run peaked ~30 MB higher.
      maxBytesPerPartition: 512 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    const self = new BoundedConsumer(consumer, topic, group, log);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      self.assigned = payload.memberAssignment[topic] ?? [];
      log.info({ topic, group, partitions: self.assigned }, 'consumer group joined');
    });
    consumer.on(consumer.events.FETCH_START, ({ payload }) =>
      self.fetchStarts.set(payload.nodeId, Date.now()),
    );
    consumer.on(consumer.events.FETCH, ({ payload }) => self.feed?.onFetch(payload.nodeId));
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (payload.restart) return;
      self.failure = payload.error;
      // The run in progress gets no more messages: it ends now instead of waiting out maxWait.
      self.feed?.stop();
    });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    await consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      eachBatch: async (payload) => self.onBatch(payload),
    });
    consumer.pause([{ topic }]);
    return self;
  }

  /** The partitions this member owns now (changes on rebalance). */
  get partitions(): number[] {
    return [...this.assigned];
  }

  /** False once kafkajs gave up on this consumer; the owner should start a new one. */
  get healthy(): boolean {
    return this.failure === undefined;
  }

  /**
   * Takes a bounded batch and hands it to `work` as pieces, as they are fetched. Offsets are committed
   * only if `work` succeeds having read every piece; if it throws, the member rewinds so the same
   * messages come again in the next run.
   */
  consume<T>(
    options: TakeOptions,
    work: (pieces: AsyncIterable<ConsumedMessage[]>) => Promise<T>,
  ): Promise<T> {
    const run = this.turn.then(async () => {
      const feed = this.open(options);
      try {
        const result = await work(feed.pieces());
        if (!feed.drained) throw new Error('consumer work returned before reading every piece of its run');
        // No abort check here: the work has stored its rows, so its offsets are committed even if the
        // run was aborted meanwhile (the work itself checks before its PostgreSQL commit).
        await this.commit(feed.last);
        return result;
      } catch (error) {
        feed.stop();
        this.rewind(feed.first);
        throw error;
      }
    });
    this.turn = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.feed?.stop();
    await this.consumer.disconnect();
  }

  private async onBatch({
    batch,
    resolveOffset,
    pause,
    heartbeat,
    isStale,
  }: EachBatchPayload): Promise<void> {
    const feed = this.feed;
    // A fetch that was in flight when the run ended: leave it unresolved, it is fetched again later.
    if (!feed) {
      pause();
      return;
    }
    // Fetched before a rewind's seek (a failed run's last batch, reaching the next run): taking it would
    // skip the rewound messages. Left unresolved, the seek applies at the next fetch.
    if (isStale()) return;
    const last = feed.add(batch);
    // Moves this member's fetch position only; the group's committed offset moves in commit().
    if (last !== undefined) resolveOffset(last);
    await feed.room(heartbeat);
  }

  /** Starts feeding a run: resumes fetching until the feed stops (full, caught up, timed out, aborted). */
  private open({ max, maxWaitMs, signal, pieceSize }: TakeOptions): RunFeed {
    if (this.failure) throw new Error(`Kafka consumer for ${this.topic} stopped: ${this.failure.message}`);
    signal.throwIfAborted();
    const share = Math.ceil(max / Math.max(1, this.assigned.length));
    const feed = new RunFeed(max, share, pieceSize, this.fetchingFrom());
    const stop = () => feed.stop();
    feed.stopWhenIdle(maxWaitMs);
    signal.addEventListener('abort', stop, { once: true });
    this.feed = feed;
    void feed.finished.then(() => {
      if (this.feed === feed) this.feed = undefined;
      signal.removeEventListener('abort', stop);
      try {
        this.consumer.pause([{ topic: this.topic }]);
      } catch {
        // A consumer being restarted is not running; once it is, onBatch pauses it between runs.
      }
    });
    try {
      this.consumer.resume([{ topic: this.topic }]);
    } catch (error) {
      // Throws while kafkajs restarts a crashed consumer ("group was not initialized"): the feed must
      // still end, or the restarted consumer's first fetch would fill it unseen and move the position
      // past messages no run processed (found by the fault suite: a Kafka restart).
      feed.stop();
      throw error;
    }
    return feed;
  }

  /**
   * The brokers with a live fetch loop: one that started a fetch lately. A broker that died stays in
   * for a while, so a run then ends by its time limit rather than call itself caught up too early.
   */
  private fetchingFrom(): number[] {
    const since = Date.now() - FETCH_LOOP_GONE_MS;
    for (const [nodeId, at] of this.fetchStarts) if (at < since) this.fetchStarts.delete(nodeId);
    return [...this.fetchStarts.keys()];
  }

  private async commit(last: Map<number, string>): Promise<void> {
    const offsets = [...last]
      .filter(([partition]) => this.assigned.includes(partition))
      .map(([partition, offset]) => ({
        topic: this.topic,
        partition,
        offset: (BigInt(offset) + 1n).toString(),
      }));
    if (offsets.length) await this.consumer.commitOffsets(offsets);
  }

  private rewind(first: Map<number, string>): void {
    for (const [partition, offset] of first) {
      if (!this.assigned.includes(partition)) continue;
      try {
        this.consumer.seek({ topic: this.topic, partition, offset });
        this.log.debug({ topic: this.topic, partition, offset }, 'rewound to the first uncommitted message');
      } catch (error) {
        // A consumer being restarted refuses seeks; it restarts from the committed offsets anyway.
        this.log.warn({ topic: this.topic, partition, offset, err: error }, 'could not rewind a partition');
      }
    }
  }
}
