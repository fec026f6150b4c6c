import type { Consumer, EachBatchPayload, IHeaders, Kafka } from 'kafkajs';
import type { Logger } from '../log/logger';

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
}

export interface TakeOptions {
  /** At most this many messages. */
  max: number;
  /** Waits at most this long for messages; ends sooner when full, or when caught up after some arrived. */
  maxWaitMs: number;
  signal: AbortSignal;
}

/** Collects one run's messages while the topic is resumed; the fetch loop feeds it. */
class Collector {
  readonly messages: ConsumedMessage[] = [];
  private fetchesSeen = 0;
  private countAtLastFetch = 0;
  private finish!: () => void;
  readonly finished = new Promise<void>((resolve) => {
    this.finish = resolve;
  });

  constructor(
    readonly max: number,
    /** Per partition per fetch: a partition with a backlog cannot crowd out the others. */
    readonly share: number,
  ) {}

  add(batch: EachBatchPayload['batch']): string | undefined {
    const room = Math.min(this.share, this.max - this.messages.length);
    const taken = batch.messages.slice(0, Math.max(0, room));
    for (const message of taken)
      this.messages.push({
        topic: batch.topic,
        partition: batch.partition,
        offset: message.offset,
        key: message.key,
        value: message.value,
        headers: message.headers ?? {},
      });
    if (this.messages.length >= this.max) this.finish();
    return taken.at(-1)?.offset;
  }

  /**
   * Called at each fetch. kafkajs hands a fetch's batches over before starting the next fetch, so a
   * fetch that added nothing, after messages arrived, means every assigned partition is caught up.
   * The first fetch after resuming may have been issued while paused, hence `fetchesSeen >= 2`.
   */
  onFetch(): void {
    if (this.fetchesSeen >= 2 && this.messages.length > 0 && this.messages.length === this.countAtLastFetch)
      this.finish();
    this.countAtLastFetch = this.messages.length;
    this.fetchesSeen++;
  }

  stop(): void {
    this.finish();
  }
}

/**
 * One long-lived group member for one topic, paused between runs. A run resumes it, takes what
 * arrives (bounded by count and time), pauses it again, and either commits (after the caller's
 * work succeeded) or rewinds to the first message taken, so the next run sees the same messages.
 * The group is joined once per process, not once per run.
 */
export class BoundedConsumer {
  private collector?: Collector;
  private assigned: number[] = [];
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
      // Per partition per fetch: ~5,000 transactions. A run takes a share of each partition and
      // drops the rest of a fetch (fetched again next run), so larger fetches mostly decode waste.
      maxBytesPerPartition: 2 * 1024 * 1024,
      maxBytes: 32 * 1024 * 1024,
    });
    const self = new BoundedConsumer(consumer, topic, group, log);
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      self.assigned = payload.memberAssignment[topic] ?? [];
      log.info({ topic, group, partitions: self.assigned }, 'consumer group joined');
    });
    consumer.on(consumer.events.FETCH, () => self.collector?.onFetch());
    consumer.on(consumer.events.CRASH, ({ payload }) => {
      if (!payload.restart) self.failure = payload.error;
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
   * Takes a bounded batch and hands it to `work`. Offsets are committed only if `work` succeeds;
   * if it throws, the member rewinds so the same messages come again in the next run.
   */
  consume<T>(options: TakeOptions, work: (messages: ConsumedMessage[]) => Promise<T>): Promise<T> {
    const run = this.turn.then(async () => {
      const messages = await this.take(options);
      try {
        const result = await work(messages);
        await this.commit(messages);
        return result;
      } catch (error) {
        this.rewind(messages);
        throw error;
      }
    });
    this.turn = run.catch(() => undefined);
    return run;
  }

  async stop(): Promise<void> {
    this.collector?.stop();
    await this.consumer.disconnect();
  }

  private onBatch({ batch, resolveOffset, pause }: EachBatchPayload): void {
    // A fetch that was in flight when the run ended: leave it unresolved, it is fetched again later.
    if (!this.collector) {
      pause();
      return;
    }
    const last = this.collector.add(batch);
    // Moves this member's fetch position only; the group's committed offset moves in commit().
    if (last !== undefined) resolveOffset(last);
  }

  private async take({ max, maxWaitMs, signal }: TakeOptions): Promise<ConsumedMessage[]> {
    if (this.failure) throw new Error(`Kafka consumer for ${this.topic} stopped: ${this.failure.message}`);
    signal.throwIfAborted();
    const collector = new Collector(max, Math.ceil(max / Math.max(1, this.assigned.length)));
    const stop = () => collector.stop();
    const timer = setTimeout(stop, maxWaitMs);
    signal.addEventListener('abort', stop, { once: true });
    try {
      this.collector = collector;
      // Throws while kafkajs restarts a crashed consumer ("group was not initialized"): the collector
      // must still be cleared, or the restarted consumer's first fetch would fill it unseen and move
      // the position past messages no run processed (found by the fault suite: a Kafka restart).
      this.consumer.resume([{ topic: this.topic }]);
      await collector.finished;
    } finally {
      this.collector = undefined;
      clearTimeout(timer);
      signal.removeEventListener('abort', stop);
      try {
        this.consumer.pause([{ topic: this.topic }]);
      } catch {
        // A consumer being restarted is not running; once it is, onBatch pauses it between runs.
      }
    }
    if (signal.aborted) {
      this.rewind(collector.messages);
      signal.throwIfAborted();
    }
    return collector.messages;
  }

  private async commit(messages: ConsumedMessage[]): Promise<void> {
    const offsets = [...lastOffsets(messages)]
      .filter(([partition]) => this.assigned.includes(partition))
      .map(([partition, offset]) => ({
        topic: this.topic,
        partition,
        offset: (BigInt(offset) + 1n).toString(),
      }));
    if (offsets.length) await this.consumer.commitOffsets(offsets);
  }

  private rewind(messages: ConsumedMessage[]): void {
    for (const [partition, offset] of firstOffsets(messages)) {
      if (!this.assigned.includes(partition)) continue;
      this.consumer.seek({ topic: this.topic, partition, offset });
      this.log.debug({ topic: this.topic, partition, offset }, 'rewound to the first uncommitted message');
    }
  }
}

function firstOffsets(messages: ConsumedMessage[]): Map<number, string> {
  const first = new Map<number, string>();
  for (const message of messages)
    if (!first.has(message.partition)) first.set(message.partition, message.offset);
  return first;
}

function lastOffsets(messages: ConsumedMessage[]): Map<number, string> {
  return new Map(messages.map((message) => [message.partition, message.offset]));
}
