import { describe, expect, it } from 'vitest';
import { defaultJobs as jobs } from '../app/jobs';
import { schedulerSpecOf } from '../queues/scheduler-spec';
import { parseSchedules as parseWithJobs } from './load';
import { formatProblem, type ScheduleProblem, SchedulesFileError } from './problems';
import { type ClockSchedule, notifyUrlOf } from './schedule';
import { MAX_ALIAS_EXPANSIONS, MAX_FILE_BYTES, MAX_NESTING } from './yaml-read';

const FILE = '/srv/tickflow/schedules.yaml';

/** tickflow's own job types: the ones a schedule here names. */
const parseSchedules = (text: string, file: string) => parseWithJobs(text, file, jobs);

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
  alerts: { compact: true, replicas: 2 }
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
    catchup: all
    catchupWindow: 30m
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
        catchup: 'none',
        catchupWindow: 3_600_000,
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
        catchup: 'all',
        catchupWindow: 1_800_000,
      },
    ]);
    expect(file.topics).toEqual([
      { name: 'fraud-detection-transactions', partitions: 3, compact: false, retentionMs: 604_800_000 },
      { name: 'alerts', partitions: 1, compact: true, replicas: 2 },
    ]);
  });

  it('accepts zero schedules only when asked for: `schedules: {}`', () => {
    expect(parseSchedules('# nothing yet\nschedules: {}\n', FILE).schedules).toEqual([]);
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
      message: 'unknown param "count"; job sleep accepts: ms, failAttempts, permanent',
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
      message: expect.stringContaining('add every (e.g. every: 5s), cron'),
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
          /^unknown field "colour"; allowed: job, description, every, cron, after, watermark, params/,
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
        message:
          'unknown field "job"; allowed: timezone, enabled, overlap, retries, backoff, timeout, keep, notify, catchup, catchupWindow, pauseAfter, deadline, overridable',
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

describe('parseSchedules: catchup', () => {
  it('takes catchup and catchupWindow from defaults: where a schedule sets none', () => {
    const [schedule] = parseSchedules(
      'defaults:\n  catchup: last\n  catchupWindow: 2h\nschedules:\n  a:\n    job: sleep\n    every: 1s\n',
      FILE,
    ).schedules;
    expect(schedule).toMatchObject({ catchup: 'last', catchupWindow: 7_200_000 });
  });

  it('names the field and the values it allows', () => {
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    catchup: yes-please\n')).toMatchObject({
      line: 5,
      schedule: 'a',
      field: 'catchup',
      message: expect.stringMatching(/^expected none \| last \| all/),
    });
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    catchupWindow: soon\n')).toMatchObject({
      field: 'catchupWindow',
      message: expect.stringContaining('"soon" is not a duration'),
    });
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 0s\n')).toMatchObject({
      field: 'every',
      message: '"0s" is no time at all; write a duration above 0, e.g. 5s',
    });
  });

  it('refuses a catchupWindow on a schedule whose catchup is not all, which would ignore it', () => {
    expect(
      one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    catchup: last\n    catchupWindow: 2h\n'),
    ).toMatchObject({
      line: 6,
      schedule: 'a',
      field: 'catchupWindow',
      message:
        "applies only with catchup: all (this schedule's catchup is last); set catchup: all, or remove catchupWindow",
    });
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    catchupWindow: 2h\n')).toMatchObject({
      field: 'catchupWindow',
      message: expect.stringContaining("this schedule's catchup is none"),
    });
    // From defaults: it reaches the schedules whose catchup is all, and the others do not read it.
    const { schedules } = parseSchedules(
      'defaults:\n  catchup: all\nschedules:\n  a:\n    job: sleep\n    every: 1s\n    catchupWindow: 2h\n  b:\n    job: sleep\n    every: 1s\n',
      FILE,
    );
    expect(schedules.map((x) => [x.name, x.catchup, x.catchupWindow])).toEqual([
      ['a', 'all', 7_200_000],
      ['b', 'all', 3_600_000],
    ]);
    const fromDefaults = parseSchedules(
      'defaults:\n  catchupWindow: 2h\nschedules:\n  a:\n    job: sleep\n    every: 1s\n',
      FILE,
    ).schedules[0];
    expect(fromDefaults).toMatchObject({ catchup: 'none', catchupWindow: 7_200_000 });
  });

  it('does not change the BullMQ scheduler spec', () => {
    const parse = (catchup: string) =>
      parseSchedules(`schedules:\n  a:\n    job: sleep\n    every: 1s\n    catchup: ${catchup}\n`, FILE)
        .schedules[0];
    const [all, none] = [parse('all'), parse('none')];
    if (!all || !none) throw new Error('expected a schedule');
    expect(schedulerSpecOf(all as ClockSchedule)).toEqual(schedulerSpecOf(none as ClockSchedule));
  });
});

