import { expect } from 'vitest';
import type { RunRow } from './support';

/** Due times of the first attempts, in order: what the cadence of a schedule is made of. */
function dueGaps(runs: RunRow[]): number[] {
  const due = runs.filter((r) => r.attempt === 1).map((r) => r.scheduled_at.getTime());
  return due.slice(1).map((time, i) => time - (due[i] ?? time));
}

/**
 * Runs of an `every` schedule keep its cadence: no gap is shorter than the interval (none doubled)
 * or off its grid, and most are exactly one interval. A run that starts more than a slot late (a
 * loaded machine) makes BullMQ skip to the next slot rather than catch up, so a gap of two is fine.
 */
export function expectCadence(runs: RunRow[], every: number): void {
  const gaps = dueGaps(runs);
  expect(gaps.filter((gap) => gap <= 0 || gap % every !== 0)).toEqual([]);
  expect(gaps.filter((gap) => gap === every).length).toBeGreaterThan(gaps.length / 2);
}
