import fs from 'node:fs/promises';
import { isPair, isScalar, LineCounter, parseDocument, visit, type YAMLError } from 'yaml';
import type { z } from 'zod';
import { jobs as registeredJobs } from '../../jobs/index';
import type { JobDefinition } from '../../jobs/job';
import type { TopicSpec } from '../kafka/topics';
import { cronProblem, isTimeZone } from './cron';
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
import { ProblemList, SchedulesFileError, type YamlPath } from './problems';
import {
  SCHEDULE_DEFAULTS,
  type Schedule,
  type ScheduleSettings,
  type SchedulesFile,
  type Trigger,
} from './schedule';

type JobRegistry = Record<string, JobDefinition>;

/** Reads and validates a schedules file; any problem throws a SchedulesFileError listing them all. */
export async function loadSchedulesFile(
  file: string,
  jobs: JobRegistry = registeredJobs,
): Promise<SchedulesFile> {
  return parseSchedules(await readSchedulesText(file), file, jobs);
}

/** The file's text; an unreadable file is a SchedulesFileError like any other problem with it. */
export async function readSchedulesText(file: string): Promise<string> {
  try {
    return await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new SchedulesFileError(file, [
      { file, line: 1, column: 1, message: `cannot read the file (${(error as Error).message})` },
    ]);
  }
}

export function parseSchedules(
  text: string,
  file: string,
  jobs: JobRegistry = registeredJobs,
): SchedulesFile {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems = new ProblemList(file, doc, lineCounter);
  for (const error of doc.errors) reportYamlError(error, doc, text, problems);
  problems.throwIfAny();

  const top = fileSchema.safeParse(doc.toJS() ?? {}, { reportInput: true });
  if (!top.success) {
    reportZodIssues(top.error, [], problems, 'field', allowedFields(Object.keys(fileSchema.shape)));
    problems.throwIfAny();
  }
  const { defaults: rawDefaults, topics: rawTopics, schedules: rawSchedules } = top.data ?? {};
  const defaults = parseDefaults(rawDefaults, problems);
  const topics = Object.entries(rawTopics ?? {}).flatMap(([name, raw]) => parseTopic(name, raw, problems));
  const schedules = Object.entries(rawSchedules ?? {}).flatMap(([name, raw]) =>
    parseSchedule(name, raw, defaults, jobs, problems),
  );
  problems.throwIfAny();
  return { file, schedules, topics };
}

function reportYamlError(
  error: YAMLError,
  doc: ReturnType<typeof parseDocument>,
  text: string,
  problems: ProblemList,
) {
  const [start, end] = error.pos;
  if (error.code !== 'DUPLICATE_KEY') {
    problems.atOffset(start, `not valid YAML: ${error.message.split('\n')[0]}`);
    return;
  }
  const key = text.slice(start, end);
  const parents = keyPathAt(doc, start);
  if (parents.length === 1 && parents[0] === 'schedules') {
    problems.atOffset(start, `two schedules are named "${key}"; each schedule needs its own name`, [
      'schedules',
      key,
    ]);
  } else {
    problems.atOffset(start, `"${key}" appears twice in the same map; keep one`, [...parents, key]);
  }
}

/** The keys leading to the map that holds the key starting at `offset`. */
function keyPathAt(doc: ReturnType<typeof parseDocument>, offset: number): YamlPath {
  let found: YamlPath = [];
  visit(doc, {
    Pair(_, pair, ancestors) {
      if (isScalar(pair.key) && pair.key.range?.[0] === offset) {
        found = ancestors.filter(isPair).map((p) => String(isScalar(p.key) ? p.key.value : p.key));
        return visit.BREAK;
      }
    },
  });
  return found;
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
  return {
    ...SCHEDULE_DEFAULTS,
    ...withoutUndefined(given),
    keep: { ...SCHEDULE_DEFAULTS.keep, ...withoutUndefined(given.keep ?? {}) },
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
  const job = jobs[entry.job];
  if (!job) {
    problems.add(
      [...at, 'job'],
      `unknown job type "${entry.job}"; known job types: ${Object.keys(jobs).join(', ')}`,
    );
  }
  const params = job && parseParams(job, entry.params ?? {}, [...at, 'params'], problems);
  if (!trigger || !job || !params) return [];
  return [
    {
      name,
      job: entry.job,
      ...(entry.description === undefined ? {} : { description: entry.description }),
      trigger,
      enabled: entry.enabled ?? defaults.enabled,
      params,
      overlap: entry.overlap ?? defaults.overlap,
      retries: entry.retries ?? defaults.retries,
      backoff: entry.backoff ?? defaults.backoff,
      timeout: entry.timeout ?? defaults.timeout,
      keep: { ...defaults.keep, ...withoutUndefined(entry.keep ?? {}) },
      ...notifyOf(entry.notify ?? defaults.notify),
    },
  ];
}

function parseTrigger(
  entry: RawSchedule,
  timezone: string,
  at: YamlPath,
  problems: ProblemList,
): Trigger | undefined {
  if (entry.every !== undefined && entry.cron !== undefined) {
    problems.add([...at, 'cron'], 'set either every or cron, not both');
    return undefined;
  }
  if (entry.every !== undefined) return { every: entry.every };
  if (entry.cron === undefined) {
    problems.add(
      at,
      'says neither when to run: add every (e.g. every: 5s) or cron (e.g. cron: "0 * * * *")',
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
  const { partitions, retention, compact } = parsed.data;
  return [{ name, partitions, compact, ...(retention === undefined ? {} : { retentionMs: retention }) }];
}

/** A schedule's own notify replaces the defaults' whole; none at all leaves the field out. */
function notifyOf(notify: Schedule['notify']): Pick<Schedule, 'notify'> {
  return notify ? { notify: { onFailure: notify.onFailure, after: notify.after } } : {};
}

const allowedFields = (names: string[]) => `allowed: ${names.join(', ')}`;

const timeZoneMessage = (name: string) =>
  `"${name}" is not a time zone; use an IANA name such as UTC, Europe/Paris or America/New_York`;

function withoutUndefined<T extends object>(value: T): { [K in keyof T]: Exclude<T[K], undefined> } {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as never;
}
