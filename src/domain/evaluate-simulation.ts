import { type Comparison, compare } from './evaluation';
import { scoreFeatures } from './model';
import { featurize } from './scoring';
import { simulate } from './simulator';

export interface SimulationEvaluation {
  count: number;
  fraudRate: number;
  seed: number;
  threshold: number;
  ruleAmountKes?: number;
}

/**
 * Where evaluation streams end. Fixed, not now: fraud depends on the hour (night patterns), so a
 * stream ending at the wall-clock time would give other figures for the same seed at another hour.
 */
const EVALUATION_END = new Date('2025-01-01T12:00:00Z');

/** Simulates a stream, scores it with the built-in model from empty history, and compares. */
export function evaluateSimulation(options: SimulationEvaluation): Comparison {
  const transactions = simulate({ ...options, endAt: EVALUATION_END });
  const items = featurize(transactions, new Map());
  const flags = items.map(({ features }) => scoreFeatures(features).score >= options.threshold);
  return compare(transactions, flags, options.ruleAmountKes);
}
