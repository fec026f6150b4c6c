// @ts-check
/**
 * What a person can do to the open run, in its panel: cancel it (waiting or running, on whichever
 * worker holds it), re-run it (finished: the same window, its params or the file's), mark it
 * completed or failed (finished), and leave a note (any state). Each is one API call; the panel then
 * shows the run again (or, after a re-run, the new one). Offered only when the server and the
 * caller's role allow changes; what was done to the run (who cancelled, marked or noted it, which
 * run it re-runs and which re-ran it) is shown to everyone.
 */
import { api, h, messageOf, present } from '../page.js';
import { enc } from './dom.js';
import { fmtTime } from './format.js';
import { state, UNFINISHED } from './state.js';

/** @typedef {import('../../../control/views').RunDetail} RunDetail */
/** @typedef {import('../../../control/views').CancelledRun} CancelledRun */
/** @typedef {import('../../../control/views').RerunView} RerunView */
/** @typedef {import('../page.js').Child} Child */

/** The longest note the server takes. */
const MAX_NOTE = 2000;
/** How long a cancel waits for its confirming click. */
const CONFIRM_MS = 5_000;

/** Changes are offered unless the server is read-only or the caller is a viewer (GET /me's role). */
const mayOperate = () => !state.view?.readOnly && document.body.dataset.role !== 'viewer';

/**
 * The run's actions and what was done to it, for the run panel. `reopen(runId)` shows a run again:
 * this one after a change, or the new one after a re-run.
 * @param {RunDetail} d @param {(runId: string) => void} reopen
 */
export function runActionsView(d, reopen) {
  const status = h('div.form-status.run-action-status', { role: 'status' });
  /** @param {string} text @param {'ok' | 'error' | 'ask'} [kind] */
  const say = (text, kind = 'ok') =>
    status.replaceChildren(h({ ok: 'p.form-ok', error: 'p.form-error', ask: 'p.form-ask' }[kind], text));
  const path = `/schedules/${enc(d.schedule)}/runs/${enc(d.runId)}`;

  /**
   * Runs an action with its buttons disabled; shows the server's refusal (a 409 says why).
   * @param {HTMLElement} root @param {() => Promise<void>} work
   */
  const act = async (root, work) => {
    const buttons = [...root.querySelectorAll('button')];
    for (const b of buttons) b.disabled = true;
    status.replaceChildren(h('span.muted', 'working…'));
    try {
      // The grid's own poll shows the change within its 2 s.
      await work();
    } catch (error) {
      say(messageOf(error), 'error');
    } finally {
      for (const b of buttons) b.disabled = false;
    }
  };

  const bar = h('div.run-actions');
  const finished = !UNFINISHED.has(d.state);
  if (mayOperate()) {
    if (!finished) bar.append(cancelButton(bar, path, act, say, d, reopen));
    if (finished) bar.append(...rerunControls(bar, path, act, say, d, reopen));
    if (finished)
      bar.append(
        ...['completed', 'failed']
          .filter((s) => s !== d.state)
          .map((markAs) =>
            button(`button.button.ghost.mark-button`, `Mark ${markAs}`, () =>
              act(bar, async () => {
                await api(`${path}/mark`, { method: 'POST', body: { state: markAs } });
                reopen(d.runId);
              }),
            ),
          ),
      );
    bar.append(
      button('button.button.ghost.note-button', d.note ? 'Edit note' : 'Add note', () => noteForm.toggle()),
    );
  }
  const noteForm = noteEditor(path, act, d, reopen);
  return h('div.run-actions-part', bar, noteForm.root, status, doneToRun(d));
}

/**
 * Cancel, with a confirmation in place (a second click within the same panel).
 * @param {HTMLElement} bar @param {string} path
 * @param {(root: HTMLElement, work: () => Promise<void>) => Promise<void>} act
 * @param {(text: string, kind?: 'ok' | 'error' | 'ask') => void} say @param {RunDetail} d @param {(runId: string) => void} reopen
 */
