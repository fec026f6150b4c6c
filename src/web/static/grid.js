// @ts-check
/**
 * tickflow's schedules grid: one row per schedule with its runs as bars on a time strip shared by all
 * rows, a run panel (`#run=<schedule>/<runId>`), a schedule panel (duration chart, run history), the
 * switch and the trigger. Plain ES module, no build step. The markup lives in grid.html's templates;
 * API data only ever goes in as text (textContent, attributes), never as HTML.
 */

import {
  $,
  api,
  BACKOFF_MS,
  clock,
  h,
  hms,
  lineChart,
  messageOf,
  present,
  setLive,
  setProps,
  svg,
} from './page.js';

/** @typedef {import('../../control/views').RunState} RunState */
/** @typedef {import('../../control/views').RunSummary} RunSummary */
/** @typedef {import('../../control/views').RunDetail} RunDetail */
/** @typedef {import('../../control/views').RunPage} RunPage */
/** @typedef {import('../../control/views').ScheduleView} ScheduleView */
/** @typedef {import('../../control/views').SchedulesView} SchedulesView */
/** @typedef {import('../../control/views').FileErrorView} FileErrorView */
/** @typedef {import('../../control/views').TriggeredRun} TriggeredRun */
/** @typedef {NonNullable<SchedulesView['window']>} GridWindow */
/** @typedef {{ tr: HTMLElement, extra: HTMLElement }} Row a schedule's row and the row of its inline forms */
/** @typedef {{ name: string, filter: string, next: string | null, seq: number, root: HTMLElement }} SchedulePanel */
/** @typedef {import('./page.js').Child} Child */

/** @type {readonly RunState[]} */
const STATES = ['waiting', 'queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'];
const UNFINISHED = new Set(['waiting', 'queued', 'active', 'retrying']);
const WINDOWS = ['1m', '5m', '15m', '1h', '6h', '24h'];
const POLL_MS = 2000;

const state = {
  window: '5m',
  /** @type {Set<RunState>} */
  states: new Set(STATES),
  /** @type {SchedulesView | null} */
  view: null,
  /** @type {AbortController | null} */
  inFlight: null,
  /** @type {ReturnType<typeof setTimeout> | undefined} */
  timer: undefined,
  /** Server clock minus ours, so that "in 3s" agrees with the server's window. */
  skew: 0,
  /** @type {Map<string, Row>} */
  rows: new Map(),
  /** Schedules whose switch the user is changing (note form open, request in flight): refreshes leave it. */
  busy: new Set(),
  /** @type {{ schedule: string, runId: string, detail: RunDetail | null, loading: boolean } | null} */
  run: null,
  /** @type {SchedulePanel | null} */
  panel: null,
};

// ---------------------------------------------------------------- DOM helpers

/** @param {ParentNode} root @param {string} selector */
const q = (root, selector) => /** @type {HTMLElement} */ (root.querySelector(selector));
/** @param {string} id the id of a `<template>` in grid.html */
const clone = (id) =>
  /** @type {DocumentFragment} */ (/** @type {HTMLTemplateElement} */ ($(id)).content.cloneNode(true));
const enc = encodeURIComponent;
/** @param {RunState | string} runState */
const dot = (runState) => h(`i.dot.state-${runState}`, { 'aria-hidden': 'true' });
/** @param {string} text */
const muted = (text) => h('span.muted', text);

// ---------------------------------------------------------------- formatting

const now = () => Date.now() + state.skew;
const dateClock = new Intl.DateTimeFormat(undefined, { ...hms, dateStyle: 'medium' });

/** @param {string | null | undefined} iso */
function fmtTime(iso) {
  if (!iso) return '—';
  const date = new Date(iso);
  return (date.toDateString() === new Date().toDateString() ? clock : dateClock).format(date);
}

/** @param {number | null | undefined} ms */
function fmtDuration(ms) {
  if (ms == null) return '—';
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${Number((ms / 1000).toFixed(ms < 10_000 ? 2 : 1))} s`;
  const s = Math.round(ms / 1000);
  if (s < 3600) return `${Math.floor(s / 60)}m ${String(s % 60).padStart(2, '0')}s`;
  return `${Math.floor(s / 3600)}h ${String(Math.floor(s / 60) % 60).padStart(2, '0')}m`;
}

/** @param {number} ms */
function fmtSpan(ms) {
  const s = Math.round(Math.abs(ms) / 1000);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m`;
  return s < 86_400 ? `${Math.floor(s / 3600)}h` : `${Math.floor(s / 86_400)}d`;
}

