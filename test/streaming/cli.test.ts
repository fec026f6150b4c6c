import { describe, expect, it } from 'vitest';
import { runCli } from '../cli';
import { testEnv } from '../support';

describe('tickflow eval and lag', () => {
  it('eval prints precision and recall of the model and of the amount rule; the model wins on both', async () => {
    // The defaults (100,000 transactions, seed 42): the figures `tickflow eval` prints and the README claims.
    const result = await runCli(['eval'], testEnv('eval').env);
    expect(result.code).toBe(0);
    const figures = (name: string) => {
      const line = result.stdout.split('\n').find((l) => l.startsWith(name)) ?? '';
      const [precision, recall] = [...line.matchAll(/(\d+\.\d)%/g)].map((m) => Number(m[1]));
      return { precision, recall };
    };
    const model = figures('built-in model');
    const rule = figures('amount rule');
    expect(model.precision).toBeGreaterThan(rule.precision ?? 100);
    expect(model.recall).toBeGreaterThan(rule.recall ?? 100);
  });

  it.each([
    [['eval', '--fraud-rate', '2'], /--fraud-rate/],
    [['lag', '--topic', 'no-such-topic'], /topic no-such-topic does not exist; pass --topic/],
  ])('%j exits 1 and names the problem', async (args, message) => {
    const result = await runCli(args, testEnv('eval').env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(message);
  });
});
