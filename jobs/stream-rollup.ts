import { z } from 'zod';
import { type RollupKey, type RollupRow, type RollupWindow, replaceRollup } from '../src/db/rollups';
import type { OutgoingRecord } from '../src/kafka/stream-client';
import { STREAMING_DEFAULTS, streamingTopicDefaults } from '../src/kafka/streaming-topics';
import { defineJob, type JobContext, PermanentError } from '../src/runtime/job';
import { durationText, formatDuration, parseDuration } from '../src/schedules/duration';

const MAX_WINDOW_MS = 7 * 86_400_000;

/** Kept as text (the worker checks a schedule's parsed params again); rollups are stored by whole seconds. */
const duration = (limits: { zero?: boolean } = {}) =>
  durationText({ max: MAX_WINDOW_MS, wholeSeconds: true, ...limits });

const paramsSchema = z.strictObject({
  /** The window's length; leave it out to roll up the run's own window (its schedule's interval). */
  windowSize: duration().optional(),
  /** How long after a window's end it is rolled up: late arrivals within this delay are included. */
  lateness: duration({ zero: true }).default('0s'),
  /** Roll up the window ending at this instant (ISO 8601) instead of the run's: re-runs a past window. */
  windowEnd: z.iso.datetime({ offset: true }).optional(),
  /** The compacted topic each (window, market, channel) row is published to. */
  topic: z.string().min(1).default(STREAMING_DEFAULTS.rollupsTopic),
});
type Params = z.output<typeof paramsSchema>;

/**
 * Per window of event time, per market (county) and channel: transactions, amount, flagged by the
 * model, and late arrivals, written to `rollups` (a re-run replaces the window) and published to a
 * compacted topic keyed `<size>|<window end>|<county>|<channel>` (a re-run overwrites the keys).
 */
export const streamRollupJob = defineJob({
  name: 'stream-rollup',
  description: 'roll a window of transactions up per market and channel into rollups and a compacted topic',
  params: paramsSchema,
  // Which window to roll up again, never where to (topic).
  overridable: ['windowEnd'],
  async run(ctx, params) {
    const started = performance.now();
    const window = rollupWindow(ctx, params);
    await ctx.kafka.ensureTopics([streamingTopicDefaults.rollups(params.topic)]);
    const { rows, removed } = await replaceRollup(ctx.db, window);
    ctx.signal.throwIfAborted();
    const size = formatDuration(window.end.getTime() - window.start.getTime());
    await ctx.kafka.send(params.topic, rollupMessages(size, window, rows, removed), ctx.signal);
    const total = (field: 'transactions' | 'amount' | 'flagged' | 'late') =>
      rows.reduce((n, row) => n + row[field], 0);
    return {
      windowSize: size,
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      rows: rows.length,
      // Over every market and channel of the window.
      totals: {
        transactions: total('transactions'),
        amount: Math.round(total('amount') * 100) / 100,
        flagged: total('flagged'),
        late: total('late'),
      },
      tombstones: removed.length,
      durationMs: Math.round(performance.now() - started),
    };
  },
  // A sliding window reads more than the run's own window: late data anywhere in it changes it.
  eventTimeRead(params, window) {
    const { start, end } = rollupWindow({ window }, paramsSchema.parse(params));
    return { from: start, to: end };
  },
});

/**
 * [end − size, end), where end is `windowEnd`, or the run's window end less `lateness`; size is
 * `windowSize`, or the run's own window.
 */
export function rollupWindow(ctx: Pick<JobContext, 'window'>, params: Params): RollupWindow {
  const end = params.windowEnd
    ? new Date(params.windowEnd)
    : new Date(ctx.window.to.getTime() - (parseDuration(params.lateness) ?? 0));
  const size = params.windowSize
    ? (parseDuration(params.windowSize) ?? 0)
    : ctx.window.to.getTime() - ctx.window.from.getTime();
  if (size < 1_000 || size % 1_000 !== 0) {
    throw new PermanentError(
      `this run's window (${ctx.window.from.toISOString()} to ${ctx.window.to.toISOString()}) is not a whole number of seconds: set the param windowSize, e.g. "5m"`,
    );
  }
  return { start: new Date(end.getTime() - size), end };
}

/** The compacted topic's key of one row: the same window, market and channel always map to it. */
export const rollupKey = (size: string, window: RollupWindow, row: RollupKey) =>
  `${size}|${window.end.toISOString()}|${row.county}|${row.channel}`;

function rollupMessages(
  size: string,
  window: RollupWindow,
  rows: RollupRow[],
  removed: RollupKey[],
): OutgoingRecord[] {
  const values = rows.map((row) => ({
    key: rollupKey(size, window, row),
    value: JSON.stringify({
      windowSize: size,
      windowStart: window.start.toISOString(),
      windowEnd: window.end.toISOString(),
      county: row.county,
      channel: row.channel,
      transactions: row.transactions,
      amount: row.amount,
      flagged: row.flagged,
      late: row.late,
    }),
  }));
  // A row a re-run no longer has (its transactions were deleted): a tombstone removes its key.
  const tombstones = removed.map((row) => ({ key: rollupKey(size, window, row), value: null }));
  return [...values, ...tombstones];
}
