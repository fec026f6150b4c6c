import fs from 'node:fs/promises';
import {
  Composer,
  CST,
  Document,
  isAlias,
  isNode,
  isPair,
  isScalar,
  Lexer,
  LineCounter,
  type Node,
  Parser,
  visit,
  type YAMLError,
} from 'yaml';
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
import { ProblemList, SchedulesFileError, type YamlPath } from './problems';
import {
  DEFAULT_RERUN_WITHIN,
  SCHEDULE_DEFAULTS,
  type Schedule,
  type ScheduleSettings,
  type SchedulesFile,
  type Trigger,
  type WatermarkWait,
} from './schedule';

/** Reads and validates a schedules file; any problem throws a SchedulesFileError listing them all. */
export async function loadSchedulesFile(file: string, jobs: JobRegistry): Promise<SchedulesFile> {
  return parseSchedules(await readSchedulesText(file), file, jobs);
}

/** The largest schedules file read; a bigger one is refused before it is read or parsed. */
export const MAX_FILE_BYTES = 1024 * 1024;
/** Maps and lists inside each other, the top-level map being level 1 (a schedule's params are at 4). */
export const MAX_NESTING = 32;
/** Alias expansions (`*name` copying what `&name` marks) in the whole file, nested ones included. */
export const MAX_ALIAS_EXPANSIONS = 100;

const EMPTY_FILE = 'the file is empty; to remove every schedule write `schedules: {}`';

/** The file's text; an unreadable or too large file is a SchedulesFileError like any other problem with it. */
export async function readSchedulesText(file: string): Promise<string> {
  let handle: fs.FileHandle | undefined;
  try {
    handle = await fs.open(file, 'r');
    const { size } = await handle.stat();
    if (size > MAX_FILE_BYTES) throw tooLarge(file, size);
    return await handle.readFile('utf8');
  } catch (error) {
    if (error instanceof SchedulesFileError) throw error;
    throw new SchedulesFileError(file, [
      { file, line: 1, column: 1, message: `cannot read the file (${(error as Error).message})` },
    ]);
  } finally {
    await handle?.close();
  }
}

function tooLarge(file: string, bytes: number): SchedulesFileError {
  return new SchedulesFileError(file, [
    {
      file,
      line: 1,
      column: 1,
      message: `the file is ${bytes} bytes, over the limit of ${MAX_FILE_BYTES} bytes (${MAX_FILE_BYTES / 2 ** 20} MiB); a schedules file needs far less: check what wrote it`,
    },
  ]);
}

export function parseSchedules(text: string, file: string, jobs: JobRegistry): SchedulesFile {
  const bytes = Buffer.byteLength(text, 'utf8');
  if (bytes > MAX_FILE_BYTES) throw tooLarge(file, bytes);
  const { doc, problems } = parseYaml(text, file);
  for (const error of doc.errors) reportYamlError(error, doc, text, problems);
  problems.throwIfAny();
  checkAliases(doc, problems);
  problems.throwIfAny();

  const raw = toJS(doc, problems);
  problems.throwIfAny();
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
  problems.throwIfAny();
  checkDependencies(schedules, jobs, problems);
  problems.throwIfAny();
  return { file, schedules, topics };
}

/**
 * The file's one YAML document, composed only once its nesting is known to be within MAX_NESTING:
 * composing recurses, and a deep enough file exhausts the stack (and can even abort the process,
 * in V8's regexp compiler), so the depth is measured on the syntax tree, which the parser builds
 * without recursion.
 */
function parseYaml(text: string, file: string): { doc: Document.Parsed; problems: ProblemList } {
  const lineCounter = new LineCounter();
  const { tokens, stoppedAt } = syntaxTree(text, lineCounter);
  const deep = tooDeepAt(tokens) ?? stoppedAt;
  if (deep !== undefined) {
    const problems = new ProblemList(file, new Document(), lineCounter);
    problems.atOffset(
      deep,
      `nested more than ${MAX_NESTING} levels deep (maps and lists inside each other); a schedules file needs a few levels`,
    );
    problems.throwIfAny();
  }
  const [doc, second] = new Composer({ uniqueKeys: true }).compose(tokens, true, text.length);
  if (!doc) throw new Error('the YAML composer made no document');
  const problems = new ProblemList(file, doc, lineCounter);
  if (second) {
    problems.atOffset(
      second.range[0],
      'a second YAML document starts here; a schedules file is one document: remove the --- line and what follows, or merge them',
    );
  }
  return { doc, problems };
}

/**
 * The syntax tree, read no further than the first map or list past MAX_NESTING (the parser's
 * stack holds the open ones): a deep file then costs no more to refuse than its first levels.
 */