/** "in 3s" or "12s ago"; a next run already due reads "now". @param {string} iso @param {string} [mode] */
function fmtRelative(iso, mode) {
  const diff = Date.parse(iso) - now();
  if (mode === 'next' && diff < 500) return 'now';
  return diff >= 0 ? `in ${fmtSpan(diff)}` : `${fmtSpan(diff)} ago`;
}

/** A `<time>` the ticker keeps current. @param {string} iso @param {string} [mode] */
const relTime = (iso, mode) =>
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
};

/** @param {RunSummary} run */
const triggerText = (run) =>
  `${TRIGGER_NAMES[run.trigger]}${run.triggeredBy ? ` by ${run.triggeredBy}` : ''}`;

/** The window of event time a run covers (ctx.window). @param {RunSummary} run */
const windowText = (run) => (run.window ? `${fmtTime(run.window.from)} → ${fmtTime(run.window.to)}` : '—');

/** The tooltip of a bar, a chart point or a table row. @param {RunSummary} run */
const runTitle = (run) =>
  [
    `${run.state} · run ${run.runId} (${triggerText(run)})`,
    run.waitingFor && `waiting for ${run.waitingFor}`,
    `due ${fmtTime(run.dueAt)}`,
    run.window && `window ${windowText(run)}`,
    `duration ${fmtDuration(run.durationMs)}`,
    `${run.attempts} attempt${run.attempts === 1 ? '' : 's'}`,
    run.error && `error: ${run.error}`,
  ]
    .filter(Boolean)
    .join('\n');

/** `file:line:column: schedule, field: message` @param {FileErrorView['problems'][number]} p */
function problemText(p) {
  const where = [p.schedule, p.field].filter(Boolean).join(', ');
  return `${p.file}:${p.line}:${p.column}: ${where ? `${where}: ` : ''}${p.message}`;
}

// ---------------------------------------------------------------- schedules

/** @param {string} name */
const findSchedule = (name) => state.view?.schedules.find((s) => s.name === name);

// ---------------------------------------------------------------- URL state

function readUrl() {
  const query = new URLSearchParams(location.search);
  const window = query.get('window');
  if (window && WINDOWS.includes(window)) state.window = window;
  const picked = STATES.filter((s) => (query.get('state') ?? '').split(',').includes(s));
  if (picked.length) state.states = new Set(picked);
}

/** `?window=5m[&state=failed,retrying]`: the grid's query, in the page's URL and in the API's. */
function gridQuery(extra = {}) {
  const query = new URLSearchParams({ window: state.window, ...extra });
  if (state.states.size < STATES.length) query.set('state', [...state.states].join(','));
  return query.toString().replaceAll('%2C', ',');
}

const writeUrl = () => history.replaceState(history.state, '', `?${gridQuery()}${location.hash}`);

/** The run in `#run=<schedule>/<runId>`, as failure notifications link to it. */
function runInHash() {
  const [, schedule, runId] = /^#run=([^/]+)\/(.+)$/.exec(location.hash) ?? [];
  if (!schedule || !runId) return null;
  try {
    return { schedule: decodeURIComponent(schedule), runId: decodeURIComponent(runId) };
  } catch {
    return { schedule, runId };
  }
}

// ---------------------------------------------------------------- polling

/** @param {number} ms */
function schedulePoll(ms) {
  clearTimeout(state.timer);
  state.timer = setTimeout(poll, ms);
}

/**
 * Reads the grid: skipped while a request is in flight, unless `restart` (the query changed), which
 * abandons that request. Errors back off to 10 s and show "disconnected".
 */