describe('parseSchedules: overridable', () => {
  const CONSUMER = '    job: consumer-batch\n    every: 10s\n';

  it("reads a schedule's own list, and takes the defaults' names that are params of its job", () => {
    const file = parseSchedules(
      `defaults:
  overridable: [count, batchSize]
schedules:
  producer:
    job: producer-batch
    every: 5s
  consumer:
    job: consumer-batch
    every: 10s
    overridable: [batchSize, topic, batchSize]
  nap:
    job: sleep
    every: 1s
`,
      FILE,
    );
    expect(file.schedules.map((s) => [s.name, s.overridable])).toEqual([
      ['producer', ['count']],
      ['consumer', ['batchSize', 'topic']],
      ['nap', []],
    ]);
  });

  it('leaves it out when neither the schedule nor defaults: list any (the job type’s own apply)', () => {
    const [schedule] = parseSchedules(`schedules:\n  consumer:\n${CONSUMER}`, FILE).schedules;
    expect(schedule).not.toHaveProperty('overridable');
  });

  it('names a name that is not a param of the job, and a nested name, with the fix', () => {
    expect(
      problemsOf(`schedules:\n  consumer:\n${CONSUMER}    overridable: [batchSize, predictor.url, nope]\n`),
    ).toEqual([
      {
        line: 5,
        column: 30,
        schedule: 'consumer',
        field: 'overridable.1',
        message:
          '"predictor.url": overridable names top-level params; write predictor (a caller may then set the whole of it)',
      },
      {
        line: 5,
        column: 45,
        schedule: 'consumer',
        field: 'overridable.2',
        message: expect.stringMatching(
          /^"nope" is not a param of job consumer-batch; its params: topic, group, batchSize/,
        ),
      },
    ]);
    expect(one('schedules:\n  a:\n    job: sleep\n    every: 1s\n    overridable: ms\n')).toMatchObject({
      field: 'overridable',
      message: 'expected a list of param names a trigger may override, e.g. [count, seed] ([] for none)',
    });
  });

  it("reports a defaults: name that is no schedule's param, where it is written", () => {
    expect(
      one('defaults:\n  overridable: [count]\nschedules:\n  a:\n    job: sleep\n    every: 1s\n'),
    ).toEqual({
      line: 2,
      column: 17,
      field: 'defaults.overridable.0',
      message:
        '"count" is not a param of any job of the file\'s schedules (sleep); its params: ms, failAttempts, permanent',
    });
  });
});

