// @ts-check
/**
 * tickflow's live operations page: throughput, fraud rate and consumer lag as line charts, volume by
 * market as bars, the newest fraud alerts. It polls GET /api/v1/operations every few seconds and
 * redraws; charts are inline SVG drawn here (no library, nothing fetched from elsewhere). API data only
 * ever goes in as text or attributes, never as HTML.
 */

import { $, api, BACKOFF_MS, clock, messageOf, setLive } from './page.js';

/** @typedef {import('../../control/operations').OperationsView} OperationsView */
/** @typedef {{ name: string, points: { t: number, v: number }[] }} Series */

const POLL_MS = 3_000;
const SVG = 'http://www.w3.org/2000/svg';
const CHART = { width: 640, height: 180, left: 56, right: 12, top: 12, bottom: 24 };
/** One colour per consumer schedule in the lag chart. */
const PALETTE = ['#0969da', '#8250df', '#bf3989', '#1a7f37', '#c45500'];
const MARKETS_SHOWN = 15;

const whole = new Intl.NumberFormat('en');
const decimal = new Intl.NumberFormat('en', { maximumFractionDigits: 1 });
const percent = new Intl.NumberFormat('en', { style: 'percent', maximumFractionDigits: 2 });

let timer = 0;
/** Bumped by each poll: an answer to a poll that a newer one (a changed span) replaced is dropped. */
let generation = 0;

async function poll() {
  clearTimeout(timer);
  const mine = ++generation;
  const query = new URLSearchParams({ span: selected('span-select'), windowSize: selected('size-select') });
  try {
    const view = /** @type {OperationsView} */ (await api(`/operations?${query}`));
    if (mine !== generation) return;
    render(view);
    setLive(POLL_MS);
    timer = window.setTimeout(poll, POLL_MS);
  } catch (error) {
    if (mine !== generation) return;
    setLive(POLL_MS, messageOf(error));
    timer = window.setTimeout(poll, BACKOFF_MS);
  }
}

/** @param {string} id */
const selected = (id) => /** @type {HTMLSelectElement} */ ($(id)).value;

/** @param {OperationsView} view */
function render(view) {
  const at = (/** @type {string} */ iso) => Date.parse(iso);
  const windows = view.windows;
  const last = windows.at(-1);
  const noRollups = `no ${view.windowSize} rollups in the last ${view.span}: the stream-rollup schedule writes them`;
  lineChart(
    $('chart-throughput'),
    [{ name: 'tx/s', points: windows.map((w) => ({ t: at(w.windowEnd), v: w.perSecond })) }],
    {
      format: (v) => decimal.format(v),
      empty: noRollups,
    },
  );
  $('throughput-now').textContent = last ? `${decimal.format(last.perSecond)} tx/s` : '';
  lineChart(
    $('chart-fraud'),
    [{ name: 'flagged', points: windows.map((w) => ({ t: at(w.windowEnd), v: w.fraudRate })) }],
    {
      format: (v) => percent.format(v),
      empty: noRollups,
    },
  );
  $('fraud-now').textContent = last ? percent.format(last.fraudRate) : '';

  /** @type {Map<string, Series>} */
  const lag = new Map();
  for (const point of view.lag) {
    const series = lag.get(point.schedule) ?? { name: point.schedule, points: [] };
    series.points.push({ t: at(point.at), v: point.lag });
    lag.set(point.schedule, series);
  }
  lineChart($('chart-lag'), [...lag.values()], {
    format: (v) => whole.format(v),
    empty: `no consumer-batch run in the last ${view.span}`,
  });
  const latestLag = [...lag.values()].map((s) => s.points.at(-1)?.v ?? 0);
  $('lag-now').textContent = latestLag.length ? `${whole.format(Math.max(...latestLag))} messages` : '';

  renderMarkets(view.markets);
  renderAlerts(view.alerts);
}

/**
 * A time-series line chart in an <svg>: one polyline per series over a shared time axis, the y axis
 * from 0 to the largest value, the first and last time and the top value as labels.
 * @param {HTMLElement} svg @param {Series[]} series
 * @param {{ format: (v: number) => string, empty: string }} options
 */
