import { createHash } from 'node:crypto';
import { formatDuration } from './duration';
import type { Schedule } from './schedule';

/**
 * A schedule's spec as versions of it are kept and compared: its version (a hash of the resolved
 * spec: the file's entry with the defaults applied), its view in the file's own terms (`every: 5s`,
 * not `trigger.every: 5000`) and the field-level diff of two views (`params.threshold 0.5 → 0.6`).
 * Pure: the scheduler records edits with it, the worker stamps each run with the version.
 */

/** JSON with the keys of every object sorted: the same spec is the same text, whatever the key order. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/** The version of a resolved spec: the first 16 hex digits of the sha256 of its canonical JSON. */
export function specVersionOf(schedule: Schedule): string {
  return createHash('sha256').update(canonicalJson(schedule)).digest('hex').slice(0, 16);
}

/** sha256 of a file's text, hex. */
export const textHash = (text: string): string => createHash('sha256').update(text).digest('hex');

export type SpecView = Record<string, unknown>;

/**
 * The resolved spec in the file's terms: the cadence as every/cron/timezone/after, durations
 * written out (5s, 1h), the rest as it is (a field added to Schedule later shows up as it is).
 */
export function specView(schedule: Schedule): SpecView {
  const { name: _name, trigger, watermark, backoff, timeout, catchupWindow, deadline, ...rest } = schedule;
  const cadence =
    'after' in trigger
      ? { after: trigger.after }
      : 'every' in trigger
        ? { every: formatDuration(trigger.every) }
        : { cron: trigger.cron, timezone: trigger.timezone };
  return {
    ...cadence,
    ...rest,
    ...(watermark
      ? {
          watermark: {
            of: watermark.of,
            lateness: formatDuration(watermark.lateness),
            rerunWithin: formatDuration(watermark.rerunWithin),
          },
        }
      : {}),
    backoff: { type: backoff.type, delay: formatDuration(backoff.delay) },
    timeout: formatDuration(timeout),
    catchupWindow: formatDuration(catchupWindow),
    ...(deadline === undefined ? {} : { deadline: formatDuration(deadline) }),
  };
}

/** One field that differs between two versions; undefined: absent in that version. */
export interface SpecChange {
  field: string;
  from?: unknown;
  to?: unknown;
}

const isMap = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** Leaf fields by dotted path: nested maps are walked, lists and scalars are leaves. */
function leaves(value: Record<string, unknown>, prefix = '', into = new Map<string, unknown>()) {
  for (const [key, child] of Object.entries(value)) {
    const path = prefix ? `${prefix}.${key}` : key;
    if (isMap(child) && Object.keys(child).length > 0) leaves(child, path, into);
    else into.set(path, child);
  }
  return into;
}

/**
 * The fields that differ between two views, by dotted path (`params.threshold`, `notify.after`),
 * in the order of the newer view, then the fields it no longer has. An empty map counts as a leaf.
 */
export function diffSpecs(from: SpecView, to: SpecView): SpecChange[] {
  const before = leaves(from);
  const after = leaves(to);
  const changes: SpecChange[] = [];
  for (const [field, value] of after) {
    if (!before.has(field)) changes.push({ field, to: value });
    else if (canonicalJson(before.get(field)) !== canonicalJson(value))
      changes.push({ field, from: before.get(field), to: value });
  }
  for (const [field, value] of before) if (!after.has(field)) changes.push({ field, from: value });
  return changes;
}

/** A value in a change line: text as it is (quoted when it would read as something else), the rest as JSON. */
function shown(value: unknown): string {
  if (value === undefined) return '(none)';
  if (typeof value !== 'string') return JSON.stringify(value);
  const plain = value !== '' && !/\s/.test(value) && !/^(true|false|null|\(none\)|-?\d[\d.]*)$/.test(value);
  return plain ? value : JSON.stringify(value);
}

/** `params.threshold 0.5 → 0.6`: one change. */
export const describeChange = (change: SpecChange): string =>
  `${change.field} ${shown(change.from)} → ${shown(change.to)}`;

/** Every change on one line, `; ` between them; `no change` when none. */
export const describeChanges = (changes: SpecChange[]): string =>
  changes.length === 0 ? 'no change' : changes.map(describeChange).join('; ');