function syntaxTree(text: string, lineCounter: LineCounter): { tokens: CST.Token[]; stoppedAt?: number } {
  const parser = new Parser(lineCounter.addNewLine);
  lineCounter.addNewLine(0);
  const tokens: CST.Token[] = [];
  let stoppedAt: number | undefined;
  for (const lexeme of new Lexer().lex(text)) {
    tokens.push(...parser.next(lexeme));
    if (parser.stack.length <= MAX_NESTING) continue;
    stoppedAt = parser.stack.filter(CST.isCollection)[MAX_NESTING]?.offset;
    if (stoppedAt !== undefined) break;
  }
  tokens.push(...parser.end());
  return { tokens, ...(stoppedAt === undefined ? {} : { stoppedAt }) };
}

/** A map or list still to measure, or a `key: value` written in a flow list (`[a: 1]`), a map of its own. */
type Nested = { level: number } & (
  | { token: CST.Token | null | undefined }
  | { pairAt: number; key: CST.Token | null | undefined; value: CST.Token | undefined }
);

/** Where the first map or list deeper than MAX_NESTING starts, in file order; undefined if none is. */
function tooDeepAt(tokens: CST.Token[]): number | undefined {
  // Depth first with a stack of its own, children pushed last first so that they come in file order.
  const pending: Nested[] = tokens.map((token) => ({ token, level: 0 })).reverse();
  for (let next = pending.pop(); next; next = pending.pop()) {
    if ('pairAt' in next) {
      if (next.level + 1 > MAX_NESTING) return next.pairAt;
      pending.push({ token: next.value, level: next.level + 1 }, { token: next.key, level: next.level + 1 });
      continue;
    }
    const { token, level } = next;
    if (token?.type === 'document') pending.push({ token: token.value, level: 0 });
    if (token?.type !== 'block-map' && token?.type !== 'block-seq' && token?.type !== 'flow-collection') {
      continue;
    }
    const depth = level + 1;
    if (depth > MAX_NESTING) return token.offset;
    const inList = token.type === 'flow-collection' && token.start.source === '[';
    for (const { key, sep, value } of [...token.items].reverse()) {
      const pairAt = key?.offset ?? value?.offset;
      if (inList && sep && pairAt !== undefined) pending.push({ pairAt, key, value, level: depth });
      else pending.push({ token: value, level: depth }, { token: key, level: depth });
    }
  }
  return undefined;
}

/**
 * Counts alias expansions as the file written out in full would have them, nested ones included
 * (the "billion laughs": each level multiplies the one before), and stops at the first alias past
 * MAX_ALIAS_EXPANSIONS or with no anchor before it.
 */
function checkAliases(doc: Document.Parsed, problems: ProblemList): void {
  const anchors = new Map<string, Node>();
  const within = new Map<Node, number>();
  let total = 0;
  visit(doc, {
    Node(_, node, path) {
      if (!isAlias(node)) {
        if (node.anchor) anchors.set(node.anchor, node);
        return;
      }
      const at = node.range?.[0] ?? 0;
      const target = anchors.get(node.source);
      if (!target) {
        problems.atOffset(
          at,
          `alias *${node.source} has no anchor &${node.source} before it; mark the value with &${node.source} first, or write it out`,
        );
        return visit.BREAK;
      }
      // An alias inside its own anchor (a loop) has no count yet: it counts once.
      const expansions = 1 + (within.get(target) ?? 0);
      total += expansions;
      if (total > MAX_ALIAS_EXPANSIONS) {
        problems.atOffset(at, tooManyAliases);
        return visit.BREAK;
      }
      for (const outer of path) {
        if (isNode(outer) && outer.anchor) within.set(outer, (within.get(outer) ?? 0) + expansions);
      }
    },
  });
}

const tooManyAliases = `too many alias expansions (YAML anchors & and aliases *): at most ${MAX_ALIAS_EXPANSIONS}; write the values out`;

/** The document as plain data; the library's own alias limit stays as a second guard. */
function toJS(doc: Document.Parsed, problems: ProblemList): unknown {
  try {
    return doc.toJS({ maxAliasCount: MAX_ALIAS_EXPANSIONS });
  } catch (error) {
    const excessive = /alias count/i.test((error as Error).message);
    let at = 0;
    if (excessive) {
      visit(doc, {
        Alias(_, node) {
          at = node.range?.[0] ?? 0;
          return visit.BREAK;
        },
      });
    }
    problems.atOffset(at, excessive ? tooManyAliases : `cannot read the YAML: ${(error as Error).message}`);
    return undefined;
  }
}

function reportYamlError(error: YAMLError, doc: Document.Parsed, text: string, problems: ProblemList) {
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
function keyPathAt(doc: Document.Parsed, offset: number): YamlPath {
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
  const watermark = parseWatermark(entry, at, problems);
  const job = jobs.get(entry.job);
  if (!job) {
    problems.add(
      [...at, 'job'],
      `unknown job type "${entry.job}"; known job types: ${jobs.names().join(', ')}`,
    );
  }
  const params = job && parseParams(job, entry.params ?? {}, [...at, 'params'], problems);
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
    },
  ];
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
