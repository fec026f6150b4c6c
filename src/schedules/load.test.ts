import { describe, expect, it } from 'vitest';
import { parseSchedules } from './load';
import { formatProblem, type ScheduleProblem, SchedulesFileError } from './problems';

const FILE = '/srv/tickflow/schedules.yaml';

function problemsOf(yaml: string): Omit<ScheduleProblem, 'file'>[] {
  try {
    parseSchedules(yaml, FILE);
  } catch (error) {
    if (!(error instanceof SchedulesFileError)) throw error;
    return error.problems.map(({ file: _file, ...rest }) => rest);
  }
  throw new Error('expected the file to be rejected');
}

const one = (yaml: string) => {
  const problems = problemsOf(yaml);
  expect(problems).toHaveLength(1);
  return problems[0];
};

describe('parseSchedules: a valid file', () => {
  it('applies defaults, validates params with the job schema and reads topics', () => {
    const file = parseSchedules(
      `defaults:
  timeout: 30s
  retries: 1
  keep: { failed: 50 }
topics:
  fraud-detection-transactions: { partitions: 3, retention: 7d }
  alerts: { compact: true }
schedules:
  heartbeat:
    job: sleep
    every: 250ms
    params: { ms: 10 }
  nightly:
    job: sleep
    description: once a night, Paris time
    cron: "0 30 2 * * *"
    timezone: Europe/Paris
    enabled: false
    overlap: allow
    retries: 3
    backoff: { type: exponential, delay: 2s }
    timeout: 1m
    keep: 20
`,
      FILE,
    );
    expect(file.schedules).toEqual([
      {
        name: 'heartbeat',
        job: 'sleep',
        trigger: { every: 250 },
        enabled: true,
        params: { ms: 10, failAttempts: 0 },
        overlap: 'skip',
        retries: 1,
        backoff: { type: 'exponential', delay: 1_000 },
        timeout: 30_000,
        keep: { completed: 100, failed: 50 },
      },
      {
        name: 'nightly',
        job: 'sleep',
        description: 'once a night, Paris time',
        trigger: { cron: '0 30 2 * * *', timezone: 'Europe/Paris' },
        enabled: false,
        params: { ms: 0, failAttempts: 0 },
        overlap: 'allow',
        retries: 3,
        backoff: { type: 'exponential', delay: 2_000 },
        timeout: 60_000,
        keep: { completed: 20, failed: 20 },
      },
    ]);
    expect(file.topics).toEqual([
      { name: 'fraud-detection-transactions', partitions: 3, compact: false, retentionMs: 604_800_000 },
      { name: 'alerts', partitions: 1, compact: true },
    ]);
  });

  it('accepts an empty file and an empty schedules block', () => {
    expect(parseSchedules('', FILE).schedules).toEqual([]);
    expect(parseSchedules('# nothing yet\nschedules:\n', FILE).schedules).toEqual([]);
  });
});