async function poll(restart = false) {
  if (state.inFlight && !restart) return;
  state.inFlight?.abort();
  const controller = new AbortController();
  state.inFlight = controller;
  clearTimeout(state.timer);
  // About one run per pixel of strip: more could not be told apart.
  const perRow = Math.min(400, Math.max(100, document.querySelector('.strip')?.clientWidth || 300));
  try {
    const view = await api(`/schedules?${gridQuery({ perRow })}`, { signal: controller.signal });
    if (controller.signal.aborted) return;
    render(view);
    setLive(POLL_MS);
    refreshOpenRun();
    schedulePoll(document.hidden ? BACKOFF_MS : POLL_MS);
  } catch (error) {
    if (controller.signal.aborted) return;
    setLive(POLL_MS, messageOf(error));
    schedulePoll(BACKOFF_MS);
  } finally {
    if (state.inFlight === controller) state.inFlight = null;
  }
}

// ---------------------------------------------------------------- grid

/** @param {SchedulesView} view */
function render(view) {
  state.view = view;
  if (view.window) state.skew = Date.parse(view.window.to) - Date.now();
  document.body.classList.toggle('read-only', view.readOnly);
  $('read-only').hidden = !view.readOnly;
  $('file-name').textContent = view.file;
  $('file-error').hidden = !view.fileError;
  if (view.fileError) renderFileError(view.fileError);
  renderRows(view);
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
  toggle.disabled = view.readOnly;
  toggle.title = view.readOnly ? 'read-only server' : s.paused ? 'paused: turn on' : 'on: pause';
  tr.classList.toggle('is-paused', s.paused);
  q(tr, '.trigger-button').hidden = view.readOnly;
  q(tr, '.badges').replaceChildren(
    ...present([
      !s.inFile && h('span.badge.warn', { title: 'not in schedules.yaml: being removed' }, 'not in file'),
      !s.scheduled && !s.paused && h('span.badge', 'not scheduled'),
      s.notify && h('span.badge', { title: `on failure: ${s.notify.onFailure}` }, 'notifies'),
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
    bar.title = runTitle(run);
    bar.setAttribute('aria-label', `${run.state} run ${run.runId}, due ${fmtTime(run.dueAt)}`);
  }
  for (const el of old.values()) el.remove();
}

function tickRelativeTimes() {
  for (const el of document.querySelectorAll('[data-rel]')) {
    if (el instanceof HTMLElement && el.dataset.rel)
      el.textContent = fmtRelative(el.dataset.rel, el.dataset.relMode);
  }
}

// ---------------------------------------------------------------- switch (pause / resume)

/** Shows a row's form row while it holds something. @param {Row} row */
function refreshExtra({ extra }) {
  extra.hidden = !q(extra, '.row-message').textContent && !extra.querySelector('form');
}

/** @param {Row} row @param {string} text */
function setRowMessage(row, text) {
  q(row.extra, '.row-message').textContent = text;
  refreshExtra(row);
}

/** Turning a schedule on resumes it; turning it off asks for an optional note first. @param {string} name */
function onToggle(name) {
  const row = state.rows.get(name);
  if (!row) return;
  const on = /** @type {HTMLInputElement} */ (q(row.tr, '.switch')).checked;
  if (on && row.extra.querySelector('.pause-form')) cancelPause(name);
  else if (on) setSwitch(name, 'resume', {});
  else openPauseForm(row, name);
}

/** @param {Row} row @param {string} name */
function openPauseForm(row, name) {
  state.busy.add(name);
  const form = q(clone('pause-template'), 'form');
  form.dataset.schedule = name;
  q(form, '.form-label').textContent = `Pause ${name}`;
  const input = q(form, 'input');
  input.setAttribute('aria-label', `pause note for ${name}`);
  q(row.extra, '.pause-slot').replaceChildren(form);
  refreshExtra(row);
  input.focus();
}

/** @param {string} name */
function cancelPause(name) {
  const row = state.rows.get(name);
  if (!row) return;
  state.busy.delete(name);
  q(row.extra, '.pause-slot').replaceChildren();
  setRowMessage(row, '');
  const toggle = /** @type {HTMLInputElement} */ (q(row.tr, '.switch'));
  toggle.checked = !findSchedule(name)?.paused;
  toggle.focus();
}

/** @param {string} name @param {'pause' | 'resume'} action @param {{ note?: string }} body */
async function setSwitch(name, action, body) {
  const row = state.rows.get(name);
  if (!row) return;
  const toggle = /** @type {HTMLInputElement} */ (q(row.tr, '.switch'));
  state.busy.add(name);
  toggle.disabled = true;
  setRowMessage(row, '');
  try {
    /** @type {ScheduleView} */
    const updated = await api(`/schedules/${enc(name)}/${action}`, { method: 'POST', body });
    state.busy.delete(name);
    q(row.extra, '.pause-slot').replaceChildren();
    const view = /** @type {SchedulesView} */ (state.view);
    render({ ...view, schedules: view.schedules.map((s) => (s.name === name ? updated : s)) });
    poll(true);
  } catch (error) {
    setRowMessage(row, `Could not ${action} ${name}: ${messageOf(error)}`);
    if (action === 'resume') state.busy.delete(name);
    if (action === 'resume') toggle.checked = false;
  } finally {
    toggle.disabled = Boolean(state.view?.readOnly);
    refreshExtra(row);
  }
}

// ---------------------------------------------------------------- trigger

/** The inline form under the schedule's row, prefilled with its params; one at a time. @param {string} name */
function openTrigger(name) {
  const open = document.getElementById('trigger-form');
  if (open?.dataset.schedule === name) return q(open, 'textarea').focus();
  closeTrigger();
  const row = state.rows.get(name);
  if (!row) return;
  const form = q(clone('trigger-template'), 'form');
  form.dataset.schedule = name;
  q(form, '.trigger-name').textContent = name;
  const textarea = /** @type {HTMLTextAreaElement} */ (q(form, 'textarea'));
  textarea.value = JSON.stringify(findSchedule(name)?.params ?? {}, null, 2);
  textarea.rows = Math.min(14, textarea.value.split('\n').length + 1);
  q(row.extra, '.trigger-slot').replaceChildren(form);
  refreshExtra(row);
  textarea.focus();
}

function closeTrigger() {
  const form = document.getElementById('trigger-form');
  const row = state.rows.get(form?.dataset.schedule ?? '');
  form?.remove();
  if (row) refreshExtra(row);
}

/** Checks the JSON here, then shows the server's answer: the run, or each issue of a 400. @param {HTMLElement} form */
async function submitTrigger(form) {
  const name = form.dataset.schedule ?? '';
  const textarea = /** @type {HTMLTextAreaElement} */ (q(form, 'textarea'));
  const status = q(form, '.form-status');
  const button = /** @type {HTMLButtonElement} */ (q(form, 'button[type=submit]'));
  /** @param {string} text @param {Child} [details] */
  const fail = (text, details) => {
    textarea.setAttribute('aria-invalid', 'true');
    status.replaceChildren(...present([h('p.form-error', text), details]));
  };
  let params;
  try {
    params = JSON.parse(textarea.value.trim() || '{}');
  } catch (error) {
    return fail(`Invalid JSON: ${messageOf(error)}`);
  }
  if (!params || typeof params !== 'object' || Array.isArray(params))
    return fail('Params must be a JSON object.');
  textarea.removeAttribute('aria-invalid');
  button.disabled = true;
  status.replaceChildren(muted('starting…'));
  try {
    /** @type {TriggeredRun} */
    const run = await api(`/schedules/${enc(name)}/runs`, { method: 'POST', body: { params } });
    const link = h(
      'button.link',
      { type: 'button', dataset: { schedule: name, openRun: run.runId } },
      run.runId,
    );
    const waits = run.waitsForResume && ' — it waits until the schedule is resumed';
    status.replaceChildren(h('p.form-ok', 'triggered run ', link, waits));
    poll(true);
  } catch (error) {
    /** @type {{ field: string, message: string }[]} */
    const issues = /** @type {any} */ (error)?.issues ?? [];
    const items = issues.map((i) => h('li.field-error', `${i.field || 'params'}: ${i.message}`));
    fail(messageOf(error), items.length > 0 && h('ul.field-errors', ...items));
  } finally {
    button.disabled = false;
  }
}

// ---------------------------------------------------------------- run detail panel

/** Opens a run and records it in the URL hash. @param {string} schedule @param {string} runId */
function showRun(schedule, runId) {
  const hash = `#run=${enc(schedule)}/${enc(runId)}`;
  if (location.hash !== hash) history.pushState(null, '', hash);
  loadRun(schedule, runId);
}

function openRunFromHash() {
  const target = runInHash();
  if (target) loadRun(target.schedule, target.runId);
  else if (state.run) closePanel('run-detail');
}

/** @param {string} schedule @param {string} runId @param {boolean} [refresh] re-read the open run */
async function loadRun(schedule, runId, refresh = false) {
  const body = $('run-detail-body');
  if (!refresh) {
    state.run = { schedule, runId, detail: null, loading: false };
    $('run-detail-title').textContent = `${schedule} · run ${runId}`;
    $('run-detail').hidden = false;
    body.replaceChildren(muted('loading…'));
  }
  const open = state.run;
  if (!open || open.loading) return;
  open.loading = true;
  try {
    /** @type {RunDetail} */
    const detail = await api(`/schedules/${enc(schedule)}/runs/${enc(runId)}`);
    if (state.run !== open) return;
    open.detail = detail;
    const scroll = body.scrollTop;
    body.replaceChildren(runDetailView(detail));
    body.scrollTop = scroll;
  } catch (error) {
    if (state.run === open && !refresh) body.replaceChildren(h('p.load-error', messageOf(error)));
  } finally {
    open.loading = false;
  }
}

/** While the open run can still change, re-read it with every refresh of the grid. */
function refreshOpenRun() {
  const open = state.run;
  if (open?.detail && UNFINISHED.has(open.detail.state)) loadRun(open.schedule, open.runId, true);
}

/** @param {RunDetail} d */
function runDetailView(d) {
  const view = clone('run-template');
  setProps(q(view, '.state-badge'), { text: d.state, class: `state-badge state-${d.state}` });
  const board = q(view, '.board-link');
  board.hidden = !d.boardUrl;
  if (d.boardUrl) board.setAttribute('href', d.boardUrl);
  const facts = {
    job: d.jobType,
    trigger: triggerText(d),
    waiting: d.waitingFor ?? '—',
    due: fmtTime(d.dueAt),
    window: windowText(d),
    started: fmtTime(d.startedAt),
    finished: fmtTime(d.finishedAt),
    duration: fmtDuration(d.durationMs),
    attempts: String(d.attempts),
  };
  for (const [key, text] of Object.entries(facts)) q(view, `[data-fact="${key}"]`).textContent = text;
  if (d.error) q(view, '.run-error').textContent = d.error;
  else q(view, '.part-error').remove();
  q(view, '.part-params').textContent = JSON.stringify(d.params ?? null, null, 2);
  q(view, '.part-result').textContent = JSON.stringify(d.result ?? null, null, 2);
  if (d.attemptList.length) q(view, '.attempts tbody').append(...d.attemptList.map(attemptRow));
  else q(view, '.part-attempts').remove();
  q(view, '.logs').replaceWith(d.logs.length ? h('pre.logs', d.logs.join('\n')) : muted('no log lines'));
  return view;
}

/** @param {RunDetail['attemptList'][number]} a */
const attemptRow = (a) =>
  h(
    'tr',
    h('td', String(a.attempt)),
    h('td', dot(a.state), ` ${a.state}`),
    h('td', fmtTime(a.startedAt)),
    h('td', fmtDuration(a.durationMs)),
    h('td.mono', a.worker ?? '—'),
    h(a.error ? 'td.attempt-error' : 'td.muted', a.error ?? '—'),
  );

// ---------------------------------------------------------------- schedule panel

/** The schedule's duration chart and run history; a refresh of the grid leaves it alone. @param {string} name */
function showSchedule(name) {
  const s = findSchedule(name);
  const root = h('div', clone('schedule-template'));
  /** @type {SchedulePanel} */
  const panel = { name, filter: '', next: null, seq: 0, root };
  state.panel = panel;
  q(root, '.meta-line').textContent = [s?.job, s?.cadence, s?.paused ? 'paused' : 'on']
    .filter(Boolean)
    .join(' · ');
  q(root, '.meta-desc').textContent = s?.description ?? '';
  q(root, '.queue-link').setAttribute('href', `/ui/queue/${enc(name)}`);
  $('schedule-panel-title').textContent = name;
  $('schedule-panel-body').replaceChildren(root);
  $('schedule-panel').hidden = false;
  loadChart(panel);
  loadRunPage(true);
}

/** @param {SchedulePanel} panel */
async function loadChart(panel) {
  const box = q(panel.root, '.chart');
  try {
    /** @type {RunPage} */
    const page = await api(`/schedules/${enc(panel.name)}/runs?limit=100`);
    box.replaceChildren(durationChart(panel.name, page.runs));
  } catch (error) {
    box.replaceChildren(h('p.load-error', messageOf(error)));
  }
}

/** A page of the schedule's runs: `reset` starts over (filter changed), else appends older ones. */
async function loadRunPage(reset = true) {
  const panel = state.panel;
  if (!panel) return;
  const seq = ++panel.seq;
  const query = new URLSearchParams({ limit: '50' });
  if (panel.filter) query.set('state', panel.filter);
  if (!reset && panel.next) query.set('before', panel.next);
  const [tbody, more] = [
    q(panel.root, '.runs-table tbody'),
    /** @type {HTMLButtonElement} */ (q(panel.root, '.older-runs')),
  ];
  more.disabled = true;
  try {
    /** @type {RunPage} */
    const page = await api(`/schedules/${enc(panel.name)}/runs?${query}`);
    if (seq !== panel.seq) return;
    if (reset) tbody.replaceChildren();
    tbody.append(...page.runs.map((run) => runRow(panel.name, run)));
    if (reset && !page.runs.length) tbody.append(h('tr', h('td', { colspan: 6 }, muted('no runs'))));
    panel.next = page.next;
    more.hidden = !page.next;
  } catch (error) {
    tbody.append(h('tr', h('td.load-error', { colspan: 6 }, messageOf(error))));
  } finally {
    more.disabled = false;
  }
}

/** @param {string} schedule @param {RunSummary} run */
const runRow = (schedule, run) =>
  h(
    'tr',
    { title: runTitle(run) },
    h('td', dot(run.state), ` ${run.state}`),
    h('td', h('button.link.mono', { type: 'button', dataset: { schedule, openRun: run.runId } }, run.runId)),
    h('td', fmtTime(run.dueAt)),
    h('td', fmtDuration(run.durationMs)),
    h('td', String(run.attempts)),
    h(run.error ? 'td.attempt-error.truncate' : 'td', run.error ?? ''),
  );

/** The next "nice" step (1, 2 or 5 × 10ⁿ) at least `raw`. @param {number} raw */
function niceStep(raw) {
  const power = 10 ** Math.floor(Math.log10(raw));
  return [1, 2, 5, 10].map((m) => m * power).find((step) => step >= raw) ?? 10 * power;
}

/** Durations by due time, oldest on the left, points coloured by state. @param {string} name @param {RunSummary[]} runs */
function durationChart(name, runs) {
  const finished = runs.filter((r) => r.durationMs != null).reverse();
  if (finished.length === 0) return muted('no finished runs yet');
  const step = niceStep(Math.max(1, ...finished.map((r) => r.durationMs ?? 0)) / 4);
  const points = finished.map((r) => ({
    t: Date.parse(r.dueAt),
    v: r.durationMs ?? 0,
    dot: { class: `point state-${r.state}`, r: 4, dataset: { schedule: name, openRun: r.runId } },
    title: runTitle(r),
  }));
  const chart = svg('svg', { class: 'chart-svg', role: 'img', 'aria-label': `run durations of ${name}` });
  lineChart(chart, [{ points }], {
    frame: { width: 480, height: 190, left: 60, right: 12, top: 12, bottom: 24 },
    ticks: [0, 1, 2, 3, 4].map((i) => i * step),
    formatValue: fmtDuration,
    formatTime: (t) => fmtTime(new Date(t).toISOString()),
  });
  return chart;
}

// ---------------------------------------------------------------- panels, events, start

/** @param {string} id `run-detail` or `schedule-panel` */
function closePanel(id) {
  $(id).hidden = true;
  if (id === 'schedule-panel') state.panel = null;
  if (id !== 'run-detail') return;
  state.run = null;
  if (runInHash()) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
}

/** @param {HTMLInputElement} box */
function onStateFilter(box) {
  const runState = /** @type {RunState} */ (box.value);
  if (box.checked) state.states.add(runState);
  else if (state.states.size > 1) state.states.delete(runState);
  else box.checked = true; // at least one state stays selected
  writeUrl();
  poll(true);
}

/** @param {string} window */
function setWindow(window) {
  state.window = window;
  $('axis-from').textContent = `−${window}`;
  writeUrl();
}

/** @type {[string, (el: HTMLElement, schedule: string) => void][]} what a click on each kind of element does */
const CLICKS = [
  [
    '[data-run-id], [data-open-run]',
    (el, schedule) => showRun(schedule, el.dataset.runId ?? el.dataset.openRun ?? ''),
  ],
  ['.name-link', (_, schedule) => showSchedule(schedule)],
  ['.trigger-button', (_, schedule) => openTrigger(schedule)],
  ['.cancel-pause', (_, schedule) => cancelPause(schedule)],
  ['.close-trigger', () => closeTrigger()],
  ['[data-close]', (el) => closePanel(el.dataset.close ?? '')],
  ['.older-runs', () => loadRunPage(false)],
  ['.refresh-schedule', () => state.panel && showSchedule(state.panel.name)],
];

/** @param {Event} event */
function onClick(event) {
  const target = /** @type {Element} */ (event.target);
  for (const [selector, action] of CLICKS) {
    const el = /** @type {HTMLElement | null} */ (target.closest?.(selector));
    if (el)
      return action(
        el,
        /** @type {HTMLElement | null} */ (el.closest('[data-schedule]'))?.dataset.schedule ?? '',
      );
  }
}

/** @param {Event} event */
function onChange(event) {
  const el = /** @type {HTMLInputElement} */ (event.target);
  if (el.matches('.switch')) onToggle(el.dataset.schedule ?? '');
  else if (el.matches('[name=state]')) onStateFilter(el);
  else if (el.id === 'window-select') {
    setWindow(el.value);
    poll(true);
  } else if (el.matches('.runs-filter') && state.panel) {
    state.panel.filter = el.value;
    loadRunPage(true);
  }
}

/** @param {SubmitEvent} event */
function onSubmit(event) {
  const form = /** @type {HTMLFormElement} */ (event.target);
  event.preventDefault();
  if (form.id === 'trigger-form') return submitTrigger(form);
  const note = /** @type {HTMLInputElement} */ (form.elements.namedItem('note')).value.trim();
  setSwitch(form.dataset.schedule ?? '', 'pause', note ? { note } : {});
}

/** Escape cancels the form it is typed in, else closes the top panel; Ctrl+Enter runs a trigger. @param {KeyboardEvent} event */
function onKeydown(event) {
  const target = /** @type {Element} */ (event.target);
  const form = /** @type {HTMLFormElement | null} */ (target.closest?.('form'));
  if (event.key === 'Enter' && (event.ctrlKey || event.metaKey) && form?.id === 'trigger-form')
    form.requestSubmit();
  if (event.key !== 'Escape') return;
  if (form?.matches('.pause-form')) return cancelPause(form.dataset.schedule ?? '');
  if (form?.id === 'trigger-form') return closeTrigger();
  const top = ['run-detail', 'schedule-panel'].find((id) => !$(id).hidden);
  if (top) closePanel(top);
}

function start() {
  readUrl();
  setWindow(state.window);
  /** @type {HTMLSelectElement} */ ($('window-select')).value = state.window;
  for (const box of document.querySelectorAll('input[name=state]')) {
    if (box instanceof HTMLInputElement) box.checked = state.states.has(/** @type {RunState} */ (box.value));
  }
  document.addEventListener('click', onClick);
  document.addEventListener('change', onChange);
  document.addEventListener('submit', onSubmit);
  document.addEventListener('keydown', onKeydown);
  window.addEventListener('hashchange', openRunFromHash);
  document.addEventListener('visibilitychange', () => document.hidden || poll(true));
  setInterval(tickRelativeTimes, 1000);
  openRunFromHash();
  poll();
}

start();
