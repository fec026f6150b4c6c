import { EventEmitter } from 'node:events';
import type { Queue } from 'bullmq';
import type { Schedule } from '../schedules/schedule';
import type { ScheduleSource } from '../schedules/source';
import { type Change, type ReconcileDeps, reconcile } from './reconcile';

export interface SchedulerOptions extends ReconcileDeps {
  source: ScheduleSource;
  /** How often to re-check Redis against the file and PostgreSQL (restoring what a flush lost). */
  checkEveryMs?: number;
}

export interface SchedulerEvents {
  /** The schedules' queues changed (what Bull Board shows). */
  queues: [Queue[]];
  /**
   * A reconcile pass is done, with what it changed (none when all was in line): e.g. `caught-up`
   * when it queued runs for missed windows, `released`/`rerun` for a watermark's windows. A pass
   * that failed emits nothing (it is logged and retried at the next check).
   */
  reconciled: [Change[]];
}

/**
 * Keeps BullMQ's job schedulers in line with the schedules file and PostgreSQL's switches: at
 * start, on every valid edit, and every few seconds (to restore what a Redis flush removed).
 * Timing itself lives in BullMQ, so several Scheduler processes on one file never double the runs.
 */
export class Scheduler extends EventEmitter<SchedulerEvents> {
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private rerun = false;
  private queueNames = '';

  constructor(private readonly options: SchedulerOptions) {
    super();
  }

  async start(): Promise<void> {
    this.options.source.on('change', this.onChange);
    await this.reconcileNow();
    this.timer = setInterval(this.onChange, this.options.checkEveryMs ?? 2_000);
  }

  /** One BullMQ queue per current schedule: what Bull Board shows. */
  queues(): Queue[] {
    return this.schedules().map((schedule) => this.options.queues.get(schedule.name));
  }

  /** Runs a reconcile pass now (or waits for the one under way and runs another after it). */
  async reconcileNow(): Promise<void> {
    if (this.running) {
      this.rerun = true;
      return this.running;
    }
    this.running = this.passes().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.options.source.off('change', this.onChange);
    await this.running;
  }

  private readonly onChange = () => {
    void this.reconcileNow();
  };

  private async passes(): Promise<void> {
    do {
      this.rerun = false;
      try {
        const changes = await reconcile(this.schedules(), this.options);
        this.announceQueues();
        this.announce(changes);
      } catch (error) {
        this.options.log.error({ err: error }, 'reconcile failed; retrying at the next check');
      }
    } while (this.rerun);
  }

  /** A listener that throws is logged; the pass itself went through. */
  private announce(changes: Change[]): void {
    try {
      this.emit('reconciled', changes);
    } catch (error) {
      this.options.log.warn({ err: error }, 'a reconciled listener threw');
    }
  }

  private announceQueues(): void {
    const names = this.schedules()
      .map((s) => s.name)
      .join('\n');
    if (names === this.queueNames) return;
    this.queueNames = names;
    this.emit('queues', this.queues());
  }

  private schedules(): Schedule[] {
    return this.options.source.current.schedules;
  }
}
