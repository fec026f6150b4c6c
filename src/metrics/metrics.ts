import type { Queue } from 'bullmq';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * Prometheus metrics of one process. Queue depths are read from BullMQ when scraped, so they
 * are right whichever process ran the jobs; run counts and durations are this process's own.
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

  constructor(queues: () => Queue[]) {
    collectDefaultMetrics({ register: this.registry, prefix: 'tickflow_' });
    new Gauge({
      name: 'tickflow_queue_jobs',
      help: 'Jobs per schedule queue and BullMQ state',
      labelNames: ['schedule', 'state'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of queues()) {
          const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed');
          for (const [state, count] of Object.entries(counts))
            this.set({ schedule: queue.name, state }, count);
        }
      },
    });
    new Gauge({
      name: 'tickflow_schedule_paused',
      help: '1 when the schedule (its queue) is paused',
      labelNames: ['schedule'] as const,
      registers: [this.registry],
      async collect() {
        this.reset();
        for (const queue of queues()) this.set({ schedule: queue.name }, (await queue.isPaused()) ? 1 : 0);
      },
    });
  }

  recordRun(schedule: string, state: 'completed' | 'failed', seconds: number): void {
    this.runs.inc({ schedule, state });
    this.runSeconds.observe({ schedule }, seconds);
  }
}
