// @ts-check
/** The grid: a row per schedule (switch, badges, job, cadence and watermark, next and last run, note) and its strip of run bars. */
import { $, h, present, setProps } from '../page.js';
import { notifyTitle, policyBadges } from './audit.js';
import { clone, dot, muted, q } from './dom.js';
import { fmtDuration, fmtRelative, fmtSpan, fmtTime, problemText, relTime, runTitle } from './format.js';
import { can, state, UNFINISHED, whyNot } from './state.js';

/** @typedef {import('../../../control/views').RunSummary} RunSummary */
/** @typedef {import('../../../control/views').ScheduleView} ScheduleView */
/** @typedef {import('../../../control/views').SchedulesView} SchedulesView */
/** @typedef {import('../../../control/views').FileErrorView} FileErrorView */
/** @typedef {import('./state.js').GridWindow} GridWindow */
/** @typedef {import('./state.js').Row} Row */

/** @param {SchedulesView} view */
export function render(view) {
  state.view = view;
  if (view.window) state.skew = Date.parse(view.window.to) - Date.now();
  document.body.classList.toggle('read-only', view.readOnly);
  $('read-only').hidden = !view.readOnly;
  renderSession();
  $('file-name').textContent = view.file;
  $('file-error').hidden = !view.fileError;
  if (view.fileError) renderFileError(view.fileError);
  renderRows(view);
}

/** Who is looking, and their role, in the top bar; a viewer's badge says what the role leaves out. */
function renderSession() {
  const session = state.session;
  const who = $('who');
  who.hidden = !session;
  if (!session) return;
  who.textContent = `${session.user} · ${session.role}`;
  who.title = can('toggle')
    ? `signed in as ${session.user} (${session.role})`
    : `signed in as ${session.user} (${session.role}): ${whyNot()}`;
  document.body.dataset.role = session.role;
}

/** @param {FileErrorView} error */
function renderFileError(error) {
  $('file-error-message').textContent = `${error.message}${error.at ? ` (since ${fmtTime(error.at)})` : ''}`;
  $('file-error-problems').replaceChildren(...error.problems.map((p) => h('li', problemText(p))));
}

/** @param {SchedulesView} view */
function renderRows(view) {
  const body = $('grid-body');
  body.querySelector('.grid-empty')?.remove();
  const runs = Object.values(view.window?.runs ?? {}).flat();
  const longest = runs.reduce((max, run) => Math.max(max, run.durationMs ?? 0), 1);
  /** @type {Row | null} */
  let previous = null;
  for (const schedule of view.schedules) {
    const row = state.rows.get(schedule.name) ?? createRow(schedule.name);
    updateRow(row, schedule, view, longest);
    // Keep the view's order, moving a row only when out of place (a move drops focus).
    const anchor = previous ? previous.extra.nextSibling : body.firstChild;
    if (anchor !== row.tr) body.insertBefore(row.tr, anchor);
    if (row.tr.nextSibling !== row.extra) body.insertBefore(row.extra, row.tr.nextSibling);
    previous = row;
  }
  const names = new Set(view.schedules.map((s) => s.name));
  for (const [name, row] of state.rows) {
    if (names.has(name)) continue;
    row.tr.remove();
    row.extra.remove();
    state.rows.delete(name);
  }
  if (!view.schedules.length)
    body.append(h('tr.grid-empty', h('td', { colspan: 8 }, `No schedules in ${view.file}.`)));
}

/** @param {string} name @returns {Row} */
function createRow(name) {
  const [tr, extra] = /** @type {HTMLElement[]} */ ([...clone('row-template').children]);
  if (!tr || !extra) throw new Error('grid.html lacks #row-template');
  tr.dataset.schedule = name;
  extra.dataset.for = name;
  setProps(q(tr, '.switch'), { 'aria-label': `toggle ${name}`, dataset: { schedule: name } });
  setProps(q(tr, '.trigger-button'), { 'aria-label': `Trigger ${name}`, dataset: { schedule: name } });
  setProps(q(tr, '.name-link'), { text: name, dataset: { schedule: name } });
  q(tr, '.strip').dataset.schedule = name;
  const row = { tr, extra };
  state.rows.set(name, row);
  return row;
}

/** @param {Row} row @param {ScheduleView} s @param {SchedulesView} view @param {number} longest */
function updateRow({ tr }, s, view, longest) {
  const busy = state.busy.has(s.name);
  const toggle = /** @type {HTMLInputElement} */ (q(tr, '.switch'));
  if (!busy) toggle.checked = !s.paused;
  // Only what the role (and the server) allows is offered: a viewer sees the state, not the switch.
  toggle.disabled = !can('toggle');
  toggle.title = !can('toggle') ? whyNot() : s.paused ? 'paused: turn on' : 'on: pause';
  tr.classList.toggle('is-paused', s.paused);
  q(tr, '.trigger-button').hidden = !can('trigger');
  q(tr, '.badges').replaceChildren(
    ...present([
      !s.inFile && h('span.badge.warn', { title: 'not in schedules.yaml: being removed' }, 'not in file'),
      !s.scheduled && !s.paused && h('span.badge', 'not scheduled'),
      s.notify && h('span.badge', { title: notifyTitle(s.notify) }, 'notifies'),
      ...policyBadges(s),
    ]),
  );
  q(tr, '.col-job').textContent = s.job ?? '—';
  q(tr, '.col-cadence').textContent = s.cadence ?? '—';
  updateWatermark(q(tr, '.col-watermark'), s.watermark);
  setProps(q(tr, '.col-desc'), { text: s.description ?? '', title: s.description ?? '' });
  q(tr, '.col-next').replaceChildren(nextRunOf(s));
  q(tr, '.col-last').replaceChildren(lastRunOf(s));
  q(tr, '.col-note').replaceChildren(noteOf(s));
  if (view.window) renderStrip(q(tr, '.strip'), view.window, view.window.runs[s.name] ?? [], longest);
  q(tr, '.capped').hidden = !view.window?.capped.includes(s.name);
}

