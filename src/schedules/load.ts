import type { z } from 'zod';
import type { TopicSpec } from '../kafka/topics';
import type { JobDefinition } from '../runtime/job';
import type { JobRegistry } from '../runtime/job-registry';
import { cronProblem, isTimeZone } from './cron';
import { checkDependencies } from './dependencies';
import {
  defaultsSchema,
  fileSchema,
  NESTED_FIELD_NAMES,
  type RawSchedule,
  SCHEDULE_NAME,
  SETTING_NAMES,
  scheduleSchema,
  TOPIC_NAME,
  topicSchema,
} from './format';
import type { ProblemList, YamlPath } from './problems';
import {
  DEFAULT_RERUN_WITHIN,
  SCHEDULE_DEFAULTS,
  type Schedule,
  type ScheduleSettings,
  type SchedulesFile,
  type Trigger,
  type WatermarkWait,
} from './schedule';
import { readSchedulesText, readYamlDocument } from './yaml-read';

/**
 * What a schedules file means: its defaults applied to each schedule, triggers, watermark waits,
 * each job's params and the topics. Reading the YAML itself, with its limits, is yaml-read.ts's;
 * checks across schedules are dependencies.ts's.
 */

/** Reads and validates a schedules file; any problem throws a SchedulesFileError listing them all. */
export async function loadSchedulesFile(file: string, jobs: JobRegistry): Promise<SchedulesFile> {
  return parseSchedules(await readSchedulesText(file), file, jobs);
}

const EMPTY_FILE = 'the file is empty; to remove every schedule write `schedules: {}`';

/** The schedules in a file's text, defaults applied; any problem throws a SchedulesFileError listing them all. */
export function parseSchedules(text: string, file: string, jobs: JobRegistry): SchedulesFile {
  const { value: raw, problems } = readYamlDocument(text, file);
  // Nothing but whitespace, comments or `---`: what `: > schedules.yaml` or a failed save leaves.
  if (raw === undefined || raw === null) problems.atOffset(0, EMPTY_FILE);
  problems.throwIfAny();
  const top = fileSchema.safeParse(raw, { reportInput: true });
  if (!top.success) {
    reportZodIssues(top.error, [], problems, 'field', allowedFields(Object.keys(fileSchema.shape)));
    problems.throwIfAny();
  }
  // Zero schedules must be asked for: a truncated or half-saved file must not remove them all.
  if (top.data?.schedules === undefined) {
    problems.add(['schedules'], 'is missing; to remove every schedule write `schedules: {}`', 'key');
  } else if (top.data.schedules === null) {
    problems.add(
      ['schedules'],
      'is empty; list schedules under it, or write `schedules: {}` to remove every schedule',
      'key',
    );
  }
  problems.throwIfAny();
  const { defaults: rawDefaults, topics: rawTopics, schedules: rawSchedules } = top.data ?? {};
  const defaults = parseDefaults(rawDefaults, problems);
  const topics = Object.entries(rawTopics ?? {}).flatMap(([name, raw]) => parseTopic(name, raw, problems));
  const schedules = Object.entries(rawSchedules ?? {}).flatMap(([name, raw]) =>
    parseSchedule(name, raw, defaults, jobs, problems),
  );
  checkDefaultOverridable(defaults, schedules, jobs, problems);
  problems.throwIfAny();
  checkDependencies(schedules, jobs, problems);
  problems.throwIfAny();
  return { file, schedules, topics };
}

function reportZodIssues(
  error: z.ZodError,
  base: YamlPath,
  problems: ProblemList,
  noun: 'field' | 'param',
  allowed: string,
): void {
  for (const issue of error.issues) {
    const at = [...base, ...(issue.path as YamlPath)];
    if (issue.code === 'unrecognized_keys') {
      // An unknown key inside a nested map (notify: { … }) lists that map's fields, not the schedule's.
      const parent = String(issue.path.at(-1));
      const nested =
        noun === 'field' && Object.hasOwn(NESTED_FIELD_NAMES, parent)
          ? NESTED_FIELD_NAMES[parent]
          : undefined;
      for (const key of issue.keys) {
        problems.add(
          [...at, key],
          `unknown ${noun} "${key}"; ${nested ? allowedFields(nested) : allowed}`,
          'key',
        );
      }
    } else if (issue.code === 'invalid_type' && issue.input === undefined) {
      problems.add(at, `is missing; ${issue.message}`);
    } else {
      problems.add(at, issue.message);
    }
  }
}

