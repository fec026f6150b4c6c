import { setTimeout as sleep } from 'node:timers/promises';
import CircuitBreaker from 'opossum';
import { z } from 'zod';
import { originOf } from '../redact';
import { type Prediction, type Predictor, predictionSchema, type ScoringItem } from './predictor';

export const httpPredictorOptionsSchema = z.strictObject({
  type: z.literal('http'),
  /** POST endpoint of the external model: `{ items: [{ transaction, features }] }` → `{ predictions }`. */
  url: z.url({ message: 'expected the model endpoint URL, e.g. http://127.0.0.1:8000/predict' }),
  timeoutMs: z.number().int().min(10).max(120_000).default(2_000),
  /** Extra attempts after a timeout, a network error, 429 or 5xx; 4xx and bad answers are not retried. */
  retries: z.number().int().min(0).max(10).default(2),
  /** First retry waits this long, then twice as long each time (with jitter). */
  backoffMs: z.number().int().min(0).max(30_000).default(200),
  /** How long the circuit stays open (every call fails at once) before one trial call is let through. */
  resetTimeoutMs: z.number().int().min(100).max(600_000).default(10_000),
});
export type HttpPredictorOptions = z.output<typeof httpPredictorOptionsSchema>;

const responseSchema = z.object({ predictions: z.array(predictionSchema) });

export class PredictorError extends Error {
  override name = 'PredictorError';
  constructor(
    message: string,
    /** Worth another attempt: the service may answer next time. */
    readonly retryable: boolean,
  ) {
    super(message);
  }
}

/**
 * An external ML API behind a timeout, retries with exponential backoff, and a circuit breaker. The
 * breaker lives as long as the predictor (one per process, see Resources.shared): once it opens,
 * every run fails at once without calling the service, so nothing is written or committed.
 */
export function createHttpPredictor(options: HttpPredictorOptions): Predictor {
  const breaker = new CircuitBreaker(postOnce, {
    timeout: false, // postOnce has its own per-attempt timeout
    resetTimeout: options.resetTimeoutMs,
    errorThresholdPercentage: 50,
    volumeThreshold: 3,
  });
  return {
    name: `http:${options.url}`,
    async predict(items, signal) {
      for (let attempt = 0; ; attempt++) {
        if (breaker.opened) throw openCircuit(options);
        try {
          return await breaker.fire(options, items, signal);
        } catch (error) {
          const retryable = error instanceof PredictorError && error.retryable;
          if (!retryable || attempt >= options.retries || signal.aborted) throw error;
          const delay = options.backoffMs * 2 ** attempt * (0.5 + Math.random() / 2);
          await sleep(delay, undefined, { signal });
        }
      }
    },
  };
}

function openCircuit(options: HttpPredictorOptions): PredictorError {
  return new PredictorError(
    `predictor ${originOf(options.url)} is failing: circuit open, not calling it for up to ${options.resetTimeoutMs} ms ` +
      '(the run fails without writing or committing; it retries on the next run)',
    false,
  );
}

async function postOnce(
  options: HttpPredictorOptions,
  items: ScoringItem[],
  signal: AbortSignal,
): Promise<Prediction[]> {
  let response: Response;
  try {
    response = await fetch(options.url, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ items }),
      signal: AbortSignal.any([signal, AbortSignal.timeout(options.timeoutMs)]),
    });
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError';
    const why = timedOut ? `no answer within ${options.timeoutMs} ms` : (error as Error).message;
    throw new PredictorError(`predictor ${originOf(options.url)}: ${why}`, !signal.aborted);
  }
  if (!response.ok) {
    const retryable = response.status === 429 || response.status >= 500;
    throw new PredictorError(
      `predictor ${originOf(options.url)} answered HTTP ${response.status}`,
      retryable,
    );
  }
  const parsed = responseSchema.safeParse(await response.json().catch(() => undefined));
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new PredictorError(
      `predictor ${originOf(options.url)} answered an unexpected body at ${issue?.path.join('.') || '(root)'}: ${issue?.message}; ` +
        'expected { predictions: [{ transactionId, score (0–1), reasons? }] }',
      false,
    );
  }
  return parsed.data.predictions;
}