/**
 * A consumer's event-time watermark under its cadence: "watermark 12:04:58 · 3s behind", or "no
 * watermark yet"; hidden for a schedule that has none.
 * @param {HTMLElement} cell @param {ScheduleView['watermark']} watermark
 */
function updateWatermark(cell, watermark) {
  cell.hidden = !watermark;
  if (!watermark) return;
  const { at, lagSeconds } = watermark;
  if (at === null || lagSeconds === null) {
    setProps(cell, {
      text: 'no watermark yet',
      title: 'not every partition of its topic has an event stored or been found caught up yet',
    });
    return;
  }
  const behind =
    lagSeconds >= 0 ? `${fmtSpan(lagSeconds * 1000)} behind` : `${fmtSpan(lagSeconds * 1000)} ahead`;
  setProps(cell, {
    text: `watermark ${fmtTime(at)} · ${behind}`,
    title: `event time up to which every partition is stored: ${at}`,
  });
  cell.classList.toggle('is-behind', lagSeconds >= WATERMARK_BEHIND_S);
}

/** A watermark this far behind the clock (seconds) is shown as a warning. */
const WATERMARK_BEHIND_S = 60;

/** @param {ScheduleView} s */
function nextRunOf(s) {
  if (s.paused) return muted('paused');
  if (!s.nextRunAt) return muted(s.scheduled ? '—' : 'not scheduled');
  return relTime(s.nextRunAt, 'next');
}

/** @param {ScheduleView} s */
function lastRunOf(s) {
  const run = s.lastRun;
  if (!run) return muted('never');
  const at = run.finishedAt ?? run.startedAt ?? run.dueAt;
  const props = { type: 'button', title: runTitle(run), dataset: { schedule: s.name, openRun: run.runId } };
  return h('button.last-run', props, dot(run.state), relTime(at), muted(fmtDuration(run.durationMs)));
}

/** @param {ScheduleView} s */
function noteOf(s) {
  if (!s.paused) return '';
  const { note, by, at } = s.switch;
  const title = `paused${by ? ` by ${by}` : ''}${at ? ` at ${fmtTime(at)}` : ''}`;
  return h(note ? 'span.note' : 'span.note.muted', { title }, note ?? 'no note');
}

/**
 * One bar per run at x = its due time in the window; height ∝ duration against the longest run in view;
 * a run without a duration yet is full height and striped. Bars are kept by run id across refreshes.
 * @param {HTMLElement} strip @param {GridWindow} win @param {RunSummary[]} runs @param {number} longest
 */
function renderStrip(strip, win, runs, longest) {
  const from = Date.parse(win.from);
  const span = Math.max(1, Date.parse(win.to) - from);
  const width = Math.round(Math.min(12, Math.max(3, (0.6 * strip.clientWidth) / Math.max(runs.length, 8))));
  const old = new Map([...strip.children].map((el) => [/** @type {HTMLElement} */ (el).dataset.runId, el]));
  for (const run of runs) {
    const props = { type: 'button', dataset: { runId: run.runId, schedule: strip.dataset.schedule } };
    const bar = /** @type {HTMLElement} */ (old.get(run.runId) ?? strip.appendChild(h('button', props)));
    old.delete(run.runId);
    const x = Math.min(1, Math.max(0, (Date.parse(run.dueAt) - from) / span));
    const pending = run.durationMs == null && UNFINISHED.has(run.state);
    const height = pending ? '100%' : `max(3px, ${((100 * (run.durationMs ?? 0)) / longest).toFixed(2)}%)`;
    // A backfill or catch-up run is outlined: it covers an older window than its place on the axis says.
    bar.className = `bar state-${run.state} trigger-${run.trigger}${pending ? ' pending' : ''}`;
    Object.assign(bar.style, { left: `${(x * 100).toFixed(3)}%`, width: `${width}px`, height });
    bar.style.marginLeft = `${-width / 2}px`;
    if (run.attempts > 1) bar.dataset.attempts = String(run.attempts);
    else delete bar.dataset.attempts;
    // The failure policy's marks: a deadline passed unfinished, slots skipped after it (see audit.js).
    bar.classList.toggle('deadline-missed', Boolean(run.deadlineMissedAt));
    if (run.skipped) bar.dataset.skipped = String(run.skipped.slots);
    else delete bar.dataset.skipped;
    bar.title = runTitle(run);
    bar.setAttribute('aria-label', `${run.state} run ${run.runId}, due ${fmtTime(run.dueAt)}`);
  }
  for (const el of old.values()) el.remove();
}

export function tickRelativeTimes() {
  for (const el of document.querySelectorAll('[data-rel]')) {
    if (el instanceof HTMLElement && el.dataset.rel)
      el.textContent = fmtRelative(el.dataset.rel, el.dataset.relMode);
  }
}

/** Shows a row's form row while it holds something. @param {Row} row */
export function refreshExtra({ extra }) {
  extra.hidden = !q(extra, '.row-message').textContent && !extra.querySelector('form');
}
