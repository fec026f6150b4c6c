import { afterEach, describe, expect, it } from 'vitest';
import { listSchedules } from '../../src/control/schedules';
import { MAX_FILE_BYTES } from '../../src/schedules/yaml-read';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const TICK = 'schedules:\n  tick:\n    job: sleep\n    every: 1h\n';

const laughs = Array.from('bcdefghi', (name, i) => {
  const previous = 'abcdefghi'[i] as string;
  return `${name}: &${name} [${Array(9).fill(`*${previous}`).join(', ')}]\n`;
});

/** Edits that must each be refused with one problem at its place, the previous schedules kept. */
const BROKEN: { what: string; yaml: string; line: number; column: number; message: string }[] = [
  {
    what: 'an empty file',
    yaml: '',
    line: 1,
    column: 1,
    message: 'the file is empty; to remove every schedule write `schedules: {}`',
  },
  {
    what: 'a billion laughs',
    yaml: `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n${laughs.join('')}${TICK}`,
    // b expands 9 times, each *b 1 + 9 times (99 in all): the first *c goes past 100.
    line: 4,
    column: 8,
    message: 'too many alias expansions (YAML anchors & and aliases *): at most 100; write the values out',
  },
  {
    what: 'nesting too deep',
    // The top map is level 1, schedules 2, tick 3, params 4: the 29th [ is level 33.
    yaml: `${TICK}    params: { ms: ${'['.repeat(40)}${']'.repeat(40)} }\n`,
    line: 5,
    column: 19 + 28,
    message:
      'nested more than 32 levels deep (maps and lists inside each other); a schedules file needs a few levels',
  },
  {
    what: 'a file over the size limit',
    yaml: `${TICK}# ${'x'.repeat(MAX_FILE_BYTES)}\n`,
    line: 1,
    column: 1,
    message: `the file is ${TICK.length + MAX_FILE_BYTES + 3} bytes, over the limit of 1048576 bytes (1 MiB); a schedules file needs far less: check what wrote it`,
  },
];

describe('schedules file limits (real Redis and PostgreSQL)', () => {
  it('an empty, alias-bomb, too deep or too large edit keeps the schedules and says where; `schedules: {}` removes them', async () => {
    s = new SchedulerTest('limits');
    s.writeSchedules(TICK);
    const running = await s.start({ workers: false });
    expect(await s.schedules(running)).toEqual([expect.objectContaining({ name: 'tick', scheduled: true })]);

    for (const { what, yaml, line, column, message } of BROKEN) {
      s.writeSchedules(yaml);
      // The running scheduler: what the log, the API, the grid's banner and `tickflow list` show.
      const view = await waitFor(async () => {
        const current = await listSchedules(running.control);
        return current.fileError?.problems[0]?.message === message && current;
      }, `the scheduler's error for ${what}`);
      expect(view.fileError?.problems, what).toEqual([{ file: s.file, line, column, message }]);
      expect((await s.schedules(running))[0], what).toMatchObject({
        name: 'tick',
        scheduled: true,
        paused: false,
      });

      const validate = await runCli(['validate'], s.env);
      expect(validate.code, what).toBe(1);
      expect(validate.stderr, what).toBe(`${s.file}:${line}:${column}: ${message}\n`);
    }

    // `tickflow list` reads the file itself: an alias bomb is a file error there too, not a crash.
    s.writeSchedules(BROKEN[1]?.yaml as string);
    const list = await runCli(['list'], s.env);
    expect(list.code).toBe(0);
    expect(list.stdout).toMatch(/tick\s+sleep\s+every 1h/);
    expect(list.stdout).toContain(`${s.file}:4:8: too many alias expansions`);

    s.writeSchedules('schedules: {}\n');
    await waitFor(async () => {
      const current = await listSchedules(running.control);
      return current.fileError === null && running.scheduler.queues().length === 0;
    }, 'every schedule removed');
    expect(running.source.current.schedules).toEqual([]);
    expect((await s.schedules(running)).filter((x) => x.scheduled)).toEqual([]);
    expect(await s.redis.exists(`${s.config.queuePrefix}:tick:repeat:tick`)).toBe(0);
  });
});
