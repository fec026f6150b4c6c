import { streamRollupJob } from '../jobs/stream-rollup';
import { migrate } from '../src/db/migrate';
import { createKafka } from '../src/kafka/client';
import { deleteTopics } from '../src/kafka/topics';
import { Resources } from '../src/runtime/resources';
import { seedTransactions } from '../test/streaming/rollup-seed';
import { testEnv } from '../test/support';
import { benchContext } from './bench-context';

/**
 * The stream-rollup job on one hour of default traffic (200 tx/s: 720,000 transactions and their
 * predictions), with an hour of traffic either side so the window is not the whole table: the hourly
 * and the 5-minute rollup, each run twice (the second replaces the first), then again without the
 * occurred_at index to show what it buys.
 */
const PER_SECOND = Number(process.env.BENCH_ROLLUP_RATE ?? 200);
const HOUR_MS = 3_600_000;

export default async function rollupBench(): Promise<void> {
  const t = testEnv('bench');
  const { id, config, log } = t;
  await migrate(config, log);
  const resources = new Resources(config, log);
  const topic = t.topic('rollups');
  const hour = new Date('2024-06-01T10:00:00Z');
  try {
    const seeded = performance.now();
    const perHour = PER_SECOND * 3_600;
    for (const [offset, tag] of [
      [-HOUR_MS, 'before'],
      [0, 'hour'],
      [HOUR_MS, 'after'],
    ] as const) {
      await seedTransactions(resources.db, {
        tag,
        from: new Date(hour.getTime() + offset),
        count: perHour,
        spacingMs: 1_000 / PER_SECOND,
      });
    }
    await resources.db.query('analyze transactions; analyze predictions');
    console.log(
      `seeded ${(3 * perHour).toLocaleString('en')} transactions (3 h at ${PER_SECOND}/s) in ${seconds(performance.now() - seeded)}`,
    );
    const end = new Date(hour.getTime() + HOUR_MS);
    const run = async (label: string, windowSize: string) => {
      const ctx = benchContext(resources, log, id, { from: hour, to: end });
      const params = streamRollupJob.params.parse({ topic, windowSize });
      for (const pass of ['first run', 're-run']) {
        const started = performance.now();
        const result = await streamRollupJob.run(ctx, params);
        const totals = result.totals as { transactions: number };
        console.log(
          `${label.padEnd(28)} ${pass.padEnd(9)} ${seconds(performance.now() - started).padStart(8)}  ` +
            `(${totals.transactions.toLocaleString('en')} transactions, ${result.rows} rows)`,
        );
      }
    };
    await run('hourly rollup', '1h');
    await run('5-minute rollup', '5m');
    await resources.db.query('drop index transactions_occurred_at');
    await run('hourly, no occurred_at index', '1h');
    await run('5-min, no occurred_at index', '5m');
  } finally {
    await resources.close();
    await deleteTopics(createKafka(config), [topic]).catch(() => {});
    await t.cleanup();
  }
}

const seconds = (ms: number) => `${(ms / 1_000).toFixed(2)} s`;
