import { type Comparison, compare } from './evaluation';
import { scoreFeatures } from './model';
import { populationForRate } from './population';
import { featurize } from './scoring';
import { simulate } from './simulator';

export interface SimulationEvaluation {
  count: number;
  fraudRate: number;
  seed: number;
  threshold: number;
  ruleAmountKes?: number;
  /**
   * Evaluate what a fresh live producer at this rate makes instead of the replay: a population
   * sized for the rate, `count` transactions in the count ÷ rate seconds before `endAt`, scored
   * from empty history. Few accounts come back within a live run, so the model knows little
   * about them yet: this is the figure a live run from an empty database can be held to.
   */
  ratePerSecond?: number;
  /** Where the stream ends (default a fixed noon); fraud depends on the hour. */
  endAt?: Date;
}

/**
 * Where evaluation streams end by default. Fixed, not now: fraud depends on the hour (night
 * patterns), so a stream ending at the wall-clock time would give other figures for the same seed
 * at another hour.
 */
export const EVALUATION_END = new Date('2025-01-01T12:00:00Z');

/**
 * Simulates a stream, scores it with the built-in model from empty history, and compares. Without
 * `ratePerSecond` it is the replay of the 5,000-account population (one transaction every ~4 s, so
 * 100,000 transactions are ~20 per account): the model's figures once it knows the accounts.
 */
export function evaluateSimulation(options: SimulationEvaluation): Comparison {
  const endAt = options.endAt ?? EVALUATION_END;
  const rate = options.ratePerSecond;
  const transactions = simulate(
    rate === undefined
      ? { ...options, endAt }
      : {
          ...options,
          window: { from: new Date(endAt.getTime() - (1000 * options.count) / rate), to: endAt },
          population: populationForRate(rate),
        },
  );
  const items = featurize(transactions, new Map());
  const flags = items.map(({ features }) => scoreFeatures(features).score >= options.threshold);
  return compare(transactions, flags, options.ruleAmountKes);
}
