// @ts-check
/** Triggering a run: the inline form under a schedule's row, its params as JSON, the server's answer. */
import { api, h, messageOf, present } from '../page.js';
import { clone, enc, muted, q } from './dom.js';
import { poll } from './poll.js';
import { refreshExtra } from './rows.js';
import { findSchedule, state } from './state.js';

/** @typedef {import('../../../control/views').TriggeredRun} TriggeredRun */
/** @typedef {import('../page.js').Child} Child */

/**
 * The inline form under the schedule's row, prefilled with the params a trigger may override (and
 * their values in the file); one at a time. The others come from schedules.yaml, which says which
 * may be overridden (`overridable:`). @param {string} name
 */
export function openTrigger(name) {
  const open = document.getElementById('trigger-form');
  if (open?.dataset.schedule === name) return q(open, 'textarea').focus();
  closeTrigger();
  const row = state.rows.get(name);
  if (!row) return;
  const form = q(clone('trigger-template'), 'form');
  form.dataset.schedule = name;
  q(form, '.trigger-name').textContent = name;
  const textarea = /** @type {HTMLTextAreaElement} */ (q(form, 'textarea'));
  const schedule = findSchedule(name);
  const overridable = schedule?.overridable ?? [];
  const params = schedule?.params ?? {};
  textarea.value = JSON.stringify(
    Object.fromEntries(overridable.filter((key) => key in params).map((key) => [key, params[key]])),
    null,
    2,
  );
  q(form, '.trigger-overridable').textContent = overridable.length
    ? `may override: ${overridable.join(', ')}`
    : 'nothing may be overridden (schedules.yaml: overridable)';
  textarea.rows = Math.min(14, textarea.value.split('\n').length + 1);
  q(row.extra, '.trigger-slot').replaceChildren(form);
  refreshExtra(row);
  textarea.focus();
}

export function closeTrigger() {
  const form = document.getElementById('trigger-form');
  const row = state.rows.get(form?.dataset.schedule ?? '');
  form?.remove();
  if (row) refreshExtra(row);
}

/** Checks the JSON here, then shows the server's answer: the run, or each issue of a 400. @param {HTMLElement} form */
export async function submitTrigger(form) {
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
