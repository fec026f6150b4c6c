import { describe, expect, it } from 'vitest';
import { defaultJobs as jobs } from '../app/jobs';
import { parseSchedules } from './load';
import { formatProblem, SchedulesFileError } from './problems';

const FILE = '/srv/tickflow/schedules.yaml';

const CONSUMER = `  consumer:
    job: consumer-batch
    every: 2s
`;

/** Each problem of a rejected file as `tickflow validate` prints it, without the file name. */
function problemsOf(yaml: string): string[] {
  try {
    parseSchedules(yaml, FILE, jobs);
  } catch (error) {
    if (!(error instanceof SchedulesFileError)) throw error;
    return error.problems.map((problem) => formatProblem(problem).replace(`${FILE}:`, ''));
  }
  throw new Error('expected the file to be rejected');
}

describe('schedules.yaml: watermark and after', () => {
  it('reads a windowed schedule and one that runs after another', () => {
    const { schedules } = parseSchedules(
      `schedules:
${CONSUMER}  rollup:
    job: stream-rollup
    cron: "0 * * * * *"
    watermark: { of: consumer, lateness: 15s }
  audit:
    job: sleep
    after: consumer
`,
      FILE,
      jobs,
    );
    const [, rollup, audit] = schedules;
    expect(rollup?.watermark).toEqual({ of: 'consumer', lateness: 15_000, rerunWithin: 3_600_000 });
    expect(audit?.trigger).toEqual({ after: 'consumer' });
  });

  it('refuses a watermark of an unknown schedule, naming the known ones', () => {
    expect(
      problemsOf(`schedules:
${CONSUMER}  rollup:
    job: stream-rollup
    every: 1m
    watermark: { of: consumr, lateness: 15s }
`),
    ).toEqual([
      '8:22: schedule "rollup", field "watermark.of": names no schedule of this file ("consumr"); schedules: consumer, rollup',
    ]);
  });

  it('refuses a watermark of a schedule that is not a consumer, naming the consumers', () => {
    expect(
      problemsOf(`schedules:
${CONSUMER}  nap:
    job: sleep
    every: 1s
  rollup:
    job: stream-rollup
    every: 1m
    watermark: { of: nap, lateness: 15s }
`),
    ).toEqual([
      expect.stringMatching(
        /"nap" runs sleep, which records no watermark; name a consumer schedule \(consumer\)$/,
      ),
    ]);
  });

  it('refuses a negative lateness, saying so', () => {
    expect(
      problemsOf(`schedules:
${CONSUMER}  rollup:
    job: stream-rollup
    every: 1m
    watermark: { of: consumer, lateness: -5s }
`),
    ).toEqual([expect.stringMatching(/field "watermark.lateness": "-5s" is negative/)]);
  });

  it('refuses after together with every or cron, and a watermark on an after schedule', () => {
    expect(
      problemsOf(`schedules:
${CONSUMER}  audit:
    job: sleep
    every: 5s
    after: consumer
`),
    ).toEqual([expect.stringMatching(/field "every": set either after or every, not both/)]);
    expect(
      problemsOf(`schedules:
${CONSUMER}  audit:
    job: sleep
    after: consumer
    watermark: { of: consumer, lateness: 1s }
`),
    ).toEqual([expect.stringMatching(/field "watermark": applies only to a schedule on a clock/)]);
  });

  it('refuses an after naming no schedule', () => {
    expect(problemsOf(`schedules:\n${CONSUMER}  audit:\n    job: sleep\n    after: consumr\n`)).toEqual([
      expect.stringMatching(
        /field "after": names no schedule of this file \("consumr"\); schedules: consumer, audit$/,
      ),
    ]);
  });

  it('refuses a cycle, naming its schedules in order', () => {
    expect(
      problemsOf(`schedules:
  a:
    job: sleep
    after: c
  b:
    job: sleep
    after: a
  c:
    job: sleep
    after: b
`),
    ).toEqual([
      '2:3: schedule "a": schedules a → c → b → a wait for each other in a cycle, so none would ever run; remove after: or watermark: from one of them',
    ]);
    expect(problemsOf('schedules:\n  a:\n    job: sleep\n    after: a\n')).toEqual([
      expect.stringContaining('schedules a → a wait for each other in a cycle'),
    ]);
  });
});
