// @ts-check
/** The schedule panel: a schedule's duration chart and its run history, page by page. */
import { $, api, h, lineChart, messageOf, svg } from '../page.js';
import { loadChanges } from './audit.js';
import { clone, dot, enc, muted, q } from './dom.js';
import { fmtDuration, fmtTime, runTitle } from './format.js';
import { findSchedule, state } from './state.js';

/** @typedef {import('../../../control/views').RunSummary} RunSummary */
/** @typedef {import('../../../control/views').RunPage} RunPage */
/** @typedef {import('./state.js').SchedulePanel} SchedulePanel */

/** The schedule's duration chart and run history; a refresh of the grid leaves it alone. @param {string} name */
export function showSchedule(name) {
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
  loadChanges(root, name);
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
export async function loadRunPage(reset = true) {
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
