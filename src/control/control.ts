import type pg from 'pg';
import type { Config } from '../config/config';
import { createPool } from '../db/pool';
import { ScheduleStates } from '../db/schedule-states';
import { oneShotRedis, QueueSet } from '../queues/queues';
import type { JobRegistry } from '../runtime/job-registry';
import { loadSchedulesFile } from '../schedules/load';
import { SchedulesFileError } from '../schedules/problems';
import type { SchedulesFile } from '../schedules/schedule';

/** The schedules file as a process knows it: the last valid version and the last broken edit. */
export interface FileState {
  path: string;
  current?: SchedulesFile;
  error?: { error: SchedulesFileError; at?: Date };
}

/**
 * What every control-plane operation works on. The CLI, the REST API and the web UI each build
 * one and call the same functions (schedules.ts, toggle.ts, trigger.ts, runs.ts) with it.
 */
export interface Control {
  db: pg.Pool;
  queues: QueueSet;
  states: ScheduleStates;
  /** The job types the schedules file may name: what a trigger checks its params against. */
  jobs: JobRegistry;
  file(): FileState;
  /** Where Bull Board is served, for links to a run; undefined when no web UI runs. */
  boardPath?: string;
  /** WEB_READ_ONLY: every operation that changes state is refused. */
  readOnly?: boolean;
  /** MANUAL_RUNS_QUEUED_MAX: a caller's queued manual runs of one schedule, at most (default 20). */
  manualRunsQueuedMax?: number;
}

/** A Control for a one-shot command: reads the file once; `close()` ends its connections. */
async function openControl(config: Config, jobs: JobRegistry): Promise<Control & { close(): Promise<void> }> {
  const file = await readFileState(config.schedulesFile, jobs);
  const db = createPool(config, 2);
  const connection = oneShotRedis(config);
  const queues = new QueueSet(connection, config.queuePrefix);
  return {
    db,
    queues,
    states: new ScheduleStates(db),
    jobs,
    file: () => file,
    manualRunsQueuedMax: config.manualRunsQueuedMax,
    async close() {
      await queues.close();
      connection.disconnect();
      await db.end();
    },
  };
}

async function readFileState(path: string, jobs: JobRegistry): Promise<FileState> {
  try {
    return { path, current: await loadSchedulesFile(path, jobs) };
  } catch (error) {
    if (error instanceof SchedulesFileError) return { path, error: { error } };
    throw error;
  }
}

/** Runs `work` with a one-shot Control knowing the job types `jobs`, and closes it afterwards. */
export async function withControl<T>(
  config: Config,
  jobs: JobRegistry,
  work: (control: Control) => Promise<T>,
): Promise<T> {
  const control = await openControl(config, jobs);
  try {
    return await work(control);
  } catch (error) {
    // 42P01 undefined_table: nothing has migrated this database and schema yet.
    if ((error as { code?: string }).code !== '42P01') throw error;
    throw new Error(
      `schema "${config.databaseSchema}" of DATABASE_URL has no tickflow tables yet: run \`tickflow migrate\` (the scheduler does it at start)`,
    );
  } finally {
    await control.close();
  }
}
