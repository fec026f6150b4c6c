import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from '@prometheus-io/client';
import type { Queue } from 'bullmq';
import { type RepeatCadence, triggerOfRepeat } from '../schedules/schedule';
import { slotGapMs } from '../schedules/window';
import { freshnessOf } from './freshness';
import { FreshnessHistogram } from './freshness-histogram';

/** What a finished attempt tells besides its outcome (WorkerPool's `onFinished`). */
export interface RunDetails {
  /** Start − due time of a run's first attempt, in seconds; absent for retries and catch-up runs. */
  startDelaySeconds?: number;
  /** What a completed attempt returned. */
  result?: unknown;
  /**
   * Which fields of `result` count messages, as its job type says (jobs/index.ts): only those are
   * added to tickflow_messages_total, so another job's fields of the same name are not.
   */
  messageCounts?: readonly string[];
}

/**
 * Each consumer schedule's event-time watermark (null: none yet), read from PostgreSQL in one query
 * at each scrape (see control/watermarks.ts).
 */
export type ReadWatermarks = () => Promise<Map<string, Date | null>>;

/**
 * Prometheus metrics of one process. Queue depths, pause flags, schedule intervals and last run
 * times are read from BullMQ when scraped, so they are right whichever process ran the jobs; so are
 * the consumers' watermarks, from PostgreSQL, when given `watermarks`. Run counts, durations, start
 * delays, message counts, the consumer lag and freshness are this process's own (its workers' runs).
 */
export class Metrics {
  readonly registry = new Registry();

  readonly runs = new Counter({
    name: 'tickflow_runs_total',
    help: 'Finished run attempts by schedule and outcome',
    labelNames: ['schedule', 'state'] as const,
    registers: [this.registry],
  });

