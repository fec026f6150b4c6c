// @ts-check
/** The grid's state (the window and states shown, the last view, open rows and panels) and its constants. */

/** @typedef {import('../../../control/views').RunState} RunState */
/** @typedef {import('../../../control/views').RunDetail} RunDetail */
/** @typedef {import('../../../control/views').SchedulesView} SchedulesView */
/** @typedef {import('../../session').SessionView} SessionView */
/** @typedef {keyof SessionView['can']} Action */
/** @typedef {NonNullable<SchedulesView['window']>} GridWindow */
/** @typedef {{ tr: HTMLElement, extra: HTMLElement }} Row a schedule's row and the row of its inline forms */
/** @typedef {{ name: string, filter: string, next: string | null, seq: number, root: HTMLElement }} SchedulePanel */

/** @type {readonly RunState[]} */
export const STATES = ['waiting', 'queued', 'active', 'retrying', 'completed', 'failed', 'cancelled'];
export const UNFINISHED = new Set(['waiting', 'queued', 'active', 'retrying']);
export const WINDOWS = ['1m', '5m', '15m', '1h', '6h', '24h'];
export const POLL_MS = 2000;

export const state = {
  window: '5m',
  /** @type {Set<RunState>} */
  states: new Set(STATES),
  /** @type {SchedulesView | null} */
  view: null,
  /** Who is looking and what they may do (GET /api/v1/me), read once. @type {SessionView | null} */
  session: null,
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

/**
 * Whether the person looking may do `action` here: their role allows it and the server is not
 * read-only. Until the session is known, nothing is offered.
 * @param {Action} action
 */
export const can = (action) => Boolean(state.session?.can[action]) && !state.view?.readOnly;

/** Why a control is not offered, for its title. */
export const whyNot = () =>
  state.view?.readOnly || state.session?.readOnly
    ? 'read-only server'
    : `${state.session?.user ?? 'you'} is a ${state.session?.role ?? 'viewer'}: pausing and triggering need the operator role`;

/** @param {string} name */
export const findSchedule = (name) => state.view?.schedules.find((s) => s.name === name);