describe('parseSchedules: notify', () => {
  const schedule = (notify: string) => `  a:\n    job: sleep\n    every: 1s\n    notify: ${notify}\n`;

  it('reads notify, defaulting after to 1, and takes defaults.notify where a schedule sets none', () => {
    const file = parseSchedules(
      `defaults:
  notify: { onFailure: "https://hooks.example.com/t/abc?k=1" }
schedules:
  a:
    job: sleep
    every: 1s
    notify: { onFailure: "http://127.0.0.1:9000/hook", after: 3 }
  b:
    job: sleep
    every: 1s
`,
      FILE,
    );
    expect(file.schedules.map((s) => [s.name, s.notify])).toEqual([
      ['a', { onFailure: 'http://127.0.0.1:9000/hook', after: 3 }],
      ['b', { onFailure: 'https://hooks.example.com/t/abc?k=1', after: 1 }],
    ]);
  });

  it('leaves notify out when neither the schedule nor defaults set it', () => {
    const [a] = parseSchedules(`schedules:\n${schedule('{ onFailure: "http://x.test/" }')}`, FILE).schedules;
    expect(a?.notify).toEqual({ onFailure: 'http://x.test/', after: 1 });
    const [b] = parseSchedules('schedules:\n  b:\n    job: sleep\n    every: 1s\n', FILE).schedules;
    expect(b).not.toHaveProperty('notify');
  });

  it('does not change the BullMQ scheduler spec', () => {
    const [plain] = parseSchedules('schedules:\n  a:\n    job: sleep\n    every: 1s\n', FILE).schedules;
    const [notified] = parseSchedules(
      `schedules:\n${schedule('{ onFailure: "http://127.0.0.1:9000/hook", after: 3 }')}`,
      FILE,
    ).schedules;
    expect(notified?.notify).toBeDefined();
    expect(schedulerSpecOf(notified as never)).toEqual(schedulerSpecOf(plain as never));
  });

  it.each([['ftp://example.com/hook'], ['not a url'], ['mailto:ops@example.com'], ['/hook']])(
    'rejects onFailure %j, saying what is allowed',
    (url) => {
      expect(one(`schedules:\n${schedule(`{ onFailure: "${url}" }`)}`)).toEqual({
        line: 5,
        column: 26,
        schedule: 'a',
        field: 'notify.onFailure',
        message: 'expected an http: or https: URL for onFailure, e.g. https://hooks.example.com/tickflow',
      });
    },
  );

  it('rejects a missing onFailure and a non-map notify', () => {
    expect(one(`schedules:\n${schedule('{ after: 2 }')}`)).toMatchObject({
      line: 5,
      column: 5,
      field: 'notify.onFailure',
      message: expect.stringMatching(/^is missing; expected an http: or https: URL for onFailure/),
    });
    expect(one(`schedules:\n${schedule('"http://x.test/"')}`)).toMatchObject({
      line: 5,
      column: 13,
      field: 'notify',
      message: expect.stringContaining('expected { onFailure:'),
    });
  });

  it.each([
    ['0', 'expected after to be 1 or more failed runs in a row (1: on the first failure)'],
    ['-2', 'expected after to be 1 or more failed runs in a row (1: on the first failure)'],
    ['1.5', 'expected a whole number of failed runs in a row for after'],
    ['three', 'expected a whole number of failed runs in a row for after, e.g. 3'],
  ])('rejects after: %s', (after, message) => {
    expect(one(`schedules:\n${schedule(`{ onFailure: "http://x.test/", after: ${after} }`)}`)).toEqual({
      line: 5,
      column: 51,
      schedule: 'a',
      field: 'notify.after',
      message,
    });
  });

  it('rejects an unknown key inside notify, listing the fields notify allows', () => {
    expect(one(`schedules:\n${schedule('{ onFailure: "http://x.test/", retries: 2 }')}`)).toEqual({
      line: 5,
      column: 44,
      schedule: 'a',
      field: 'notify.retries',
      message: 'unknown field "retries"; allowed: onFailure, onRecovery, onDeadline, onPause, after',
    });
  });

  it('reports a bad notify in defaults: where it is written', () => {
    expect(
      one('defaults:\n  notify:\n    onFailure: "https://x.test/"\n    after: 0\nschedules: {}\n'),
    ).toEqual({
      line: 4,
      column: 12,
      field: 'defaults.notify.after',
      message: 'expected after to be 1 or more failed runs in a row (1: on the first failure)',
    });
  });
});

