import { describe, expect, it } from 'vitest';
import { defaultJobs as jobs } from '../app/jobs';
import { parseSchedules } from './load';
import { describeChanges, diffSpecs, specVersionOf, specView } from './spec-diff';

const one = (yaml: string) => {
  const [schedule] = parseSchedules(`schedules:\n  a:\n${yaml}`, '/tmp/schedules.yaml', jobs).schedules;
  if (!schedule) throw new Error('expected a schedule');
  return schedule;
};

describe('spec versions and field-level diffs', () => {
  const before = one('    job: sleep\n    every: 5s\n    params: { ms: 5 }\n');

  it('a version is a hash of the resolved spec: the same whatever the spelling, another for any change', () => {
    const respelled = one(
      '    every: 5s\n    params: { ms: 5, failAttempts: 0 }\n    job: sleep\n    retries: 0\n',
    );
    expect(specVersionOf(respelled)).toBe(specVersionOf(before));
    expect(specVersionOf(before)).toMatch(/^[0-9a-f]{16}$/);
    expect(specVersionOf(one('    job: sleep\n    every: 5s\n    params: { ms: 6 }\n'))).not.toBe(
      specVersionOf(before),
    );
  });

  it("shows the spec in the file's own terms", () => {
    expect(specView(before)).toMatchObject({
      job: 'sleep',
      every: '5s',
      params: { ms: 5, failAttempts: 0 },
      timeout: '5m',
      backoff: { type: 'exponential', delay: '1s' },
    });
    expect(specView(before)).not.toHaveProperty('trigger');
  });

  it('lists each changed field by its dotted path: params.ms 5 → 10', () => {
    const after = one(
      '    job: sleep\n    every: 10s\n    params: { ms: 10 }\n    pauseAfter: 3\n    notify: { onFailure: "https://x.test/h" }\n',
    );
    const changes = diffSpecs(specView(before), specView(after));
    expect(changes).toEqual([
      { field: 'every', from: '5s', to: '10s' },
      { field: 'params.ms', from: 5, to: 10 },
      { field: 'notify.onFailure', to: 'https://x.test/h' },
      { field: 'notify.after', to: 1 },
      { field: 'pauseAfter', to: 3 },
    ]);
    expect(describeChanges(changes)).toBe(
      'every 5s → 10s; params.ms 5 → 10; notify.onFailure (none) → https://x.test/h; notify.after (none) → 1; pauseAfter (none) → 3',
    );
    expect(describeChanges(diffSpecs(specView(after), specView(before)))).toContain('pauseAfter 3 → (none)');
    expect(describeChanges([])).toBe('no change');
  });

  it('quotes text that would read as something else', () => {
    expect(describeChanges([{ field: 'description', from: 'a nap', to: '5' }])).toBe(
      'description "a nap" → "5"',
    );
  });
});
