// @ts-check
/**
 * tickflow's schedules grid: one row per schedule with its runs as bars on a time strip shared by all
 * rows, a run panel (`#run=<schedule>/<runId>`), a schedule panel (duration chart, run history), the
 * switch and the trigger. Plain ES modules, no build step: this entry wires the page's events to the
 * modules under grid/ and starts polling. The markup lives in grid.html's templates; API data only
 * ever goes in as text (textContent, attributes), never as HTML.
 */

import { filterAudit, loadAuditPage, openAudit } from './grid/audit.js';
import { poll } from './grid/poll.js';
import { tickRelativeTimes } from './grid/rows.js';
import { closePanel, openRunFromHash, showRun } from './grid/run-panel.js';
import { loadRunPage, showSchedule } from './grid/schedule-panel.js';
import { state } from './grid/state.js';
import { cancelPause, onToggle, setSwitch } from './grid/switch.js';
import { closeTrigger, openTrigger, submitTrigger } from './grid/trigger.js';
import { readUrl, writeUrl } from './grid/url.js';
import { $ } from './page.js';

/** @typedef {import('../../control/views').RunState} RunState */

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
  ['#audit-link', () => openAudit()],
  ['#audit-older', () => loadAuditPage(false)],
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
  } else if (el.id === 'audit-schedule') {
    filterAudit(el.value);
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
  const top = ['run-detail', 'audit-panel', 'schedule-panel'].find((id) => !$(id).hidden);
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
