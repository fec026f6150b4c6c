// @ts-check
/** Polling the grid's view: every 2 s, backing off to 10 s on errors or while the page is hidden. */
import { api, BACKOFF_MS, messageOf, setLive } from '../page.js';
import { render } from './rows.js';
import { refreshOpenRun } from './run-panel.js';
import { POLL_MS, state } from './state.js';
import { gridQuery } from './url.js';

/** @param {number} ms */
function schedulePoll(ms) {
  clearTimeout(state.timer);
  state.timer = setTimeout(poll, ms);
}

/**
 * Reads the grid: skipped while a request is in flight, unless `restart` (the query changed), which
 * abandons that request. Errors back off to 10 s and show "disconnected".
 */
export async function poll(restart = false) {
  if (state.inFlight && !restart) return;
  state.inFlight?.abort();
  const controller = new AbortController();
  state.inFlight = controller;
  clearTimeout(state.timer);
  // About one run per pixel of strip: more could not be told apart.
  const perRow = Math.min(400, Math.max(100, document.querySelector('.strip')?.clientWidth || 300));
  try {
    const [view, session] = await Promise.all([
      api(`/schedules?${gridQuery({ perRow })}`, { signal: controller.signal }),
      state.session ?? api('/me', { signal: controller.signal }),
    ]);
    state.session = session;
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