function parseDefaults(raw: unknown, problems: ProblemList): ScheduleSettings {
  const parsed = defaultsSchema.safeParse(raw, { reportInput: true });
  if (!parsed.success) {
    reportZodIssues(parsed.error, ['defaults'], problems, 'field', allowedFields(SETTING_NAMES));
    return { ...SCHEDULE_DEFAULTS };
  }
  const given = parsed.data ?? {};
  if (given.timezone !== undefined && !isTimeZone(given.timezone)) {
    problems.add(['defaults', 'timezone'], timeZoneMessage(given.timezone));
  }
  const { pauseAfter, deadline, ...rest } = given;
  return {
    ...SCHEDULE_DEFAULTS,
    ...withoutUndefined(rest),
    keep: { ...SCHEDULE_DEFAULTS.keep, ...withoutUndefined(given.keep ?? {}) },
    // null in defaults: none, as if not written.
    ...(pauseAfter == null ? {} : { pauseAfter }),
    ...(deadline == null ? {} : { deadline }),
  };
}

function parseSchedule(
  name: string,
  raw: unknown,
  defaults: ScheduleSettings,
  jobs: JobRegistry,
  problems: ProblemList,
): Schedule[] {
  const at: YamlPath = ['schedules', name];
  if (!SCHEDULE_NAME.test(name)) {
    problems.add(
      at,
      `"${name}" cannot name a schedule; use letters, digits, - and _ (it names a queue)`,
      'key',
    );
  }
  const parsed = scheduleSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) {
    reportZodIssues(parsed.error, at, problems, 'field', allowedFields(Object.keys(scheduleSchema.shape)));
    return [];
  }
  const entry = parsed.data;
  const trigger = parseTrigger(entry, entry.timezone ?? defaults.timezone, at, problems);
  const watermark = parseWatermark(entry, at, problems);
  const job = jobs.get(entry.job);
  if (!job) {
    problems.add(
      [...at, 'job'],
      `unknown job type "${entry.job}"; known job types: ${jobs.names().join(', ')}`,
    );
  }
  const params = job && parseParams(job, entry.params ?? {}, [...at, 'params'], problems);
  const overridable = job && overridableOf(entry, defaults, jobs, at, problems);
  const catchup = entry.catchup ?? defaults.catchup;
  // Only `all` reads it: accepted elsewhere, it would look like a limit that is not applied.
  if (entry.catchupWindow !== undefined && catchup !== 'all') {
    problems.add(
      [...at, 'catchupWindow'],
      `applies only with catchup: all (this schedule's catchup is ${catchup}); set catchup: all, or remove catchupWindow`,
    );
  }
  if (!trigger || !job || !params) return [];
  return [
    {
      name,
      job: entry.job,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      trigger,
      ...(watermark ? { watermark } : {}),
      enabled: entry.enabled ?? defaults.enabled,
      params,
      overlap: entry.overlap ?? defaults.overlap,
      retries: entry.retries ?? defaults.retries,
      backoff: entry.backoff ?? defaults.backoff,
      timeout: entry.timeout ?? defaults.timeout,
      keep: { ...defaults.keep, ...withoutUndefined(entry.keep ?? {}) },
      catchup,
      catchupWindow: entry.catchupWindow ?? defaults.catchupWindow,
      ...notifyOf(entry.notify ?? defaults.notify),
      ...failurePolicyOf(entry, defaults),
      ...(overridable ? { overridable } : {}),
    },
  ];
}

/**
 * What a trigger may override, as the file says: the schedule's own list (each name a param of its
 * job, else a problem naming it), or the defaults' names that are params of its job. Undefined: the
 * file says nothing, the job type's own list applies (see control/trigger.ts).
 */
function overridableOf(
  entry: RawSchedule,
  defaults: ScheduleSettings,
  jobs: JobRegistry,
  at: YamlPath,
  problems: ProblemList,
): string[] | undefined {
  const params = jobs.paramNames(entry.job);
  if (entry.overridable === undefined) return defaults.overridable?.filter((name) => params.includes(name));
  entry.overridable.forEach((name, index) => {
    const problem = overridableProblem(name, params, `job ${entry.job}`);
    if (problem) problems.add([...at, 'overridable', index], problem);
  });
  return [...new Set(entry.overridable)];
}

/** A name in `overridable` that is not a top-level param (of `params`, `whose`). */
function overridableProblem(name: string, params: string[], whose: string): string | undefined {
  if (params.includes(name)) return undefined;
  const top = name.split('.')[0] ?? name;
  if (name.includes('.') && params.includes(top))
    return `"${name}": overridable names top-level params; write ${top} (a caller may then set the whole of it)`;
  return `"${name}" is not a param of ${whose}; its params: ${params.join(', ') || 'none'}`;
}

/** Each name in `defaults.overridable` must be a param of some schedule's job (it applies to those only). */
function checkDefaultOverridable(
  defaults: ScheduleSettings,
  schedules: Schedule[],
  jobs: JobRegistry,
  problems: ProblemList,
): void {
  const params = [...new Set(schedules.flatMap((schedule) => jobs.paramNames(schedule.job)))];
  const types = [...new Set(schedules.map((schedule) => schedule.job))].join(', ');
  defaults.overridable?.forEach((name, index) => {
    const problem = overridableProblem(name, params, `any job of the file's schedules (${types || 'none'})`);
    if (problem) problems.add(['defaults', 'overridable', index], problem);
  });
}

