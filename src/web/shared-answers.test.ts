import { afterEach, describe, expect, it, vi } from 'vitest';
import { sharedAnswers } from './shared-answers';

afterEach(() => {
  vi.useRealTimers();
});

describe('sharedAnswers', () => {
  it('computes once per key within the time to live, again after it', async () => {
    vi.useFakeTimers();
    const answers = sharedAnswers<number>(2_000);
    let computed = 0;
    const compute = async () => ++computed;
    expect(await answers('a', compute)).toBe(1);
    expect(await answers('a', compute)).toBe(1);
    expect(await answers('b', compute)).toBe(2);
    vi.advanceTimersByTime(2_000);
    expect(await answers('a', compute)).toBe(3);
  });

  it('does not keep a failure', async () => {
    const answers = sharedAnswers<string>(60_000);
    await expect(answers('k', () => Promise.reject(new Error('down')))).rejects.toThrow('down');
    await expect(answers('k', async () => 'up')).resolves.toBe('up');
  });
});