function cancelButton(bar, path, act, say, d, reopen) {
  const cancel = button('button.button.danger.cancel-run', 'Cancel run', () => {
    if (cancel.dataset.confirm !== 'yes') {
      cancel.dataset.confirm = 'yes';
      cancel.textContent = 'Confirm cancel';
      say(
        `cancel run ${d.runId}? it is ${d.state}: click again within ${CONFIRM_MS / 1000} s to cancel it`,
        'ask',
      );
      // Not confirmed: the button (and the panel's refresh) is back to normal.
      setTimeout(() => {
        if (cancel.dataset.confirm !== 'yes' || cancel.disabled) return;
        delete cancel.dataset.confirm;
        cancel.textContent = 'Cancel run';
        say('not cancelled', 'ask');
      }, CONFIRM_MS);
      return;
    }
    act(bar, async () => {
      /** @type {CancelledRun} */
      const done = await api(`${path}/cancel`, { method: 'POST', body: {} });
      reopen(d.runId);
      if (done.outcome === 'requested')
        say('cancel requested: the worker holding the run aborts it within a second');
    });
  });
  return cancel;
}

/**
 * Re-run, and whether with the file's params instead of the run's own.
 * @param {HTMLElement} bar @param {string} path
 * @param {(root: HTMLElement, work: () => Promise<void>) => Promise<void>} act
 * @param {(text: string, kind?: 'ok' | 'error' | 'ask') => void} _say @param {RunDetail} d @param {(runId: string) => void} reopen
 */
function rerunControls(bar, path, act, _say, d, reopen) {
  const current = /** @type {HTMLInputElement} */ (h('input.rerun-current', { type: 'checkbox' }));
  const rerun = button('button.button.primary.rerun-button', 'Re-run', () =>
    act(bar, async () => {
      /** @type {RerunView} */
      const run = await api(`${path}/rerun`, { method: 'POST', body: { currentParams: current.checked } });
      reopen(run.runId);
    }),
  );
  rerun.title = `a new run of the same window (${d.window ? `${fmtTime(d.window.from)} → ${fmtTime(d.window.to)}` : 'as it would have had'})`;
  return [rerun, h('label.rerun-option', current, " with the file's params")];
}

/**
 * The note's inline form: a textarea (at most 2,000 characters) and Save; empty clears the note.
 * @param {string} path @param {(root: HTMLElement, work: () => Promise<void>) => Promise<void>} act
 * @param {RunDetail} d @param {(runId: string) => void} reopen
 */
function noteEditor(path, act, d, reopen) {
  const textarea = /** @type {HTMLTextAreaElement} */ (
    h('textarea.note-text', { rows: 3, maxlength: MAX_NOTE, 'aria-label': 'note on the run' })
  );
  textarea.value = d.note?.text ?? '';
  const root = h(
    'form.note-form',
    { hidden: true },
    textarea,
    h(
      'div.form-actions',
      h('button.button.primary.save-note', { type: 'submit' }, 'Save note'),
      h('span.muted', `at most ${MAX_NOTE} characters; empty clears the note`),
    ),
  );
  root.addEventListener('submit', (event) => {
    event.preventDefault();
    event.stopPropagation();
    act(root, async () => {
      await api(`${path}/note`, { method: 'POST', body: { note: textarea.value } });
      reopen(d.runId);
    });
  });
  return {
    root,
    toggle() {
      root.hidden = !root.hidden;
      if (!root.hidden) textarea.focus();
    },
  };
}

/** Who cancelled, marked or noted the run, and the re-runs it is part of. @param {RunDetail} d */
function doneToRun(d) {
  /** @param {string} runId */
  const link = (runId) =>
    h('button.link', { type: 'button', dataset: { schedule: d.schedule, openRun: runId } }, runId);
  const lines = present([
    d.rerunOf && h('p.run-done.rerun-of', 're-runs ', link(d.rerunOf)),
    d.reruns.length > 0 &&
      h(
        'p.run-done.reruns',
        're-run as ',
        ...d.reruns.flatMap((id, i) => (i ? [', ', link(id)] : [link(id)])),
      ),
    d.cancelledBy && h('p.run-done.cancelled-by', `cancelled by ${d.cancelledBy}`),
    d.marked &&
      h(
        'p.run-done.marked',
        `marked ${d.state} by ${d.marked.by} at ${fmtTime(d.marked.at)} (it was ${d.marked.from})`,
      ),
    d.note &&
      h(
        'blockquote.run-note',
        h('p.note-body', d.note.text),
        h('footer.muted', `— ${d.note.by}, ${fmtTime(d.note.at)}`),
      ),
  ]);
  return lines.length ? h('div.run-done-list', ...lines) : null;
}

/** @param {string} spec @param {string} text @param {() => void} onClick */
function button(spec, text, onClick) {
  const el = /** @type {HTMLButtonElement} */ (h(spec, { type: 'button' }, text));
  el.addEventListener('click', (event) => {
    event.stopPropagation();
    onClick();
  });
  return el;
}