function lineChart(svg, series, { format, empty }) {
  const { width, height, left, right, top, bottom } = CHART;
  svg.setAttribute('viewBox', `0 0 ${width} ${height}`);
  svg.replaceChildren();
  const points = series.flatMap((s) => s.points);
  svg.dataset.points = String(points.length);
  if (points.length === 0) {
    svg.append(svgText(width / 2, height / 2, empty, 'empty'));
    return;
  }
  const times = points.map((p) => p.t);
  const t0 = Math.min(...times);
  const t1 = Math.max(...times, t0 + 1);
  const vMax = Math.max(...points.map((p) => p.v)) || 1;
  const x = (/** @type {number} */ t) => left + ((t - t0) / (t1 - t0)) * (width - left - right);
  const y = (/** @type {number} */ v) => top + (1 - v / vMax) * (height - top - bottom);
  svg.append(
    svgElement('line', { class: 'axis', x1: left, x2: width - right, y1: y(0), y2: y(0) }),
    svgElement('line', { class: 'grid', x1: left, x2: width - right, y1: y(vMax), y2: y(vMax) }),
    svgText(left - 6, y(vMax) + 4, format(vMax), 'label end'),
    svgText(left - 6, y(0) + 4, format(0), 'label end'),
    svgText(left, height - 6, clock.format(t0), 'label'),
    svgText(width - right, height - 6, clock.format(t1), 'label end'),
  );
  series.forEach((one, index) => {
    const colour = PALETTE[index % PALETTE.length] ?? PALETTE[0];
    const path = one.points.map((p) => `${x(p.t).toFixed(1)},${y(p.v).toFixed(1)}`).join(' ');
    const line = svgElement('polyline', { class: 'line', points: path, stroke: colour });
    line.append(svgElement('title', {}, one.name));
    const lastPoint = one.points.at(-1);
    svg.append(line);
    if (lastPoint) {
      const dot = svgElement('circle', {
        class: 'last',
        cx: x(lastPoint.t),
        cy: y(lastPoint.v),
        r: 3,
        fill: colour,
      });
      dot.append(
        svgElement('title', {}, `${one.name}: ${format(lastPoint.v)} at ${clock.format(lastPoint.t)}`),
      );
      svg.append(dot);
    }
  });
}

/** @param {string} name @param {Record<string, string | number>} attributes @param {string} [text] */
function svgElement(name, attributes, text) {
  const element = document.createElementNS(SVG, name);
  for (const [key, value] of Object.entries(attributes)) element.setAttribute(key, String(value));
  if (text !== undefined) element.textContent = text;
  return element;
}

/** @param {number} x @param {number} y @param {string} text @param {string} className */
const svgText = (x, y, text, className) => svgElement('text', { x, y, class: className }, text);

/** Horizontal bars, largest market first; the rest are added up as "others". @param {OperationsView['markets']} markets */
function renderMarkets(markets) {
  $('markets-window').textContent = markets.windowEnd
    ? `window ending ${clock.format(Date.parse(markets.windowEnd))}`
    : '';
  const shown = markets.rows.slice(0, MARKETS_SHOWN);
  const rest = markets.rows.slice(MARKETS_SHOWN);
  if (rest.length) {
    shown.push({
      county: `${rest.length} others`,
      transactions: rest.reduce((n, r) => n + r.transactions, 0),
      amount: rest.reduce((n, r) => n + r.amount, 0),
      flagged: rest.reduce((n, r) => n + r.flagged, 0),
    });
  }
  const largest = Math.max(1, ...shown.map((r) => r.transactions));
  const bars = shown.map((row) => {
    const bar = document.createElement('div');
    bar.className = 'market';
    bar.dataset.county = row.county;
    bar.title = `${row.county}: ${whole.format(row.transactions)} transactions, KES ${whole.format(row.amount)}, ${whole.format(row.flagged)} flagged`;
    const name = document.createElement('span');
    name.className = 'market-name';
    name.textContent = row.county;
    const track = document.createElement('span');
    track.className = 'market-track';
    const fill = document.createElement('span');
    fill.className = 'market-fill';
    fill.style.width = `${(100 * row.transactions) / largest}%`;
    const flagged = document.createElement('span');
    flagged.className = 'market-flagged';
    flagged.style.width = `${(100 * row.flagged) / largest}%`;
    track.append(fill, flagged);
    const count = document.createElement('span');
    count.className = 'market-count';
    count.textContent = whole.format(row.transactions);
    bar.append(name, track, count);
    return bar;
  });
  if (bars.length === 0) {
    const none = document.createElement('p');
    none.className = 'empty';
    none.textContent = 'no rollup yet';
    bars.push(none);
  }
  $('markets').replaceChildren(...bars);
}

/** @param {OperationsView['alerts']} alerts */
function renderAlerts(alerts) {
  const rows = alerts.map((alert) => {
    const tr = document.createElement('tr');
    tr.dataset.transaction = alert.transactionId;
    const cells = [
      clock.format(Date.parse(alert.createdAt)),
      alert.transactionId.slice(0, 8),
      alert.accountId,
      alert.county ?? '–',
      alert.channel ?? '–',
      alert.amount === null ? '–' : whole.format(alert.amount),
      alert.score.toFixed(2),
    ];
    cells.forEach((text, index) => {
      const td = document.createElement('td');
      td.textContent = text;
      if (index >= 5) td.className = 'num';
      if (index === 1) td.title = alert.transactionId;
      tr.append(td);
    });
    return tr;
  });
  if (rows.length === 0) {
    const tr = document.createElement('tr');
    const td = document.createElement('td');
    td.colSpan = 7;
    td.className = 'empty';
    td.textContent = 'no fraud alert yet';
    tr.append(td);
    rows.push(tr);
  }
  $('alerts').replaceChildren(...rows);
}

for (const id of ['span-select', 'size-select']) $(id).addEventListener('change', () => void poll());
void poll();