function parseTrigger(
  entry: RawSchedule,
  timezone: string,
  at: YamlPath,
  problems: ProblemList,
): Trigger | undefined {
  if (entry.after !== undefined) {
    const clock = entry.every !== undefined ? 'every' : entry.cron !== undefined ? 'cron' : undefined;
    if (clock) {
      problems.add(
        [...at, clock],
        `set either after or ${clock}, not both: a schedule that runs after another has no clock of its own`,
      );
      return undefined;
    }
    return { after: entry.after };
  }
  if (entry.every !== undefined && entry.cron !== undefined) {
    problems.add([...at, 'cron'], 'set either every or cron, not both');
    return undefined;
  }
  if (entry.every !== undefined) return { every: entry.every };
  if (entry.cron === undefined) {
    problems.add(
      at,
      'says neither when to run: add every (e.g. every: 5s), cron (e.g. cron: "0 * * * *") or after (e.g. after: consumer)',
      'key',
    );
    return undefined;
  }
  if (!isTimeZone(timezone)) {
    // A bad `defaults.timezone` was reported once, where it is written; say it again only for the schedule's own.
    if (entry.timezone !== undefined) problems.add([...at, 'timezone'], timeZoneMessage(timezone));
    return undefined;
  }
  const problem = cronProblem(entry.cron, timezone);
  if (problem) {
    problems.add([...at, 'cron'], problem);
    return undefined;
  }
  return { cron: entry.cron, timezone };
}

/** A schedule's wait for a watermark, with its defaults; only a schedule on a clock has windows to wait with. */
function parseWatermark(entry: RawSchedule, at: YamlPath, problems: ProblemList): WatermarkWait | undefined {
  const { watermark } = entry;
  if (!watermark) return undefined;
  if (entry.after !== undefined) {
    problems.add(
      [...at, 'watermark'],
      'applies only to a schedule on a clock (every or cron): a schedule that runs after another already runs once its data is there; remove watermark or after',
    );
    return undefined;
  }
  return {
    of: watermark.of,
    lateness: watermark.lateness,
    rerunWithin: watermark.rerunWithin ?? DEFAULT_RERUN_WITHIN,
  };
}

function parseParams(
  job: JobDefinition,
  input: Record<string, unknown>,
  at: YamlPath,
  problems: ProblemList,
): Record<string, unknown> | undefined {
  const parsed = job.params.safeParse(input, { reportInput: true });
  if (parsed.success) return parsed.data as Record<string, unknown>;
  const accepted = 'shape' in job.params ? Object.keys(job.params.shape as object) : [];
  reportZodIssues(
    parsed.error,
    at,
    problems,
    'param',
    `job ${job.name} accepts: ${accepted.join(', ') || 'no params'}`,
  );
  return undefined;
}

function parseTopic(name: string, raw: unknown, problems: ProblemList): TopicSpec[] {
  const at: YamlPath = ['topics', name];
  if (!TOPIC_NAME.test(name)) {
    problems.add(at, `"${name}" cannot name a Kafka topic; use letters, digits, ., - and _`, 'key');
  }
  const parsed = topicSchema.safeParse(raw ?? {}, { reportInput: true });
  if (!parsed.success) {
    reportZodIssues(parsed.error, at, problems, 'field', allowedFields(Object.keys(topicSchema.shape)));
    return [];
  }
  const { partitions, retention, compact, replicas } = parsed.data;
  return [
    {
      name,
      partitions,
      compact,
      ...(retention === undefined ? {} : { retentionMs: retention }),
      ...(replicas === undefined ? {} : { replicas }),
    },
  ];
}

/** A schedule's own notify replaces the defaults' whole; none at all leaves the field out, as do URLs not given. */
function notifyOf(notify: Schedule['notify']): Pick<Schedule, 'notify'> {
  return notify ? { notify: withoutUndefined({ ...notify }) } : {};
}

/** pauseAfter and deadline: the schedule's own (null: none, over the defaults'), else the defaults'. */
function failurePolicyOf(
  entry: RawSchedule,
  defaults: ScheduleSettings,
): Pick<Schedule, 'pauseAfter' | 'deadline'> {
  const pauseAfter = entry.pauseAfter === null ? undefined : (entry.pauseAfter ?? defaults.pauseAfter);
  const deadline = entry.deadline === null ? undefined : (entry.deadline ?? defaults.deadline);
  return {
    ...(pauseAfter === undefined ? {} : { pauseAfter }),
    ...(deadline === undefined ? {} : { deadline }),
  };
}

const allowedFields = (names: string[]) => `allowed: ${names.join(', ')}`;

const timeZoneMessage = (name: string) =>
  `"${name}" is not a time zone; use an IANA name such as UTC, Europe/Paris or America/New_York`;

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
