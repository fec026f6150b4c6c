import { EventEmitter } from 'node:events';
import type { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import type { Logger } from '../log/logger';
import type { ScheduleProblem } from '../schedules/problems';
import type { Schedule } from '../schedules/schedule';
import type { ScheduleSource } from '../schedules/source';
import { ScheduleMemory } from './memory';
import { QueueSet } from './queues';
import { reconcile } from './reconcile';
import { type ScheduleStatus, scheduleStatus } from './status';

export interface SchedulerOptions {
  source: ScheduleSource;
  /** A BullMQ-ready connection (see bullConnection); the caller closes it. */
  connection: Redis;
  prefix: string;
  log: Logger;
  /** How often to re-check Redis, which restores schedulers lost to a flush. */
  checkEveryMs?: number;
}

export interface SchedulerState {
  file: string;
  schedules: (ScheduleStatus & { definition: Schedule })[];
  /** The last broken edit of the file, while the previous schedules keep running. */
  loadError?: { message: string; problems: ScheduleProblem[]; at: Date };
}

/**
 * Keeps BullMQ's job schedulers in line with the schedules file: at start, on every valid edit,
 * and every few seconds (to restore what a Redis flush removed). Timing itself lives in BullMQ,
 * so several Scheduler processes on one file never double the runs.
 */
export class Scheduler extends EventEmitter<{ queues: [Queue[]] }> {
  private readonly queueSet: QueueSet;
  private readonly memory: ScheduleMemory;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  private rerun = false;
  private queueNames = '';

  constructor(private readonly options: SchedulerOptions) {
    super();
    this.queueSet = new QueueSet(options.connection, options.prefix);
    this.memory = new ScheduleMemory(options.connection, options.prefix);
  }

  async start(): Promise<void> {
    this.options.source.on('change', this.onChange);
    await this.reconcileNow();
    this.timer = setInterval(this.onChange, this.options.checkEveryMs ?? 2_000);
  }

  /** One BullMQ queue per current schedule: what Bull Board shows. */
  queues(): Queue[] {
    return this.schedules().map((schedule) => this.queueSet.get(schedule.name));
  }

  async state(): Promise<SchedulerState> {
    const { source } = this.options;
    const schedules = await Promise.all(
      this.schedules().map(async (definition) => ({
        ...(await scheduleStatus(this.queueSet.get(definition.name), this.memory)),
        definition,
      })),
    );
    const failure = source.lastError;
    return {
      file: source.file,
      schedules,
      ...(failure
        ? { loadError: { message: failure.error.message, problems: failure.error.problems, at: failure.at } }
        : {}),
    };
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
    await this.queueSet.close();
  }

  private readonly onChange = () => {
    void this.reconcileNow();
  };

  private async passes(): Promise<void> {
    do {
      this.rerun = false;
      try {
        await reconcile(this.schedules(), this.queueSet, this.memory, this.options.log);
        this.announceQueues();
      } catch (error) {
        this.options.log.error({ err: error }, 'reconcile failed; retrying at the next check');
      }
    } while (this.rerun);
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