  readonly runSeconds = new Histogram({
    name: 'tickflow_run_duration_seconds',
    help: 'Run attempt duration',
    labelNames: ['schedule'] as const,
    buckets: [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers: [this.registry],
  });

  readonly startDelay = new Histogram({
    name: 'tickflow_run_start_delay_seconds',
    help: "Start of a run's first attempt minus its due time",
    labelNames: ['schedule'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
    registers: [this.registry],
  });

  readonly messages = new Counter({
    name: 'tickflow_messages_total',
    help: 'Messages counted in the results of completed runs, by kind (produced, fraud, consumed, invalid, flagged, ...)',
    labelNames: ['schedule', 'kind'] as const,
    registers: [this.registry],
  });

  readonly consumerLag = new Gauge({
    name: 'tickflow_consumer_lag',
    help: "Consumer group lag (messages) after this process's last completed consumer run",
    labelNames: ['schedule'] as const,
    registers: [this.registry],
  });

  readonly slotsSkipped = new Counter({
    name: 'tickflow_slots_skipped_total',
    help: "Slots of a schedule's cadence that got no run of their own, because the run before them started late, by why (paused: a pause held it; overlap: it waited for the run before it, overlap: skip; late: no worker took it in time)",
    labelNames: ['schedule', 'reason'] as const,
    registers: [this.registry],
  });

  /** Event time → stored and → alert published, from completed consumer runs' results. */
  readonly freshness = new FreshnessHistogram(this.registry);

  /** The scrape under way's read of the queues, which all its gauges share. */
  private reading?: Promise<QueueReading[]>;

  constructor(queues: () => Queue[], watermarks?: ReadWatermarks) {
    // No prefix: the standard process_* and nodejs_* names, which stock Node.js dashboards query.
    collectDefaultMetrics({ register: this.registry });
    // The client collects every metric of a scrape at once: the first gauge starts the read.
    const read = () => {
      this.reading ??= Promise.all(queues().map(readQueue)).finally(() => {
        this.reading = undefined;
      });
      return this.reading;
    };
    new Gauge({
      name: 'tickflow_queue_jobs',
      help: 'Jobs per schedule queue and BullMQ state',
      labelNames: ['schedule', 'state'] as const,
      registers: [this.registry],
      async collect() {
        const readings = await read();
        this.reset();
        for (const { schedule, counts } of readings)
          for (const [state, count] of Object.entries(counts)) this.set({ schedule, state }, count);
      },
    });
    this.scheduleGauge(read, 'tickflow_schedule_paused', '1 when the schedule (its queue) is paused', (r) =>
      r.paused ? 1 : 0,
    );
    this.scheduleGauge(
      read,
      'tickflow_schedule_interval_seconds',
      "Time between two due runs of the schedule's job scheduler (a cron: its next two fire times)",
      (r) => r.intervalSeconds,
    );
    this.scheduleGauge(
      read,
      'tickflow_schedule_last_run_timestamp_seconds',
      "Unix time the schedule's newest finished run (completed or failed) that Redis keeps ended",
      (r) => r.lastRunSeconds,
    );
    if (watermarks) this.watermarkGauge(watermarks);
  }

  /** now − watermark per consumer schedule; one with no watermark yet is left out. */
  private watermarkGauge(watermarks: ReadWatermarks): void {
    new Gauge({
      name: 'tickflow_watermark_lag_seconds',
      help: "Now minus the consumer schedule's event-time watermark (every event up to it is stored)",
      labelNames: ['schedule'] as const,
      registers: [this.registry],
      async collect() {
        // PostgreSQL unreachable: the scrape goes on without these (the readiness check says why).
        const read = await watermarks().catch(() => new Map<string, Date | null>());
        const now = Date.now();
        this.reset();
        for (const [schedule, at] of read) if (at) this.set({ schedule }, (now - at.getTime()) / 1_000);
      },
    });
  }

  /** A gauge per schedule, taken from the scrape's read of its queue; `undefined` leaves it out. */
  private scheduleGauge(
    read: () => Promise<QueueReading[]>,
    name: string,
    help: string,
    pick: (reading: QueueReading) => number | undefined,
  ): void {
    new Gauge({
      name,
      help,
      labelNames: ['schedule'] as const,
      registers: [this.registry],
      async collect() {
        const readings = await read();
        this.reset();
        for (const reading of readings) {
          const value = pick(reading);
          if (value !== undefined) this.set({ schedule: reading.schedule }, value);
        }
      },
    });
  }

  recordRun(
    schedule: string,
    state: 'completed' | 'failed',
    seconds: number,
    details: RunDetails = {},
  ): void {
    this.runs.inc({ schedule, state });
    this.runSeconds.observe({ schedule }, seconds);
    if (details.startDelaySeconds !== undefined) this.recordStartDelay(schedule, details.startDelaySeconds);
    if (state === 'completed' && details.result !== undefined)
      this.recordResult(schedule, details.result, details.messageCounts ?? []);
  }

  /** Slots a job scheduler skipped before a late run of `schedule` (the worker's failure policy). */
  recordSkipped(schedule: string, reason: string, count: number): void {
    if (count > 0) this.slotsSkipped.inc({ schedule, reason }, count);
  }

  /** A clock a little behind the scheduler's can make a start look early: that counts as on time. */
  recordStartDelay(schedule: string, seconds: number): void {
    if (Number.isFinite(seconds)) this.startDelay.observe({ schedule }, Math.max(0, seconds));
  }

  /**
   * Adds a completed run's `messageCounts` fields and its freshness, and sets the lag it saw
   * (`lagAfter`); ignores the rest.
   */
  recordResult(schedule: string, result: unknown, messageCounts: readonly string[]): void {
    if (typeof result !== 'object' || result === null) return;
    const fields = result as Record<string, unknown>;
    for (const kind of messageCounts) {
      const count = fields[kind];
      if (isCount(count)) this.messages.inc({ schedule, kind }, count);
    }
    // null: the job could not read the lag; the last value read stands rather than a false 0.
    if (isCount(fields.lagAfter)) this.consumerLag.set({ schedule }, fields.lagAfter);
    const freshness = freshnessOf(result);
    if (freshness) this.freshness.add(freshness);
  }
}

/** What a scrape reads of one schedule's queue. */
interface QueueReading {
  schedule: string;
  counts: Record<string, number>;
  paused: boolean;
  intervalSeconds: number | undefined;
  lastRunSeconds: number | undefined;
}

/** The queue's four reads, sent at once (the connection pipelines them) rather than one after another. */
async function readQueue(queue: Queue): Promise<QueueReading> {
  const [counts, paused, scheduler, finished] = await Promise.all([
    queue.getJobCounts('waiting', 'prioritized', 'active', 'delayed', 'failed', 'completed'),
    queue.isPaused(),
    queue.getJobScheduler(queue.name),
    // Newest first in each set: at most the newest completed and the newest failed job.
    queue.getJobs(['completed', 'failed'], 0, 0, false),
  ]);
  const last = Math.max(0, ...finished.map((job) => job?.finishedOn ?? 0));
  return {
    schedule: queue.name,
    counts,
    paused,
    intervalSeconds: intervalSeconds(scheduler),
    lastRunSeconds: last > 0 ? last / 1000 : undefined,
  };
}

const isCount = (value: unknown): value is number =>
  typeof value === 'number' && Number.isFinite(value) && value >= 0;

/** A job scheduler's `every`, or the gap between its cron's next two fire times, in seconds. */
export function intervalSeconds(scheduler: RepeatCadence | undefined, now = new Date()): number | undefined {
  const trigger = triggerOfRepeat(scheduler);
  if (!trigger) return undefined;
  try {
    return slotGapMs(trigger, now) / 1000;
  } catch {
    // A pattern cron-parser cannot read (set by something other than tickflow): no interval.
    return undefined;
  }
}
