// @ts-check
/** How the grid writes times, durations, triggers and run tooltips. */
import { clock, h, hms } from '../page.js';
import { state } from './state.js';

/** @typedef {import('../../../control/views').RunSummary} RunSummary */
/** @typedef {import('../../../control/views').FileErrorView} FileErrorView */

const now = () => Date.now() + state.skew;
const dateClock = new Intl.DateTimeFormat(undefined, { ...hms, dateStyle: 'medium' });

/** @param {string | null | undefined} iso */
export function fmtTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return (date.toDateString() === new Date().toDateString() ? clock : dateClock).format(date);
}

/** @param {number | null | undefined} ms */
export function fmtDuration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** @param {number} ms */
export function fmtSpan(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return s < 86_400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86_400)}d`;
}

/** "in 3s" or "12s ago"; a next run already due reads "now". @param {string} iso @param {string} [mode] */
export function fmtRelative(iso, mode) {
  const diff = Date.parse(iso) - now();
  if (mode === 'next' && diff < 500) return 'now';
  return diff >= 0 ? `in ${fmtSpan(diff)}` : `${fmtSpan(diff)} ago`;
}

/** A `<time>` the ticker keeps current. @param {string} iso @param {string} [mode] */
export const relTime = (iso, mode) =>
  h(
    'time',
    { datetime: iso, title: fmtTime(iso), dataset: { rel: iso, ...(mode && { relMode: mode }) } },
    fmtRelative(iso, mode),
  );

const TRIGGER_NAMES = {
  schedule: 'scheduled',
  manual: 'manual',
  backfill: 'backfill',
  catchup: 'catch-up',
  'late-data': 'late data',
  after: 'after',
  rerun: 're-run',
};

/** @param {RunSummary} run */
export const triggerText = (run) =>
  `${TRIGGER_NAMES[run.trigger]}${run.triggeredBy ? ` by ${run.triggeredBy}` : ''}`;

/** The window of event time a run covers (ctx.window). @param {RunSummary} run */
export const windowText = (run) =>
  run.window ? `${fmtTime(run.window.from)} → ${fmtTime(run.window.to)}` : '—';

/** The tooltip of a bar, a chart point or a table row. @param {RunSummary} run */
export const runTitle = (run) =>
  [
    `${run.state} · run ${run.runId} (${triggerText(run)})`,
    run.waitingFor && `waiting for ${run.waitingFor}`,
    `due ${fmtTime(run.dueAt)}`,
    run.window && `window ${windowText(run)}`,
    `duration ${fmtDuration(run.durationMs)}`,
    `${run.attempts} attempt${run.attempts === 1 ? '' : 's'}`,
    run.error && `error: ${run.error}`,
    run.marked && `marked ${run.state} by ${run.marked.by} (was ${run.marked.from})`,
    run.note && `note by ${run.note.by}: ${run.note.text}`,
    run.deadlineMissedAt && `deadline missed (flagged at ${fmtTime(run.deadlineMissedAt)})`,
    run.skipped && `${skippedText(run)} skipped after it: it started late`,
  ]
    .filter(Boolean)
    .join('\n');

/** A run's slots skipped after it (it started late): "3 slots (overlap)". @param {RunSummary} run */
export const skippedText = (run) =>
  run.skipped
    ? `${run.skipped.slots} slot${run.skipped.slots === 1 ? '' : 's'} (${run.skipped.reason})`
    : '—';

/** `file:line:column: schedule, field: message` @param {FileErrorView['problems'][number]} p */
export function problemText(p) {
  const where = [p.schedule, p.field].filter(Boolean).join(', ');
  return `${p.file}:${p.line}:${p.column}: ${where ? `${where}: ` : ''}${p.message}`;
}
