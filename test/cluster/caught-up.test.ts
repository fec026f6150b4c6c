/**
 * The consumer's "caught up" rule on a 3-node cluster. kafkajs runs one fetch loop per broker; the rule
 * used to count fetches across all of them as if there were one, so two idle brokers' empty fetches in
 * a row ended a run while another broker still held a backlog: before the fix, a run of 60,000 on one
 * partition took 10,000 and one of 20,000 took 5,000 (each a few of its fetches).
 */
import type { PartitionMetadata } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { kafkaReady } from '../../src/health/probes';
import { KafkaStreams } from '../../src/kafka/kafka-streams';
import { waitFor } from '../support';
import { clusterTestEnv } from './cluster-env';

const t = clusterTestEnv('caughtup');
const topic = `${t.id}.transactions`;
const group = `${t.id}.group`;
const streams = new KafkaStreams(t.config, t.log);

beforeAll(async () => {
  // All three nodes registered (the fault suite may have just started one again).
  await waitFor(() => kafkaReady(t.config, 3), 'three Kafka brokers', 60_000);
  await streams.ensureTopics([{ name: topic, partitions: 3 }]);
});

afterAll(async () => {
  await streams.close();
  const admin = streams.client.admin();
  await admin.connect();
  await admin.deleteTopics({ topics: [topic] }).catch(() => {});
  await admin.disconnect();
});

/**
 * The topic's partitions as the cluster reports them. Any broker may be asked, and one that has not
 * yet heard of the new topic (or just restarted) answers "does not host this topic-partition": ask again.
 */
async function partitions(): Promise<PartitionMetadata[]> {
  const admin = await streams.admin();
  return waitFor(async () => {
    const { topics } = await admin.fetchTopicMetadata({ topics: [topic] });
    return topics[0]?.partitions.sort((a, b) => a.partitionId - b.partitionId);
  }, 'the topic metadata from the cluster');
}

/** `count` messages of ~100 bytes into one partition, in requests under the broker's 1 MB limit. */
async function send(partition: number, count: number, tag: string): Promise<void> {
  const producer = await streams.producer();
  const filler = 'x'.repeat(90);
  for (let start = 0; start < count; start += 5_000) {
    const messages = Array.from({ length: Math.min(5_000, count - start) }, (_, i) => ({
      key: `${tag}${start + i}`,
      value: `${tag}${start + i}${filler}`,
      partition,
    }));
    await producer.send({ topic, messages });
  }
}

/** One bounded run of at most `max` messages: how many it took and how long it lasted. */
async function oneRun(max: number, maxWaitMs: number): Promise<{ taken: number; elapsed: number }> {
  const consumer = await streams.runConsumer(topic, group);
  const begun = performance.now();
  const taken = await consumer.consume(
    { max, maxWaitMs, signal: new AbortController().signal, pieceSize: 2_000 },
    async (pieces) => {
      let n = 0;
      for await (const piece of pieces) n += piece.length;
      return n;
    },
  );
  return { taken, elapsed: performance.now() - begun };
}

describe('bounded consumer on a 3-node cluster', () => {
  it('replicates the topic three ways, leaders spread over the brokers', async () => {
    const admin = await streams.admin();
    const metadata = await partitions();
    for (const partition of metadata) expect(partition.replicas).toHaveLength(3);
    // Asked of any broker: one that has not heard of the new topic yet answers "does not host it".
    const minInSync = await waitFor(async () => {
      const { resources } = await admin.describeConfigs({
        includeSynonyms: false,
        resources: [{ type: 2, name: topic, configNames: ['min.insync.replicas'] }],
      });
      return resources[0]?.configEntries[0]?.configValue;
    }, 'the topic config from the cluster');
    expect(minInSync).toBe('2');
    // The test below means something only if the leaders are three different brokers.
    expect(new Set(metadata.map((p) => p.leader)).size).toBe(3);
  });

  it('takes a backlog on one partition whole in one run while the other brokers have nothing, then ends caught up', async () => {
    // Enough for many full fetches (512 KB each): each takes a while to decode, and meanwhile the two
    // idle brokers' fetch loops report empty fetches every 50 ms.
    const count = 60_000;
    await send(0, count, 'a');
    const maxWaitMs = 30_000;
    const { taken, elapsed } = await oneRun(count, maxWaitMs);
    // Before the fix: 10,000, two idle brokers' empty fetches in a row ending the run.
    expect(taken).toBe(count);
    // Ended because it was full or caught up, not by waiting out its limit.
    expect(elapsed).toBeLessThan(maxWaitMs);
    const lag = await streams.partitionLag(group, topic);
    expect(lag.map((p) => p.lag)).toEqual([0, 0, 0]);
  });

  it('ends a run caught up, not at its limit, when a backlog on one broker is smaller than the run', async () => {
    const count = 20_000;
    await send(1, count, 'b');
    const maxWaitMs = 30_000;
    // Room for twice the backlog: only "caught up" can end this run early.
    const { taken, elapsed } = await oneRun(2 * count, maxWaitMs);
    expect(taken).toBe(count);
    expect(elapsed).toBeLessThan(maxWaitMs);
  });
});
