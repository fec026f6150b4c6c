import { z } from 'zod';

const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

const DURATION_HINT = 'write a whole number and a unit: 250ms, 5s, 1m, 2h or 7d';

/** `250ms`, `5s`, `1m`, `2h`, `7d` → milliseconds; anything else → undefined. */
export function parseDuration(text: string): number | undefined {
  const match = /^(\d+)(ms|s|m|h|d)$/.exec(text.trim());
  if (!match) return undefined;
  return Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS];
}

/** The shortest spelling of a duration, for messages and listings: 1500 → `1500ms`, 60000 → `1m`. */
export function formatDuration(ms: number): string {
  const units = Object.entries(UNIT_MS).reverse();
  const [unit, size] = units.find(([, size]) => ms % size === 0 && ms >= size) ?? ['ms', 1];
  return `${ms / size}${unit}`;
}

/** What a duration field accepts beyond the format; by default anything above 0. */
interface DurationLimits {
  /** The longest accepted, in milliseconds. */
  max?: number;
  /** Whole seconds only (what is stored in seconds: 1500ms would match nothing). */
  wholeSeconds?: boolean;
  /** Accept 0 (`0s`), e.g. for a delay. */
  zero?: boolean;
}

/** Why `text` is not a duration within `limits` (what is wrong and how to write it), or undefined. */
function durationProblem(text: string, limits: DurationLimits = {}): string | undefined {
  const ms = parseDuration(text);
  if (ms === undefined && /^\s*-/.test(text)) {
    return `"${text}" is negative; durations count forward from 0: ${DURATION_HINT}`;
  }
  if (ms === undefined) return `"${text}" is not a duration; ${DURATION_HINT}`;
  if (ms === 0 && !limits.zero) return `"${text}" is no time at all; write a duration above 0, e.g. 5s`;
  if (limits.max !== undefined && ms > limits.max) {
    const max = formatDuration(limits.max);
    return `"${text}" is longer than ${max}; write a duration up to ${max}, e.g. 5m or 1h`;
  }
  if (limits.wholeSeconds && ms % 1_000 !== 0) {
    return `"${text}" is not a whole number of seconds; write a duration in whole seconds, e.g. 30s, 5m or 1h`;
  }
  return undefined;
}

/**
 * The one zod schema of a duration field (schedules.yaml, job params, API inputs), as written:
 * `5s` stays text, for params that are stored and checked again. Its errors say what was wrong and
 * how to write it; the caller's path names the field.
 */
export const durationText = (limits: DurationLimits = {}) =>
  z.string({ error: `expected a duration; ${DURATION_HINT}` }).superRefine((text, ctx) => {
    const problem = durationProblem(text, limits);
    if (problem) ctx.addIssue({ code: 'custom', message: problem });
  });

/** The same field read as milliseconds. */
export const durationMs = (limits: DurationLimits = {}) =>
  durationText(limits).transform((text) => parseDuration(text) ?? 0);
