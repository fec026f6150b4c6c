import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { evaluateStored } from '../../src/db/evaluation-store';
import { EVALUATION_END } from '../../src/domain/evaluate-simulation';
import { drain, type StreamingEnv, streamingEnv } from './streaming-env';

describe('producer-batch and consumer-batch in steady state (real Kafka and PostgreSQL)', () => {
  let env: StreamingEnv;
  beforeEach(async () => {
    env = await streamingEnv('steady');
  });
  afterEach(async () => {
    await env.cleanup();
  });

  it('producer runs over consecutive windows stamp consecutive stretches, so account history stays realistic and the model stays precise', async () => {
    // Like a schedule firing every 2 s (20 slots, as a catch-up would run them): each run extends the
    // stream inside its own window instead of re-filling the same minutes. The slots end where
    // evaluations do, in daytime, not now: fraud depends on the hour, and at night the same seeds
    // score otherwise.
    const slotMs = 2_000;
    const first = EVALUATION_END.getTime() - 20 * slotMs;
    const runs = [];
    for (let slot = 0; slot < 20; slot++) {
      const window = { from: new Date(first + slot * slotMs), to: new Date(first + (slot + 1) * slotMs) };
      runs.push(await env.produce({ count: 400, fraudRate: 0.05, seed: slot + 1 }, window));
    }
    for (let i = 1; i < runs.length; i++) {
      expect(Date.parse(runs[i]?.simulatedFrom as string)).toBeGreaterThanOrEqual(
        Date.parse(runs[i - 1]?.simulatedTo as string),
      );
    }
    await drain(env, { batchSize: 5_000, maxWait: 500 });

    const { labelled, model, rule } = await evaluateStored(env.resources.db);
    expect(labelled).toBe(8_000);
    // Re-filling the same minutes made every account look like a burst: precision fell to ~0.47.
    expect(model.precision).toBeGreaterThan(0.75);
    expect(model.recall).toBeGreaterThan(3 * (rule.recall ?? 0));
  });
});