describe('parseSchedules: each problem names file, line, column, schedule, field and what is allowed', () => {
  it('two schedules with one name', () => {
    expect(
      one('schedules:\n  a:\n    job: sleep\n    every: 1s\n  a:\n    job: sleep\n    every: 2s\n'),
    ).toEqual({
      line: 5,
      column: 3,
      schedule: 'a',
      message: 'two schedules are named "a"; each schedule needs its own name',
    });
  });

  it('an unknown job type, listing the known ones', () => {
    expect(one('schedules:\n  a:\n    job: slep\n    every: 1s\n')).toEqual({
      line: 3,
      column: 10,
      schedule: 'a',
      field: 'job',
      message: expect.stringMatching(/^unknown job type "slep"; known job types: .*sleep/),
    });
  });

  it('an unknown param, listing what the job accepts', () => {
    expect(
      one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    params:\n      ms: 5\n      count: 3\n'),
    ).toEqual({
      line: 7,
      column: 7,
      schedule: 'a',
      field: 'params.count',
      message: 'unknown param "count"; job sleep accepts: ms, failAttempts',
    });
  });

  it('a param of the wrong type', () => {
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    params: { ms: lots }\n')).toMatchObject({
      line: 5,
      column: 19,
      field: 'params.ms',
      message: expect.stringContaining('expected number'),
    });
  });

  it('a cron that never fires', () => {
    expect(one('schedules:\n  a:\n    job: sleep\n    cron: "0 0 30 2 *"\n')).toMatchObject({
      line: 4,
      column: 11,
      field: 'cron',
      message: expect.stringMatching(/^cron "0 0 30 2 \*" is invalid or never fires .* expected 5 fields/),
    });
  });

  it.each([
    ['* * * *', 'has 4 field(s); expected 5 fields'],
    ['61 * * * *', 'is invalid or never fires'],
    ['* * * * * * *', 'has 7 field(s)'],
  ])('a malformed cron %j', (cron, message) => {
    expect(one(`schedules:\n  a:\n    job: sleep\n    cron: "${cron}"\n`)?.message).toContain(message);
  });

  it('a bad duration, saying how to write one', () => {
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 5 s\n')).toEqual({
      line: 4,
      column: 12,
      schedule: 'a',
      field: 'every',
      message: '"5 s" is not a duration; write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d',
    });
  });

  it('neither every nor cron, or both', () => {
    expect(one('schedules:\n  a:\n    job: sleep\n')).toMatchObject({
      line: 2,
      column: 3,
      message: expect.stringContaining('add every (e.g. every: 5s) or cron'),
    });
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    cron: "* * * * *"\n')).toMatchObject({
      line: 5,
      field: 'cron',
      message: 'set either every or cron, not both',
    });
  });

  it('a missing job and an unknown field, listing the allowed ones', () => {
    expect(problemsOf('schedules:\n  a:\n    every: 1s\n    colour: red\n')).toEqual([
      {
        line: 2,
        column: 3,
        schedule: 'a',
        field: 'job',
        message: 'is missing; expected a job type name, e.g. sleep',
      },
      {
        line: 4,
        column: 5,
        schedule: 'a',
        field: 'colour',
        message: expect.stringMatching(
          /^unknown field "colour"; allowed: job, description, every, cron, params/,
        ),
      },
    ]);
  });

  it('an unknown time zone, an enum value and a bad schedule name', () => {
    expect(
      problemsOf(
        'schedules:\n  a:\n    job: sleep\n    cron: "0 * * * *"\n    timezone: Mars/Olympus\n  "b c":\n    job: sleep\n    every: 1s\n    overlap: queue\n',
      ),
    ).toEqual([
      expect.objectContaining({
        line: 5,
        column: 15,
        field: 'timezone',
        message: expect.stringContaining('IANA'),
      }),
      expect.objectContaining({
        line: 6,
        column: 3,
        schedule: 'b c',
        message: expect.stringContaining('letters, digits'),
      }),
      expect.objectContaining({
        line: 9,
        column: 14,
        field: 'overlap',
        message: expect.stringContaining('skip'),
      }),
    ]);
  });

  it('a bad defaults.timezone is reported once, where it is written, not again per cron schedule', () => {
    const cron = (name: string) => `  ${name}:\n    job: sleep\n    cron: "0 * * * *"\n`;
    expect(problemsOf(`defaults:\n  timezone: Mars/Olympus\nschedules:\n${cron('a')}${cron('b')}`)).toEqual([
      expect.objectContaining({
        line: 2,
        field: 'defaults.timezone',
        message: expect.stringContaining('IANA'),
      }),
    ]);
  });

  it('problems in defaults: and topics:', () => {
    expect(
      problemsOf('defaults:\n  retries: -1\n  job: sleep\ntopics:\n  tx: { partitions: 0 }\nschedules: {}\n'),
    ).toEqual([
      { line: 2, column: 12, field: 'defaults.retries', message: 'expected 0 or more retries' },
      {
        line: 3,
        column: 3,
        field: 'defaults.job',
        message: 'unknown field "job"; allowed: timezone, enabled, overlap, retries, backoff, timeout, keep',
      },
      { line: 5, column: 21, field: 'topics.tx.partitions', message: 'expected at least 1 partition' },
    ]);
  });

  it('YAML that does not parse', () => {
    expect(one('schedules:\n  a: [1, 2\n')).toMatchObject({
      message: expect.stringMatching(/^not valid YAML: /),
    });
  });

  it('reports every problem of the file at once, in file order, one line each', () => {
    try {
      parseSchedules(
        'schedules:\n  a:\n    job: nope\n    every: 1s\n  b:\n    job: sleep\n    every: soon\n',
        FILE,
      );
    } catch (error) {
      const lines = (error as SchedulesFileError).problems.map(formatProblem);
      expect(lines).toEqual([
        expect.stringMatching(
          /^\/srv\/tickflow\/schedules\.yaml:3:10: schedule "a", field "job": unknown job type "nope"; known job types: /,
        ),
        expect.stringMatching(/^\/srv\/tickflow\/schedules\.yaml:7:12: schedule "b", field "every": "soon"/),
      ]);
    }
    expect.assertions(1);
  });
});
