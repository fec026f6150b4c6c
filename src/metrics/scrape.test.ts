import type { MetricValue } from '@prometheus-io/client';
import { Queue, Worker } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { deletePrefix } from '../../test/scheduler/redis-keys';
import { testEnv, waitFor } from '../../test/support';
import { bullConnection } from '../queues/queues';
import { Metrics } from './metrics';

const closers: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

const bySchedule = (values: MetricValue<string>[]) =>
  Object.fromEntries(
    values.map((v) => [`${v.labels.schedule}${v.labels.state ? `/${v.labels.state}` : ''}`, v.value]),
  );

describe('the scrape reads the queues from BullMQ (real Redis)', () => {
  it("gives each schedule's depths, pause flag, interval and newest finished run", async () => {
    const { id: prefix, config } = testEnv('scrape');
    const redis = bullConnection(config);
    closers.push(async () => {
      await deletePrefix(redis, prefix);
      redis.disconnect();
    });
    const queue = (name: string) => {
      const made = new Queue(name, { connection: redis, prefix });
      closers.push(() => made.close());
      return made;
    };
    const every = queue('every');
    const cron = queue('cron');
    await cron.pause();
    await cron.upsertJobScheduler('cron', { pattern: '*/30 * * * * *', tz: 'UTC' }, { name: 'sleep' });
    // An `every` scheduler's first run is due at once: a worker finishes it.
    await every.upsertJobScheduler('every', { every: 60_000 }, { name: 'sleep' });
    const worker = new Worker('every', async () => 'done', { connection: redis, prefix });
    closers.push(() => worker.close());
    const [finished] = await waitFor(async () => {
      const jobs = await every.getJobs(['completed'], 0, 0);
      return jobs.length > 0 && jobs;
    }, 'the first run to complete');

    const metrics = new Metrics(() => [every, cron]);
    const values = async (name: string) =>
      bySchedule((await metrics.registry.getSingleMetric(name)?.get())?.values ?? []);
    expect(await values('tickflow_queue_jobs')).toEqual({
      'every/waiting': 0,
      'every/prioritized': 0,
      'every/active': 0,
      'every/delayed': 1,
      'every/failed': 0,
      'every/completed': 1,
      'cron/waiting': 0,
      'cron/prioritized': 0,
      'cron/active': 0,
      'cron/delayed': 1,
      'cron/failed': 0,
      'cron/completed': 0,
    });
    expect(await values('tickflow_schedule_paused')).toEqual({ every: 0, cron: 1 });
    expect(await values('tickflow_schedule_interval_seconds')).toEqual({ every: 60, cron: 30 });
    expect(await values('tickflow_schedule_last_run_timestamp_seconds')).toEqual({
      every: (finished?.finishedOn ?? 0) / 1000,
    });
  });
});
