// @ts-check
/** The grid's query in the page's URL (`?window=5m&state=failed`) and the run in its hash (`#run=<schedule>/<runId>`). */
import { STATES, state, WINDOWS } from './state.js';

export function readUrl() {
  const query = new URLSearchParams(location.search);
  const window = query.get('window');
  if (window && WINDOWS.includes(window)) state.window = window;
  const picked = STATES.filter((s) => (query.get('state') ?? '').split(',').includes(s));
  if (picked.length) state.states = new Set(picked);
}

/** `?window=5m[&state=failed,retrying]`: the grid's query, in the page's URL and in the API's. */
export function gridQuery(extra = {}) {
  const query = new URLSearchParams({ window: state.window, ...extra });
  if (state.states.size < STATES.length) query.set('state', [...state.states].join(','));
  return query.toString().replaceAll('%2C', ',');
}

export const writeUrl = () => history.replaceState(history.state, '', `?${gridQuery()}${location.hash}`);

/** The run in `#run=<schedule>/<runId>`, as failure notifications link to it. */
export function runInHash() {
  const [, schedule, runId] = /^#run=([^/]+)\/(.+)$/.exec(location.hash) ?? [];
  if (!schedule || !runId) return null;
  try {
    return { schedule: decodeURIComponent(schedule), runId: decodeURIComponent(runId) };
  } catch {
    return { schedule, runId };
  }
}
