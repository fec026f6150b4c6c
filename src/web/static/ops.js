// @ts-check
/**
 * tickflow's live operations page: throughput, fraud rate and consumer lag as line charts, freshness
 * (p50/p99 from event time to stored and to alert published), volume by market as bars, the newest
 * fraud alerts. It polls GET /api/v1/operations every few seconds and
 * redraws; charts are inline SVG drawn by page.js's lineChart (no library, nothing fetched from
 * elsewhere). API data only ever goes in as text or attributes, never as HTML.
 */

import { $, api, BACKOFF_MS, clock, h, lineChart, messageOf, setLive } from './page.js';

/** @typedef {import('../../control/operations').OperationsView} OperationsView */
/** @typedef {import('./page.js').ChartSeries} ChartSeries */
/** @typedef {{ t: number, v: number }[]} Points */

const POLL_MS = 3_000;
const FRAME = { width: 640, height: 180, left: 56, right: 12, top: 12, bottom: 24 };
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
  const throughput = windows.map((w) => ({ t: at(w.windowEnd), v: w.perSecond }));
  drawChart('chart-throughput', [['tx/s', throughput]], (v) => decimal.format(v), noRollups);
  $('throughput-now').textContent = last ? `${decimal.format(last.perSecond)} tx/s` : '';
  const fraud = windows.map((w) => ({ t: at(w.windowEnd), v: w.fraudRate }));
  drawChart('chart-fraud', [['flagged', fraud]], (v) => percent.format(v), noRollups);
  $('fraud-now').textContent = last ? percent.format(last.fraudRate) : '';

  /** @type {Map<string, Points>} */
  const lag = new Map();
  for (const point of view.lag) {
    const points = lag.get(point.schedule) ?? [];
    points.push({ t: at(point.at), v: point.lag });
    lag.set(point.schedule, points);
  }
  const noRuns = `no consumer-batch run in the last ${view.span}`;
  drawChart('chart-lag', [...lag], (v) => whole.format(v), noRuns);
  const latestLag = [...lag.values()].map((points) => points.at(-1)?.v ?? 0);
  $('lag-now').textContent = latestLag.length ? `${whole.format(Math.max(...latestLag))} messages` : '';

  renderFreshness(view.freshness, noRuns);
  renderMarkets(view.markets);
  renderAlerts(view.alerts);
}

/** What each stage of freshness measures, as the table says it. */
const STAGES = /** @type {const} */ ([
  ['stored', 'stored'],
  ['alerted', 'alert published'],
]);

/** p50 and p99 per stage, over the consumer runs in the span. @param {OperationsView['freshness']} freshness @param {string} empty */
function renderFreshness(freshness, empty) {
  const rows = STAGES.filter(([stage]) => freshness[stage].count > 0).map(([stage, label]) => {
    const { p50, p99, count } = freshness[stage];
    return h(
      'tr',
      { dataset: { stage } },
      h('td', label),
      h('td.num.p50', seconds(p50)),
      h('td.num.p99', seconds(p99)),
      h('td.num', whole.format(count)),
    );
  });
  if (rows.length === 0) rows.push(h('tr', h('td.empty', { colspan: 4 }, empty)));
  $('freshness').replaceChildren(...rows);
}

/** A duration in seconds as ms, s or min. @param {number | null} value */
function seconds(value) {
  if (value === null) return '–';
  if (value < 1) return `${whole.format(Math.round(value * 1_000))} ms`;
  if (value < 120) return `${decimal.format(value)} s`;
  return `${decimal.format(value / 60)} min`;
}

/**
 * One of the page's line charts: a line per named series in its own colour, its newest point marked
 * (the value now, on hover), y from 0 to the largest value.
 * @param {string} id the <svg>'s @param {[string, Points][]} named @param {(v: number) => string} format
 * @param {string} empty what it says without points
 */
function drawChart(id, named, format, empty) {
  /** @type {ChartSeries[]} */
  const series = named.map(([name, points], index) => {
    const colour = PALETTE[index % PALETTE.length];
    const newest = points.length - 1;
    const marked = points.map((p, i) =>
      i === newest
        ? {
            ...p,
            dot: { class: 'last', fill: colour },
            title: `${name}: ${format(p.v)} at ${clock.format(p.t)}`,
          }
        : p,
    );
    return { name, colour, points: marked };
  });
  const top = Math.max(0, ...named.flatMap(([, points]) => points.map((p) => p.v))) || 1;
  lineChart(/** @type {SVGElement} */ (/** @type {unknown} */ ($(id))), series, {
    frame: FRAME,
    ticks: [0, top],
    formatValue: format,
    formatTime: (t) => clock.format(t),
    empty,
  });
}

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
    const width = (/** @type {number} */ n) => `width: ${(100 * n) / largest}%`;
    return h(
      'div.market',
      {
        dataset: { county: row.county },
        title: `${row.county}: ${whole.format(row.transactions)} transactions, KES ${whole.format(row.amount)}, ${whole.format(row.flagged)} flagged`,
      },
      h('span.market-name', row.county),
      h(
        'span.market-track',
        h('span.market-fill', { style: width(row.transactions) }),
        h('span.market-flagged', { style: width(row.flagged) }),
      ),
      h('span.market-count', whole.format(row.transactions)),
    );
  });
  if (bars.length === 0) bars.push(h('p.empty', 'no rollup yet'));
  $('markets').replaceChildren(...bars);
}

/** @param {OperationsView['alerts']} alerts */
function renderAlerts(alerts) {
  const rows = alerts.map((alert) =>
    h(
      'tr',
      { dataset: { transaction: alert.transactionId } },
      h('td', clock.format(Date.parse(alert.createdAt))),
      h('td', { title: alert.transactionId }, alert.transactionId.slice(0, 8)),
      h('td', alert.accountId),
      h('td', alert.county ?? '–'),
      h('td', alert.channel ?? '–'),
      h('td.num', alert.amount === null ? '–' : whole.format(alert.amount)),
      h('td.num', alert.score.toFixed(2)),
    ),
  );
  if (rows.length === 0) rows.push(h('tr', h('td.empty', { colspan: 7 }, 'no fraud alert yet')));
  $('alerts').replaceChildren(...rows);
}

for (const id of ['span-select', 'size-select']) $(id).addEventListener('change', () => void poll());
void poll();
