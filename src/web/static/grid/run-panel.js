// @ts-check
/** The run panel (`#run=<schedule>/<runId>`): a run's facts, params, result, attempts and logs; and closing either panel. */
import { $, api, h, messageOf, setProps } from '../page.js';
import { policyFacts } from './audit.js';
import { clone, dot, enc, muted, q } from './dom.js';
import { fmtDuration, fmtTime, triggerText, windowText } from './format.js';
import { runActionsView } from './run-actions.js';
import { state, UNFINISHED } from './state.js';
import { runInHash } from './url.js';

/** @typedef {import('../../../control/views').RunDetail} RunDetail */

/** Opens a run and records it in the URL hash. @param {string} schedule @param {string} runId */
export function showRun(schedule, runId) {
  const hash = `#run=${enc(schedule)}/${enc(runId)}`;
  if (location.hash !== hash) history.pushState(null, '', hash);
  loadRun(schedule, runId);
}

export function openRunFromHash() {
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
    // A note being written, or a cancel waiting for its confirmation, is not redrawn away.
    if (refresh && body.querySelector('.note-form:not([hidden]), .cancel-run[data-confirm=yes]')) return;
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
export function refreshOpenRun() {
  const open = state.run;
  if (open?.detail && UNFINISHED.has(open.detail.state)) loadRun(open.schedule, open.runId, true);
}

/** @param {RunDetail} d */
function runDetailView(d) {
  const view = clone('run-template');
  setProps(q(view, '.state-badge'), { text: d.state, class: `state-badge state-${d.state}` });
  q(view, '.run-actions-slot').replaceWith(runActionsView(d, (runId) => showRun(d.schedule, runId)));
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
    ...policyFacts(d),
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

/** @param {string} id `run-detail` or `schedule-panel` */
export function closePanel(id) {
  $(id).hidden = true;
  if (id === 'schedule-panel') state.panel = null;
  if (id !== 'run-detail') return;
  state.run = null;
  if (runInHash()) history.replaceState(history.state, '', `${location.pathname}${location.search}`);
}
