import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultJobs as jobs } from '../app/jobs';
import type { SchedulesFileError } from './problems';
import type { SchedulesFile } from './schedule';
import { type LoadFailure, ScheduleSource } from './source';
import { MAX_FILE_BYTES } from './yaml-read';

/** Set to make parsing fail the way no schedules file should: a bug, not a problem of the file. */
const unexpected = vi.hoisted(() => ({ error: undefined as Error | undefined }));
vi.mock('./load', async (importOriginal) => {
  const actual = await importOriginal<typeof import('./load')>();
  return {
    ...actual,
    parseSchedules: (...args: Parameters<typeof actual.parseSchedules>) => {
      if (unexpected.error) throw unexpected.error;
      return actual.parseSchedules(...args);
    },
  };
});

const dirs: string[] = [];
const sources: ScheduleSource[] = [];
afterEach(() => {
  unexpected.error = undefined;
  for (const source of sources.splice(0)) source.close();
  for (const dir of dirs.splice(0)) fs.rmSync(dir, { recursive: true, force: true });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const TICK = 'schedules:\n  tick:\n    job: sleep\n    every: 1h\n';

/** A watched source over a file of its own, and the log lines it writes. */
async function watched(yaml: string) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-source-'));
  dirs.push(dir);
  const file = path.join(dir, 'schedules.yaml');
  const write = (text: string) => {
    fs.writeFileSync(`${file}.tmp`, text);
    fs.renameSync(`${file}.tmp`, file);
  };
  write(yaml);
  const logs: { level: number; msg: string; problems?: unknown }[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const source = new ScheduleSource(file, jobs, log, 20);
  sources.push(source);
  await source.load();
  source.watch();
  /** Writes `text` and waits for the source's verdict on it. */
  const edit = (text: string) =>
    new Promise<{ invalid?: LoadFailure; changed?: number }>((resolve) => {
      const done = (verdict: { invalid?: LoadFailure; changed?: number }) => {
        source.off('invalid', onInvalid).off('change', onChange);
        resolve(verdict);
      };
      const onInvalid = (invalid: LoadFailure) => done({ invalid });
      const onChange = (changed: SchedulesFile) => done({ changed: changed.schedules.length });
      source.on('invalid', onInvalid).on('change', onChange);
      write(text);
    });
  // fs.watchFile takes its first stat in the background, and an edit before it goes unseen:
  // edit until the source sees one.
  for (let n = 0; ; n++) {
    const seen = edit(`${yaml}# ${n}\n`).then(() => true);
    if (await Promise.race([seen, sleep(200).then(() => false)])) break;
  }
  logs.splice(0);
  return { file, source, logs, edit };
}

const problemsOf = (error: SchedulesFileError | undefined) =>
  error?.problems.map(({ line, column, message }) => ({ line, column, message }));

describe('ScheduleSource: a broken edit keeps the previous schedules and says where', () => {
  it.each([
    ['an empty file', '', 1, 1, 'the file is empty; to remove every schedule write `schedules: {}`'],
    [
      'alias expansion',
      `a: &a [x, x, x, x, x, x, x, x, x, x, x]\nb: &b [${Array(11).fill('*a').join(', ')}]\nc: [${Array(11).fill('*b').join(', ')}]\n${TICK}`,
      3,
      33,
      'too many alias expansions (YAML anchors & and aliases *): at most 100; write the values out',
    ],
    [
      'deep nesting',
      `${TICK}    params: { ms: ${'['.repeat(40)}${']'.repeat(40)} }\n`,
      5,
      47,
      'nested more than 32 levels deep (maps and lists inside each other); a schedules file needs a few levels',
    ],
    [
      'a file over the size limit',
      `${TICK}# ${'x'.repeat(MAX_FILE_BYTES)}\n`,
      1,
      1,
      `the file is ${TICK.length + MAX_FILE_BYTES + 3} bytes, over the limit of ${MAX_FILE_BYTES} bytes (1 MiB); a schedules file needs far less: check what wrote it`,
    ],
  ])('%s', async (_, yaml, line, column, message) => {
    const { source, logs, edit } = await watched(TICK);
    const { invalid } = await edit(yaml);
    expect(problemsOf(invalid?.error)).toEqual([{ line, column, message }]);
    expect(source.lastError).toBe(invalid);
    expect(source.current.schedules.map((s) => s.name)).toEqual(['tick']);
    expect(logs.filter((l) => l.level >= 50)).toEqual([
      expect.objectContaining({
        msg: expect.stringContaining(`schedules.yaml:${line}:${column}: ${message}`),
        problems: [expect.objectContaining({ line, column, message })],
      }),
    ]);
    expect(logs.at(-1)?.msg).toMatch(/^schedules file has errors; the previous schedules keep running/);

    // Zero schedules only when the file says so; the error is then cleared.
    expect(await edit('schedules: {}\n')).toEqual({ changed: 0 });
    expect(source.lastError).toBeUndefined();
  });
});

describe('ScheduleSource: an unexpected failure to parse', () => {
  it('is a problem of the file at 1:1 too, logged with its cause; the previous schedules keep running', async () => {
    const { source, logs, edit } = await watched(TICK);
    unexpected.error = new TypeError('something broke');
    const { invalid } = await edit(`${TICK}    description: new\n`);
    expect(problemsOf(invalid?.error)).toEqual([
      { line: 1, column: 1, message: 'cannot load the file (something broke)' },
    ]);
    expect(source.lastError).toBe(invalid);
    expect(source.current.schedules[0]).not.toHaveProperty('description');
    expect(logs.map((l) => l.msg)).toEqual([
      'parsing the schedules file failed unexpectedly',
      expect.stringMatching(
        /^schedules file has errors; the previous schedules keep running\n[\s\S]*:1:1: cannot load the file \(something broke\)$/,
      ),
    ]);
  });
});
