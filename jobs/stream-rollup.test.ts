import { describe, expect, it } from 'vitest';
import { JobParamsError } from '../src/runtime/job-registry';
import { jobs } from './index';
import { rollupKey, rollupWindow, streamRollupJob } from './stream-rollup';

const due = new Date('2024-06-01T12:00:15Z');
const minuteRun = { window: { from: new Date('2024-06-01T11:59:15Z'), to: due } };
const params = (input: Record<string, unknown>) => streamRollupJob.params.parse(input);

describe('stream-rollup: which window a run rolls up', () => {
  it('is the run’s own window by default', () => {
    expect(rollupWindow(minuteRun, params({}))).toEqual({ start: minuteRun.window.from, end: due });
  });

  it('slides: windowSize back from the run’s end less lateness', () => {
    expect(rollupWindow(minuteRun, params({ windowSize: '5m', lateness: '15s' }))).toEqual({
      start: new Date('2024-06-01T11:55:00Z'),
      end: new Date('2024-06-01T12:00:00Z'),
    });
  });

  it('re-runs a past window named by windowEnd', () => {
    const window = rollupWindow(minuteRun, params({ windowSize: '1h', windowEnd: '2024-05-31T10:00:00Z' }));
    expect(window).toEqual({
      start: new Date('2024-05-31T09:00:00Z'),
      end: new Date('2024-05-31T10:00:00Z'),
    });
  });

  it('keys a row by size, window end, market and channel', () => {
    const window = { start: new Date('2024-06-01T11:00:00Z'), end: new Date('2024-06-01T12:00:00Z') };
    expect(rollupKey('1h', window, { county: 'Nairobi', channel: 'card' })).toBe(
      '1h|2024-06-01T12:00:00.000Z|Nairobi|card',
    );
  });
});

describe('stream-rollup params: bad input is refused naming the field', () => {
  it.each([
    [{ windowSize: '5 minutes' }, /windowSize/],
    [{ windowSize: '1500ms' }, /whole seconds.*windowSize/],
    [{ windowSize: '0s' }, /above 0.*windowSize/],
    [{ lateness: '30d' }, /up to 7d.*lateness/],
    [{ lateness: 30 }, /expected a duration.*lateness/],
    [{ windowEnd: 'yesterday' }, /windowEnd/],
    [{ topic: '' }, /topic/],
  ])('%j', (input, expected) => {
    try {
      jobs.resolve('stream-rollup', input);
      throw new Error('accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(JobParamsError);
      expect((error as JobParamsError).details).toMatch(expected);
    }
  });

  it('accepts a lateness of 0s, its default', () => {
    expect(params({ lateness: '0s' }).lateness).toBe('0s');
  });

  it('accepts its own output again (the worker re-checks a schedule’s parsed params)', () => {
    const parsed = params({ windowSize: '5m', lateness: '15s' });
    expect(params(parsed)).toEqual(parsed);
  });
});