describe('parseSchedules: failure policy (pauseAfter, deadline, notify per event)', () => {
  const schedule = (fields: string) => `  a:\n    job: sleep\n    every: 1s\n${fields}`;

  it('reads pauseAfter and deadline, from the schedule or defaults:, null turning a default off', () => {
    const file = parseSchedules(
      `defaults:
  pauseAfter: 5
  deadline: 30s
schedules:
  own:
    job: sleep
    every: 1s
    pauseAfter: 3
    deadline: 2s
  inherits:
    job: sleep
    every: 1s
  opts-out:
    job: sleep
    every: 1s
    pauseAfter: null
    deadline: null
`,
      FILE,
    );
    expect(file.schedules.map((s) => [s.name, s.pauseAfter, s.deadline])).toEqual([
      ['own', 3, 2_000],
      ['inherits', 5, 30_000],
      ['opts-out', undefined, undefined],
    ]);
    expect(file.schedules[2]).not.toHaveProperty('pauseAfter');
    const [plain] = parseSchedules(`schedules:\n${schedule('')}`, FILE).schedules;
    expect(plain).not.toHaveProperty('pauseAfter');
    expect(plain).not.toHaveProperty('deadline');
  });

  it('reads a URL per event; the alerts fall back to onFailure, a recovery only where asked', () => {
    const [a] = parseSchedules(
      `schedules:\n${schedule('    notify: { onRecovery: "https://x.test/ok", onDeadline: "https://x.test/late", after: 2 }\n')}`,
      FILE,
    ).schedules;
    expect(a?.notify).toEqual({
      onRecovery: 'https://x.test/ok',
      onDeadline: 'https://x.test/late',
      after: 2,
    });
    const [b] = parseSchedules(
      `schedules:\n${schedule('    notify: { onFailure: "https://x.test/f" }\n')}`,
      FILE,
    ).schedules;
    expect(
      ['run_failed', 'run_recovered', 'run_deadline_missed', 'schedule_paused'].map((e) =>
        notifyUrlOf(b?.notify, e as never),
      ),
    ).toEqual(['https://x.test/f', undefined, 'https://x.test/f', 'https://x.test/f']);
  });

  it.each([
    [
      '0',
      'expected pauseAfter to be 1 or more failed runs in a row (3: the third failed run in a row pauses)',
    ],
    [
      '-1',
      'expected pauseAfter to be 1 or more failed runs in a row (3: the third failed run in a row pauses)',
    ],
    ['2.5', 'expected a whole number of failed runs in a row for pauseAfter'],
    ['often', 'expected a whole number of failed runs in a row for pauseAfter, e.g. 3 (or null: never)'],
  ])('rejects pauseAfter: %s, saying what it takes', (value, message) => {
    expect(one(`schedules:\n${schedule(`    pauseAfter: ${value}\n`)}`)).toEqual({
      line: 5,
      column: 17,
      schedule: 'a',
      field: 'pauseAfter',
      message,
    });
  });

  it.each([
    ['soon', '"soon" is not a duration; write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d'],
    ['0s', '"0s" is no time at all; write a duration above 0, e.g. 5s'],
    [
      '-3s',
      '"-3s" is negative; durations count forward from 0: write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d',
    ],
  ])('rejects deadline: %s', (value, message) => {
    expect(one(`schedules:\n${schedule(`    deadline: ${value}\n`)}`)).toMatchObject({
      line: 5,
      field: 'deadline',
      message,
    });
  });

  it('rejects a notify that sends nothing, and a bad URL naming its event', () => {
    expect(one(`schedules:\n${schedule('    notify: { after: 2 }\n')}`)).toMatchObject({
      field: 'notify.onFailure',
      message:
        'is missing; expected an http: or https: URL for onFailure, e.g. https://hooks.example.com/tickflow (or a URL for onRecovery, onDeadline or onPause)',
    });
    expect(
      one(`schedules:\n${schedule('    notify: { onFailure: "https://x.test/", onRecovery: "ftp://x" }\n')}`),
    ).toMatchObject({
      field: 'notify.onRecovery',
      message: 'expected an http: or https: URL for onRecovery, e.g. https://hooks.example.com/tickflow',
    });
    expect(one(`defaults:\n  pauseAfter: 0\nschedules: {}\n`)).toMatchObject({
      field: 'defaults.pauseAfter',
    });
  });
});

