// @ts-check
/**
 * The audit log in the grid: the "Audit log" panel (every change, newest first, a schedule at a time
 * or all, page by page) and a schedule panel's "Changes" section; the failure policy's and the
 * versions' facts of a run (deadline, skipped slots, spec and code version).
 */
import { $, api, h, messageOf } from '../page.js';
import { enc, muted, q } from './dom.js';
import { fmtTime, skippedText } from './format.js';
import { state } from './state.js';

/** @typedef {import('../../../control/audit-views').AuditEntryView} AuditEntryView */
/** @typedef {import('../../../control/audit-views').AuditPage} AuditPage */
/** @typedef {import('../../../control/views').RunDetail} RunDetail */
/** @typedef {import('../../../control/views').ScheduleView} ScheduleView */

/** The audit panel's filter, its next page and the request that counts (a newer one wins). */
const panel = { schedule: '', next: /** @type {string | null} */ (null), seq: 0 };

/** Opens the audit log panel, all schedules (or the one filtered before). */
export function openAudit() {
  const select = /** @type {HTMLSelectElement} */ ($('audit-schedule'));
  const names = state.view?.schedules.map((s) => s.name) ?? [];
  select.replaceChildren(h('option', { value: '' }, 'all schedules'), ...names.map((n) => h('option', n)));
  select.value = names.includes(panel.schedule) ? panel.schedule : '';
  panel.schedule = select.value;
  $('audit-panel').hidden = false;
  loadAuditPage(true);
}

/** @param {string} schedule '' for all */
export function filterAudit(schedule) {
  panel.schedule = schedule;
  loadAuditPage(true);
}

/** A page of the log: `reset` starts over, else appends older entries. */
export async function loadAuditPage(reset = true) {
  const seq = ++panel.seq;
  const query = new URLSearchParams({ limit: '50' });
  if (panel.schedule) query.set('schedule', panel.schedule);
  if (!reset && panel.next) query.set('before', panel.next);
  const list = $('audit-list');
  const more = /** @type {HTMLButtonElement} */ ($('audit-older'));
  more.disabled = true;
  try {
    /** @type {AuditPage} */
    const page = await api(`/audit?${query}`);
    if (seq !== panel.seq) return;
    if (reset) list.replaceChildren();
    list.append(...page.entries.map((entry) => entryItem(entry, !panel.schedule)));
    if (reset && !page.entries.length) list.append(h('li', muted('no changes recorded')));
    panel.next = page.next;
    more.hidden = !page.next;
  } catch (error) {
    list.append(h('li.load-error', messageOf(error)));
  } finally {
    more.disabled = false;
  }
}

/** A schedule panel's "Changes": its latest 20 entries. @param {HTMLElement} root @param {string} name */
export async function loadChanges(root, name) {
  const list = q(root, '.changes-list');
  try {
    /** @type {AuditPage} */
    const page = await api(`/audit?schedule=${enc(name)}&limit=20`);
    list.replaceChildren(...page.entries.map((entry) => entryItem(entry, false)));
    if (!page.entries.length) list.append(h('li', muted('no changes recorded')));
  } catch (error) {
    list.replaceChildren(h('li.load-error', messageOf(error)));
  }
}

/**
 * One entry: when, who, what (the schedule, and the run that opens its panel), the line.
 * @param {AuditEntryView} entry @param {boolean} withSchedule
 */
function entryItem(entry, withSchedule) {
  const run =
    entry.runId && entry.schedule
      ? h(
          'button.link.mono',
          { type: 'button', dataset: { schedule: entry.schedule, openRun: entry.runId } },
          entry.runId,
        )
      : null;
  return h(
    'li.audit-entry',
    { dataset: { action: entry.action } },
    h('span.audit-when', { title: entry.at }, fmtTime(entry.at)),
    h('span.audit-by', entry.by),
    h('span.audit-action', entry.action),
    withSchedule && entry.schedule ? h('span.audit-schedule', entry.schedule) : null,
    run,
    h('span.audit-what', entry.what),
  );
}

/** The failure policy's badges of a row: pauseAfter and deadline. @param {ScheduleView} s */
export const policyBadges = (s) => [
  s.pauseAfter !== null &&
    h(
      'span.badge',
      { title: `the ${s.pauseAfter}th failed run in a row pauses the schedule` },
      `pauses after ${s.pauseAfter}`,
    ),
  s.deadline !== null &&
    h(
      'span.badge',
      { title: `a run not finished ${s.deadline} after its due time is flagged (and notified)` },
      `deadline ${s.deadline}`,
    ),
];

/** Where a schedule's notices go, for a badge's title. @param {NonNullable<ScheduleView['notify']>} n */
export const notifyTitle = (n) =>
  [
    n.onFailure && `on failure (after ${n.after} in a row): ${n.onFailure}`,
    n.onRecovery && `on recovery: ${n.onRecovery}`,
    n.onDeadline && `on a missed deadline: ${n.onDeadline}`,
    n.onPause && `on a pause by pauseAfter: ${n.onPause}`,
  ]
    .filter(Boolean)
    .join('\n');

/** The run panel's facts of the failure policy and the versions. @param {RunDetail} d */
export function policyFacts(d) {
  const spec = d.spec
    ? `${d.spec.version}${d.spec.by ? ` · set by ${d.spec.by}${d.spec.at ? ` at ${fmtTime(d.spec.at)}` : ''}` : ''}${d.spec.what ? `: ${d.spec.what}` : ''}`
    : (d.specVersion ?? '—');
  return {
    deadline: d.deadlineMissedAt ? `missed (flagged at ${fmtTime(d.deadlineMissedAt)})` : '—',
    skipped: skippedText(d),
    spec,
    code: d.codeVersion ?? '—',
  };
}
