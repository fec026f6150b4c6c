import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { windowCountJob } from '../../jobs/window-count';
import { PermanentError } from '../../src/runtime/job';
import { type JobTestContext, testContext } from '../../src/runtime/test-context';
import { seedTransactions } from '../streaming/rollup-seed';

let t: JobTestContext;
beforeEach(async () => {
  t = await testContext({ label: 'window_count' });
});
afterEach(() => t.cleanup());

describe('window-count, run on the real PostgreSQL through testContext()', () => {
  it("counts only the transactions of the run's window", async () => {
    const { from, to } = t.ctx.window;
    await seedTransactions(t.ctx.db, { tag: 'in', from, count: 30, spacingMs: 1_000 });
    await seedTransactions(t.ctx.db, { tag: 'after', from: to, count: 5, spacingMs: 1_000 });
    const result = await windowCountJob.run(t.ctx, windowCountJob.params.parse({}));
    expect(result).toEqual({ transactions: 30 });
  });

  it('fails for good below its minimum, saying how many it found', async () => {
    const run = windowCountJob.run(t.ctx, windowCountJob.params.parse({ minimum: 1 }));
    await expect(run).rejects.toThrow(PermanentError);
    await expect(run).rejects.toThrow('0 transactions in the window, fewer than minimum 1');
  });
});