describe('parseSchedules: file limits, one problem each, with its place', () => {
  const EMPTY = {
    line: 1,
    column: 1,
    message: 'the file is empty; to remove every schedule write `schedules: {}`',
  };

  it.each([
    ['empty', ''],
    ['whitespace only', '  \n\n\t\n'],
    ['comments only', '# all schedules\n# come later\n'],
    ['a document marker only', '---\n'],
  ])('an %s file is an error, not "0 schedules"', (_, yaml) => {
    expect(one(yaml)).toEqual(EMPTY);
  });

  it('an empty `schedules:` and a file without one are errors too', () => {
    expect(one('# tickflow\nschedules:\n')).toEqual({
      line: 2,
      column: 1,
      field: 'schedules',
      message: 'is empty; list schedules under it, or write `schedules: {}` to remove every schedule',
    });
    expect(one('schedules: ~\n')).toMatchObject({ line: 1, column: 1, field: 'schedules' });
    expect(one('topics:\n  tx: { partitions: 1 }\n')).toEqual({
      line: 1,
      column: 1,
      field: 'schedules',
      message: 'is missing; to remove every schedule write `schedules: {}`',
    });
  });

  it(`a file over ${MAX_FILE_BYTES} bytes, refused before parsing, with its size and the limit`, () => {
    const yaml = `schedules: {}\n# ${'x'.repeat(MAX_FILE_BYTES)}\n`;
    expect(one(yaml)).toEqual({
      line: 1,
      column: 1,
      message: `the file is ${MAX_FILE_BYTES + 17} bytes, over the limit of 1048576 bytes (1 MiB); a schedules file needs far less: check what wrote it`,
    });
    // Bytes, not characters: a file of multi-byte characters counts as what it weighs.
    expect(one(`schedules: {}\n# ${'é'.repeat(MAX_FILE_BYTES / 2)}\n`)?.message).toContain(
      `the file is ${MAX_FILE_BYTES + 17} bytes`,
    );
    expect(parseSchedules(`schedules: {}\n#${'x'.repeat(MAX_FILE_BYTES - 16)}\n`, FILE).schedules).toEqual(
      [],
    );
  });

  const billionLaughs = `a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]
b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]
c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]
d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c]
e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d]
f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e]
g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f]
h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g]
i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h]
schedules: {}
`;
  const TOO_MANY_ALIASES =
    'too many alias expansions (YAML anchors & and aliases *): at most 100; write the values out';

  it('alias expansion ("billion laughs"): fails fast, at the alias that goes past the limit', () => {
    expect(MAX_ALIAS_EXPANSIONS).toBe(100);
    const started = performance.now();
    // b expands 9 times, each *b 1 + 9 times (99 in all), so the first *c (1 + 90) goes past 100.
    expect(one(billionLaughs)).toEqual({ line: 4, column: 8, message: TOO_MANY_ALIASES });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('counts every expansion, flat ones too; up to the limit is fine', () => {
    const uses = (n: number) =>
      `defaults: &d { retries: 1 }\nschedules:\n${Array.from(
        { length: n },
        (_, i) =>
          `  s${i}: { job: sleep, every: 1s, params: &p${i} { ms: 1 } }\n  t${i}: { job: sleep, every: 1s, params: *p${i}, retries: 1 }\n`,
      ).join('')}`;
    expect(parseSchedules(uses(100), FILE).schedules).toHaveLength(200);
    expect(one(uses(101))).toEqual({ line: 204, column: 42, message: TOO_MANY_ALIASES });
  });

  it("the yaml library's own alias limit stays a second guard, reported at the first alias", () => {
    // 60 + 1 + 2 × 2 expansions here, but the library multiplies *b's count by every *a so far.
    const yaml = `a: &a x\nl: [${Array(60).fill('*a').join(', ')}]\nb: &b [*a]\nc: [*b, *b]\nschedules: {}\n`;
    expect(one(yaml)).toEqual({ line: 2, column: 5, message: TOO_MANY_ALIASES });
  });

  it('an alias with no anchor before it', () => {
    expect(one('schedules:\n  a: *tick\n  b: &tick { job: sleep, every: 1s }\n')).toEqual({
      line: 2,
      column: 6,
      message: 'alias *tick has no anchor &tick before it; mark the value with &tick first, or write it out',
    });
  });

  const DEEP = `nested more than ${MAX_NESTING} levels deep (maps and lists inside each other); a schedules file needs a few levels`;

  it(`nesting deeper than ${MAX_NESTING} levels, at the first map or list past it`, () => {
    expect(MAX_NESTING).toBe(32);
    // The top map is level 1, schedules 2, a 3, params 4: the 29th [ is level 33.
    const flow = (n: number) =>
      `schedules:\n  a:\n    job: sleep\n    every: 1s\n    params: { ms: ${'['.repeat(n)}${']'.repeat(n)} }\n`;
    expect(one(flow(29))).toEqual({ line: 5, column: 19 + 28, message: DEEP });
    expect(one(flow(28))).toMatchObject({
      field: 'params.ms',
      message: expect.not.stringContaining('nested'),
    });
    const block = Array.from({ length: 40 }, (_, i) => `${' '.repeat(i)}k${i}:`).join('\n');
    expect(one(`${block} 1\n`)).toEqual({ line: 33, column: 33, message: DEEP });
    expect(one(`${'- '.repeat(40)}x\n`)).toEqual({ line: 1, column: 65, message: DEEP });
    // `[a: 1]` is a list holding a map: two levels.
    expect(one(`x: ${'[a: '.repeat(20)}1${']'.repeat(20)}\n`)).toEqual({
      line: 1,
      column: 65,
      message: DEEP,
    });
  });

  it('a deep file is refused from its first levels, not parsed whole', () => {
    const started = performance.now();
    expect(one('['.repeat(MAX_FILE_BYTES - 1))).toEqual({ line: 1, column: 33, message: DEEP });
    expect(one(`${'- '.repeat(MAX_FILE_BYTES / 2 - 1)}x`)).toEqual({ line: 1, column: 65, message: DEEP });
    expect(performance.now() - started).toBeLessThan(1_000);
  });

  it('a second YAML document', () => {
    expect(one('schedules: {}\n---\nschedules: {}\n')).toEqual({
      line: 2,
      column: 1,
      message:
        'a second YAML document starts here; a schedules file is one document: remove the --- line and what follows, or merge them',
    });
  });
});
