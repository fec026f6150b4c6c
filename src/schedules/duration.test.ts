import { describe, expect, it } from 'vitest';
import { durationMs, durationText, formatDuration, parseDuration } from './duration';

describe('durations', () => {
  it.each([
    ['250ms', 250],
    ['5s', 5_000],
    ['1m', 60_000],
    ['2h', 7_200_000],
    ['7d', 604_800_000],
  ])('%s is %i ms', (text, ms) => {
    expect(parseDuration(text)).toBe(ms);
    expect(formatDuration(ms)).toBe(text);
  });

  it.each(['5', '5 s', '1.5s', '-1s', 's', '5sec', ''])('rejects %j', (text) => {
    expect(parseDuration(text)).toBeUndefined();
  });

  it('formats a duration that is no whole unit in the largest unit that divides it', () => {
    expect(formatDuration(1_500)).toBe('1500ms');
    expect(formatDuration(90_000)).toBe('90s');
  });
});

describe('the duration schema every duration field uses', () => {
  const refusal = (schema: ReturnType<typeof durationText>, input: unknown) =>
    schema.safeParse(input).error?.issues.map((issue) => issue.message);

  it('reads milliseconds, or keeps the text', () => {
    expect(durationMs().parse('5m')).toBe(300_000);
    expect(durationText().parse('5m')).toBe('5m');
    expect(durationText({ zero: true }).parse('0s')).toBe('0s');
  });

  it.each([
    [
      {},
      '5 minutes',
      '"5 minutes" is not a duration; write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d',
    ],
    [{}, 5, 'expected a duration; write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d'],
    [{}, '0s', '"0s" is no time at all; write a duration above 0, e.g. 5s'],
    [{ max: 604_800_000 }, '8d', '"8d" is longer than 7d; write a duration up to 7d, e.g. 5m or 1h'],
    [
      { wholeSeconds: true },
      '1500ms',
      '"1500ms" is not a whole number of seconds; write a duration in whole seconds, e.g. 30s, 5m or 1h',
    ],
  ])('with %j refuses %j saying what is wrong and how to write it', (limits, input, message) => {
    expect(refusal(durationText(limits), input)).toEqual([message]);
    expect(
      durationMs(limits)
        .safeParse(input)
        .error?.issues.map((issue) => issue.message),
    ).toEqual([message]);
  });
});
