import { afterEach, describe, expect, it } from 'vitest';
import { closeFakeModelApis, fakeModelApi, type Handler } from '../../test/fake-model-api';
import { createHttpPredictor, httpPredictorOptionsSchema } from './http-predictor';
import { featurize } from './scoring';
import { simulate } from './simulator';

// Labelled, as the consumer has them: featurize must strip the label before any predictor sees it.
const items = featurize(simulate({ count: 3, fraudRate: 0, seed: 5 }), new Map());
afterEach(closeFakeModelApis);

const signal = new AbortController().signal;
const ok: Handler = (body) => ({
  status: 200,
  body: { predictions: body.items.map((i) => ({ transactionId: i.transaction.transactionId, score: 0.25 })) },
});
const options = (url: string, extra: Record<string, unknown> = {}) =>
  httpPredictorOptionsSchema.parse({ type: 'http', url, backoffMs: 1, ...extra });

describe('HTTP predictor', () => {
  it('posts the batch without labels and reads one prediction per transaction', async () => {
    const api = await fakeModelApi(ok);
    const predictions = await createHttpPredictor(options(api.url)).predict(items, signal);
    expect(predictions).toHaveLength(3);
    expect(predictions[0]).toMatchObject({ score: 0.25, reasons: [] });
    expect(JSON.stringify(api.calls[0])).not.toContain('"label"');
  });

  it('retries a 503 with backoff, then succeeds', async () => {
    let calls = 0;
    const api = await fakeModelApi((body) => (++calls < 3 ? { status: 503 } : ok(body)));
    await expect(
      createHttpPredictor(options(api.url, { retries: 2 })).predict(items, signal),
    ).resolves.toHaveLength(3);
    expect(api.calls).toHaveLength(3);
  });

  it('times out a slow answer and does not retry a 400', async () => {
    const slow = await fakeModelApi((body) => ({ ...ok(body), delayMs: 500 }));
    await expect(
      createHttpPredictor(options(slow.url, { timeoutMs: 50, retries: 0 })).predict(items, signal),
    ).rejects.toThrow('no answer within 50 ms');
    const bad = await fakeModelApi(() => ({ status: 400 }));
    await expect(createHttpPredictor(options(bad.url)).predict(items, signal)).rejects.toThrow('HTTP 400');
    expect(bad.calls).toHaveLength(1);
  });

  it('names the endpoint by its origin only: its path or query may hold a key', async () => {
    const bad = await fakeModelApi(() => ({ status: 400 }));
    const secret = `${bad.url}${bad.url.includes('?') ? '&' : '?'}api_key=s3cret`;
    const error = await createHttpPredictor(options(secret))
      .predict(items, signal)
      .catch((e: Error) => e);
    expect((error as Error).message).toBe(`predictor ${new URL(bad.url).origin} answered HTTP 400`);
  });

  it('names the field when the answer does not match the contract', async () => {
    const api = await fakeModelApi(() => ({
      status: 200,
      body: { predictions: [{ transactionId: 'x', score: 3 }] },
    }));
    await expect(createHttpPredictor(options(api.url)).predict(items, signal)).rejects.toThrow(
      /unexpected body at predictions\.0\.(transactionId|score)/,
    );
  });

  it('opens the circuit after repeated failures and then fails fast without calling', async () => {
    const api = await fakeModelApi(() => ({ status: 500 }));
    const predictor = createHttpPredictor(options(api.url, { retries: 0, resetTimeoutMs: 60_000 }));
    for (let i = 0; i < 3; i++) await expect(predictor.predict(items, signal)).rejects.toThrow('HTTP 500');
    const callsWhenOpened = api.calls.length;
    await expect(predictor.predict(items, signal)).rejects.toThrow('circuit open');
    expect(api.calls).toHaveLength(callsWhenOpened);
  });
});
