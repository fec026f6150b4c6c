import type { Job } from 'bullmq';
import { specVersionAt } from '../db/audit-log';
import type { Queryable } from '../db/pool';
import type { Schedule } from '../schedules/schedule';
import { specVersionOf } from '../schedules/spec-diff';
import { codeVersion } from '../version';
import type { RunAttempt } from './job-runs';

/** How long a run's start waits for the spec version in force when its job was made, at most. */
const LOOKUP_MS = 1_000;

/** When this process first used each parsed schedule (each edit of the file makes new ones), and its version. */
const seen = new WeakMap<Schedule, { at: number; version: string }>();

/**
 * What made a run: its schedule's spec version and the code's (src/version.ts). The spec version is
 * the one in force when the run's job was made (the job scheduler's template, a trigger's or a
 * backfill's params come from it): the schedule as this worker reads it now, unless the job is older
 * than that reading, when PostgreSQL's audit log says which version was in force then (a run queued
 * before an edit and started after it ran with the earlier params). The look-up is bounded: without
 * an answer, the current version stands.
 */
export async function runVersions(
  db: Queryable,
  job: Pick<Job, 'timestamp'>,
  schedule: Schedule | undefined,
): Promise<Pick<RunAttempt, 'specVersion' | 'codeVersion'>> {
  const code = codeVersion();
  if (!schedule) return { codeVersion: code };
  let known = seen.get(schedule);
  if (!known) {
    known = { at: Date.now(), version: specVersionOf(schedule) };
    seen.set(schedule, known);
  }
  if (job.timestamp >= known.at) return { specVersion: known.version, codeVersion: code };
  let timer: NodeJS.Timeout | undefined;
  const inForce = await Promise.race([
    specVersionAt(db, schedule.name, new Date(job.timestamp)).catch(() => undefined),
    new Promise<undefined>((resolve) => {
      timer = setTimeout(() => resolve(undefined), LOOKUP_MS);
    }),
  ]).finally(() => clearTimeout(timer));
  return { specVersion: inForce ?? known.version, codeVersion: code };
}
