import { afterEach, expect, it } from 'vitest';
import { createKafka } from '../../src/kafka/client';
import { deleteTopics } from '../../src/kafka/topics';
import { bodyOf } from '../../src/producer/record-piece';
import { OFF_THREAD_MIN } from '../../src/producer/record-stream';
import { RecordMaker } from '../../src/producer/records';
import { runCli } from '../cli';
import { SchedulerTest } from '../scheduler/support';
import { readTopic } from './read-topic';

let s: SchedulerTest;
afterEach(async () => {
  await deleteTopics(createKafka(s.config), [s.t.topic('tx')]).catch(() => {});
  await s.cleanup();
});

it('a large producer run in the built worker makes its records on a thread: exactly the records of its seed', async () => {
  s = new SchedulerTest('producer_thread');
  const tx = s.t.topic('tx');
  const count = OFF_THREAD_MIN + 500;
  // A yearly cron (New Year's midnight): nothing runs here but the run triggered below.
  s.writeSchedules(`topics:
  ${tx}: { partitions: 3 }
schedules:
  bulk:
    job: producer-batch
    cron: "0 0 1 1 *"
    params: { topic: ${tx}, count: ${count}, seed: 5, malformedRate: 0.01 }
`);
  const scheduler = await s.start({ workers: false });
  await s.spawnReady(1, ['worker'], 'workers started');
  const triggered = await runCli(['trigger', 'bulk', '--wait'], s.env);
  expect(triggered.stderr).toBe('');
  expect(triggered.code).toBe(0);
  const result = JSON.parse(triggered.stdout.slice(triggered.stdout.indexOf('\n{') + 1)) as Record<
    string,
    unknown
  >;
  expect(result).toMatchObject({ produced: count, seed: 5 });
  await s.stop(scheduler);

  // Exactly its seed's records, each once, and each account's in the order they were made (one
  // account, one partition: Kafka keeps that order).
  const messages = await readTopic(createKafka(s.config), tx, count, 60_000);
  const maker = new RecordMaker({
    count,
    fraudRate: 0.05,
    seed: 5,
    window: {
      from: Date.parse(result.simulatedFrom as string),
      to: Date.parse(result.simulatedTo as string),
    },
    ratePerSecond: 200,
    malformedRate: 0.01,
  });
  const piece = maker.next(count);
  const made = piece.keys.map((key, i) => ({ key, value: bodyOf(piece, i).toString() }));
  const sent = messages.map((m) => ({ key: String(m.key), value: String(m.value) }));
  expect(sent).toHaveLength(count);
  expect(byAccount(sent)).toEqual(byAccount(made));
  expect(result).toMatchObject({
    malformed: maker.tally.malformed,
    fraud: maker.tally.fraud,
    bytes: maker.tally.bytes,
  });
}, 120_000);

/** Each account's bodies, in order. */
function byAccount(records: Array<{ key: string; value: string }>): Map<string, string[]> {
  const accounts = new Map<string, string[]>();
  for (const { key, value } of records) accounts.set(key, [...(accounts.get(key) ?? []), value]);
  return accounts;
}
