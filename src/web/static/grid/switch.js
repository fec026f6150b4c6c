// @ts-check
/** The switch of a row: pausing (with an optional note) and resuming a schedule. */
import { api, messageOf } from '../page.js';
import { clone, enc, q } from './dom.js';
import { poll } from './poll.js';
import { refreshExtra, render } from './rows.js';
import { can, findSchedule, state } from './state.js';

/** @typedef {import('../../../control/views').ScheduleView} ScheduleView */
/** @typedef {import('../../../control/views').SchedulesView} SchedulesView */
/** @typedef {import('./state.js').Row} Row */

/** @param {Row} row @param {string} text */
function setRowMessage(row, text) {
  q(row.extra, '.row-message').textContent = text;
  refreshExtra(row);
}

/** Turning a schedule on resumes it; turning it off asks for an optional note first. @param {string} name */
export function onToggle(name) {
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
export function cancelPause(name) {
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
export async function setSwitch(name, action, body) {
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
    toggle.disabled = !can('toggle');
    refreshExtra(row);
  }
}
