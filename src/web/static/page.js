// @ts-check
/**
 * What the web pages share: the REST API client, element building (HTML and SVG), the time-series
 * line chart, the clock format and the "live" indicator in the top bar. Each page imports it (ES
 * modules, served as they are: no build step). API data only ever goes in as text or attributes.
 */

/** @typedef {Node | string | null | undefined | false} Child */

export const API = '/api/v1';
/** How long a page waits before polling again after a failed request. */
export const BACKOFF_MS = 10_000;

/** @param {string} id */
export const $ = (id) => /** @type {HTMLElement} */ (document.getElementById(id));

/** @type {Intl.DateTimeFormatOptions} */
export const hms = { timeStyle: 'medium', hourCycle: 'h23' };
export const clock = new Intl.DateTimeFormat(undefined, hms);

/**
 * JSON in and out; a body goes as application/json (the server requires it of every mutation). Throws
 * an Error with the server's `error` as message and its `issues` (`{ field, message }[]`).
 * @param {string} path under /api/v1 @param {{ method?: string, body?: unknown, signal?: AbortSignal }} [options]
 * @returns {Promise<any>}
 */
export async function api(path, { method = 'GET', body, signal } = {}) {
  const json = 'application/json';
  const timeout = AbortSignal.timeout(15_000);
  const response = await fetch(API + path, {
    method,
    headers: body === undefined ? { accept: json } : { accept: json, 'content-type': json },
    body: body === undefined ? undefined : JSON.stringify(body),
    signal: signal ? AbortSignal.any([signal, timeout]) : timeout,
  });
  const data = await response.json().catch(() => null);
  if (response.ok) return data;
  const message = data?.error ?? `${response.status} ${response.statusText}`;
  throw Object.assign(new Error(message), { status: response.status, issues: data?.issues ?? [] });
}

/** @param {unknown} error */
export const messageOf = (error) => (error instanceof Error ? error.message : String(error));

/**
 * The top bar's indicator: live (updated when, refreshed every `pollMs`) or, with an error, disconnected.
 * @param {number} pollMs @param {string} [error]
 */
export function setLive(pollMs, error) {
  const ok = error === undefined;
  $('live').classList.toggle('down', !ok);
  $('live').title = ok ? `refreshes every ${pollMs / 1000} s` : `last error: ${error}`;
  $('live-text').textContent = ok
    ? `live · updated ${clock.format(new Date())}`
    : `disconnected · retrying every ${BACKOFF_MS / 1000} s`;
}

// ---------------------------------------------------------------- elements

/** @param {Child[]} children */
export const present = (children) =>
  /** @type {(Node | string)[]} */ (children.filter((c) => c != null && c !== false));

/**
 * @param {HTMLElement | SVGElement} el
 * @param {Record<string, unknown>} props `text`, `dataset`, or attributes (true: present; null/false: absent)
 */
export function setProps(el, props) {
  for (const [key, value] of Object.entries(props)) {
    if (value == null || value === false) continue;
    if (key === 'text') el.textContent = String(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
}

/**
 * `h('span.badge.warn', { title }, 'text', node)`: an element; strings become text nodes, never markup.
 * @param {string} spec tag, then classes after dots
 * @param {...(Record<string, unknown> | Child)} rest optional props, then children
 */
export function h(spec, ...rest) {
  const [tag, ...classes] = spec.split('.');
  const el = document.createElement(tag || 'div');
  if (classes.length) el.className = classes.join(' ');
  const first = rest[0];
  if (first && typeof first === 'object' && !(first instanceof Node))
    setProps(el, /** @type {any} */ (rest.shift()));
  el.append(...present(/** @type {Child[]} */ (rest)));
  return el;
}

/** An SVG element, props as in `h`. @param {string} tag @param {Record<string, unknown>} props @param {...Child} children */
export function svg(tag, props, ...children) {
  const el = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setProps(el, props);
  el.append(...present(children));
  return el;
}

// ---------------------------------------------------------------- line chart

/**
 * @typedef {object} ChartPoint a value `v` at time `t` (ms since the epoch)
 * @property {number} t
 * @property {number} v
 * @property {Record<string, unknown>} [dot] draws a circle at the point, with these props (class, r, dataset…)
 * @property {string} [title] the dot's tooltip
 */
/** @typedef {{ name?: string, colour?: string, points: ChartPoint[] }} ChartSeries */
/** @typedef {{ width: number, height: number, left: number, right: number, top: number, bottom: number }} ChartFrame */

/**
 * Draws a time-series line chart into `el` (an <svg class="chart-svg">): one polyline per series on a
 * time axis they share (a single instant in the middle), y from 0 up to the largest of `ticks`, a
 * labelled line at each tick, the first and last time under it, and the dots the points ask for.
 * `data-points` counts the points, so that a test can wait for a redraw.
 * @param {SVGElement} el @param {ChartSeries[]} series
 * @param {{ frame: ChartFrame, ticks: number[], formatValue: (v: number) => string,
 *   formatTime: (t: number) => string, empty?: string }} options `empty`: the text shown without points
 */
export function lineChart(el, series, { frame, ticks, formatValue, formatTime, empty = '' }) {
  const { width, height, left, right, top, bottom } = frame;
  const points = series.flatMap((s) => s.points);
  el.setAttribute('viewBox', `0 0 ${width} ${height}`);
  el.dataset.points = String(points.length);
  /** @param {number} x @param {number} y @param {string} text @param {'start' | 'middle' | 'end'} anchor */
  const label = (x, y, text, anchor) => svg('text', { x, y, 'text-anchor': anchor, text });
  if (points.length === 0) {
    el.replaceChildren(label(width / 2, height / 2, empty, 'middle'));
    return;
  }
  const times = points.map((p) => p.t);
  const [t0, t1] = [Math.min(...times), Math.max(...times)];
  const vMax = Math.max(...ticks) || 1;
  const x = (/** @type {number} */ t) =>
    t1 > t0 ? left + ((t - t0) / (t1 - t0)) * (width - left - right) : (left + width - right) / 2;
  const y = (/** @type {number} */ v) => top + (1 - v / vMax) * (height - top - bottom);
  el.replaceChildren(
    ...ticks.flatMap((v) => [
      svg('line', { class: v === 0 ? 'tick base' : 'tick', x1: left, x2: width - right, y1: y(v), y2: y(v) }),
      label(left - 6, y(v) + 4, formatValue(v), 'end'),
    ]),
    label(left, height - 4, formatTime(t0), 'start'),
    label(width - right, height - 4, formatTime(t1), 'end'),
    ...series.map((one) =>
      svg(
        'polyline',
        {
          class: 'chart-line',
          points: one.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' '),
          stroke: one.colour,
        },
        one.name && svg('title', { text: one.name }),
      ),
    ),
    ...points.flatMap(({ t, v, dot, title }) =>
      dot
        ? [svg('circle', { r: 3, ...dot, cx: x(t), cy: y(v) }, title && svg('title', { text: title }))]
        : [],
    ),
  );
}
