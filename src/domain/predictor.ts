import { z } from 'zod';
import type { Features } from './features';
import type { UnlabelledTransaction } from './transaction';

/** One piece of the explanation: which signal, how much it weighed, in words. */
export const reasonSchema = z.object({
  signal: z.string().min(1),
  weight: z.number(),
  detail: z.string(),
});
export type Reason = z.infer<typeof reasonSchema>;

export const predictionSchema = z.object({
  transactionId: z.uuid(),
  score: z.number().min(0).max(1),
  reasons: z.array(reasonSchema).default([]),
});
export type Prediction = z.infer<typeof predictionSchema>;

/** What a predictor is given: never the label. */
export interface ScoringItem {
  transaction: UnlabelledTransaction;
  features: Features;
}

/** The built-in model and the HTTP predictor share this shape, so the consumer does not care which. */
export interface Predictor {
  /** Stored with each prediction (`predictions.model`). */
  readonly name: string;
  /** One prediction per item, in any order; rejects when it cannot score them all. */
  predict(items: ScoringItem[], signal: AbortSignal): Promise<Prediction[]>;
}
