/**
 * Freshness: how long after its event time a transaction was stored (its consumer run committed) and
 * its alert published. A run tallies its rows piece by piece in fine buckets counted in a plain array
 * (no histogram call per message: see FreshnessProbe), and its result carries the counts (see
 * FreshnessSummary), so every process that reads runs — the worker's /metrics, the operations page
 * reading PostgreSQL — merges the same figures.
 */

/** Bounds within a decade: steps of at most 20 %, and 1, 2.5 and 5 exact (the exported buckets' bounds). */
const MANTISSAS = [1, 1.1, 1.2, 1.3, 1.5, 1.7, 2, 2.2, 2.5, 3, 3.5, 4, 4.5, 5, 6, 7, 8, 9];
/** Decades from 1 ms to 10⁸ ms (~28 hours); older than that counts in the last, unbounded bucket. */
const DECADES = 8;

/** Upper bounds of the fine buckets in milliseconds, ascending; the bucket after the last is unbounded. */
export const FINE_BOUNDS_MS: readonly number[] = [
  ...Array.from({ length: DECADES }, (_, decade) =>
    MANTISSAS.map((m) => Number((m * 10 ** decade).toPrecision(3))),
  ).flat(),
  10 ** DECADES,
];
/** Fine buckets, the unbounded one included. */
const BUCKETS = FINE_BOUNDS_MS.length + 1;
const OVERFLOW = 'Inf';

/** The fine bucket of a duration: the first whose upper bound it does not exceed (negatives: the first). */
export function bucketOf(ms: number): number {
  let low = 0;
  let high = FINE_BOUNDS_MS.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ms <= (FINE_BOUNDS_MS[middle] as number)) high = middle;
    else low = middle + 1;
  }
  return low;
}

const lowerBound = (bucket: number) => (bucket === 0 ? 0 : (FINE_BOUNDS_MS[bucket - 1] as number));
/** The unbounded bucket's values are read as its lower bound: a quantile there says "at least". */
const upperBound = (bucket: number) => FINE_BOUNDS_MS[bucket] ?? lowerBound(bucket);

/** One stage of a run's result: its counts by fine bucket (keyed by upper bound in ms, or "Inf"). */
export interface StageSummary {
  count: number;
  sumSeconds: number;
  buckets: Record<string, number>;
}
/** What a consumer run's result says of its freshness (absent: it stored nothing). */
export interface FreshnessSummary {
  stored: StageSummary;
  alerted: StageSummary;
}
export const FRESHNESS_STAGES = ['stored', 'alerted'] as const;
export type FreshnessStage = (typeof FRESHNESS_STAGES)[number];

/** Counts by fine bucket, mergeable (runs, processes); quantiles to within a bucket's width (≤ 20 %). */
export class FreshnessCounts {
  readonly counts: number[] = new Array(BUCKETS).fill(0);
  count = 0;
  sumMs = 0;

  add(ms: number, times = 1): void {
    this.addToBucket(bucketOf(ms), times);
    this.sumMs += Math.max(0, ms) * times;
  }

  addToBucket(bucket: number, times: number): void {
    this.counts[bucket] = (this.counts[bucket] as number) + times;
    this.count += times;
  }

  /** Adds a run's stage (see toSummary); a key that is no bound of this layout is an error. */
  merge(stage: StageSummary): void {
    for (const [key, times] of Object.entries(stage.buckets))
      this.addToBucket(key === OVERFLOW ? BUCKETS - 1 : bucketOfBound(key), times);
    this.sumMs += stage.sumSeconds * 1_000;
  }

  /** The q-quantile in seconds, interpolated within its bucket; null with no observations. */
  quantile(q: number): number | null {
    if (this.count === 0) return null;
    const rank = q * this.count;
    let below = 0;
    for (let bucket = 0; bucket < BUCKETS; bucket++) {
      const inBucket = this.counts[bucket] as number;
      if (inBucket > 0 && below + inBucket >= rank) {
        const low = lowerBound(bucket);
        const share = (rank - below) / inBucket;
        return (low + (upperBound(bucket) - low) * share) / 1_000;
      }
      below += inBucket;
    }
    return upperBound(BUCKETS - 1) / 1_000;
  }

  /** Observations up to `seconds`, which must be a fine bound (the exported buckets are). */
  countUpTo(seconds: number): number {
    const last = bucketOf(seconds * 1_000);
    let total = 0;
    for (let bucket = 0; bucket <= last; bucket++) total += this.counts[bucket] as number;
    return total;
  }

  toSummary(): StageSummary {
    const buckets: Record<string, number> = {};
    this.counts.forEach((times, bucket) => {
      if (times > 0) buckets[FINE_BOUNDS_MS[bucket]?.toString() ?? OVERFLOW] = times;
    });
    return { count: this.count, sumSeconds: this.sumMs / 1_000, buckets };
  }
}

function bucketOfBound(key: string): number {
  const bucket = FINE_BOUNDS_MS.indexOf(Number(key));
  if (bucket < 0) throw new Error(`freshness bucket "${key}" is no bound of this build's layout`);
  return bucket;
}

/**
 * Durations from event times to a moment not known yet (the commit, the publish): each piece's ages
 * at the time it was tallied, in fine buckets, moved by the wait from then to that moment when it
 * comes (each bucket's middle moved: within half a bucket's width, ≤ 10 %). The sum is exact.
 */
class PendingAges {
  /** Per piece: when it was tallied, and its nonzero buckets as [bucket, count] pairs. */
  private readonly pieces: { at: number; buckets: number[] }[] = [];
  private ageSumMs = 0;

  /** Keeps the nonzero buckets of `scratch` (ages at `at`) and clears them. */
  keep(at: number, scratch: Uint32Array, ageSumMs: number): void {
    const buckets: number[] = [];
    for (let bucket = 0; bucket < scratch.length; bucket++) {
      const times = scratch[bucket] as number;
      if (times === 0) continue;
      buckets.push(bucket, times);
      scratch[bucket] = 0;
    }
    if (buckets.length > 0) this.pieces.push({ at, buckets });
    this.ageSumMs += ageSumMs;
  }

  /** The durations from each event time to `at`. */
  until(at: number): FreshnessCounts {
    const result = new FreshnessCounts();
    for (const piece of this.pieces) {
      const waited = Math.max(0, at - piece.at);
      for (let i = 0; i < piece.buckets.length; i += 2) {
        const bucket = piece.buckets[i] as number;
        const times = piece.buckets[i + 1] as number;
        const middle = (lowerBound(bucket) + upperBound(bucket)) / 2;
        result.addToBucket(bucketOf(middle + waited), times);
        result.sumMs += waited * times;
      }
    }
    result.sumMs += this.ageSumMs;
    return result;
  }
}

/** The event-time fields a probe reads of a stored row. */
export interface FreshRow {
  transaction: { timestamp: string };
  prediction: { isFraud: boolean };
}

/**
 * Milliseconds since the epoch of an ISO 8601 UTC time. The usual form (toISOString's, 24 characters,
 * see RunProgress) is read digit by digit; its hour is parsed once while it lasts, known by its digits
 * as a number (a string compare with the hour's text cost twice as much). ~40 ns a row against ~300 ns
 * for Date.parse (Node 24, this machine). Any other form goes to Date.parse.
 */
export class EventTimes {
  /** yyyymmddhh of the hour last parsed, and its time. */
  private hour = -1;
  private hourMs = 0;

  parse(t: string): number {
    if (t.length !== 24 || t.charCodeAt(23) !== Z || t.charCodeAt(19) !== DOT) return Date.parse(t);
    const hour =
      digits(t, 0, 4) * 1_000_000 + digits(t, 5, 2) * 10_000 + digits(t, 8, 2) * 100 + digits(t, 11, 2);
    if (hour !== this.hour) {
      this.hour = hour;
      this.hourMs = Date.parse(`${t.slice(0, 13)}:00:00.000Z`);
    }
    return this.hourMs + digits(t, 14, 2) * 60_000 + digits(t, 17, 2) * 1_000 + digits(t, 20, 3);
  }
}

/** The number written by `count` decimal digits of `text` from `at`. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at; i < at + count; i++) value = value * 10 + text.charCodeAt(i) - ZERO;
  return value;
}

const Z = 'Z'.charCodeAt(0);
const DOT = '.'.charCodeAt(0);
const ZERO = '0'.charCodeAt(0);

/**
 * One consumer run's freshness, fed by the pipeline: `queued` for each piece of rows it stores (once
 * per piece: one clock read; per row one parse, one binary search and an array increment), `committed` when its
 * transaction committed, `published` when its alerts went out. Alerts sent again for redelivered
 * transactions are left out: their event time is not read back.
 */
export class FreshnessProbe {
  private readonly stored = new PendingAges();
  private readonly alerted = new PendingAges();
  private readonly storedScratch = new Uint32Array(BUCKETS);
  private readonly alertedScratch = new Uint32Array(BUCKETS);
  private readonly eventTimes = new EventTimes();
  private committedAt?: number;
  private publishedAt?: number;

  constructor(private readonly now: () => number = Date.now) {}

  queued(rows: readonly FreshRow[]): void {
    if (rows.length === 0) return;
    const at = this.now();
    let storedSum = 0;
    let alertedSum = 0;
    for (const row of rows) {
      const age = Math.max(0, at - this.eventTimes.parse(row.transaction.timestamp));
      const bucket = bucketOf(age);
      this.storedScratch[bucket] = (this.storedScratch[bucket] as number) + 1;
      storedSum += age;
      if (!row.prediction.isFraud) continue;
      this.alertedScratch[bucket] = (this.alertedScratch[bucket] as number) + 1;
      alertedSum += age;
    }
    this.stored.keep(at, this.storedScratch, storedSum);
    this.alerted.keep(at, this.alertedScratch, alertedSum);
  }

  committed(): void {
    this.committedAt = this.now();
  }

  published(): void {
    this.publishedAt = this.now();
  }

  /** The run's figures once it committed (alerted: empty unless its alerts went out); else undefined. */
  summary(): FreshnessSummary | undefined {
    if (this.committedAt === undefined) return undefined;
    const stored = this.stored.until(this.committedAt);
    if (stored.count === 0) return undefined;
    const alerted =
      this.publishedAt === undefined ? new FreshnessCounts() : this.alerted.until(this.publishedAt);
    return { stored: stored.toSummary(), alerted: alerted.toSummary() };
  }
}

/** A run result's `freshness` field, when it has the shape FreshnessProbe.summary gives. */
export function freshnessOf(result: unknown): FreshnessSummary | undefined {
  if (typeof result !== 'object' || result === null) return undefined;
  const freshness = (result as { freshness?: unknown }).freshness;
  if (typeof freshness !== 'object' || freshness === null) return undefined;
  const stages = freshness as Record<string, unknown>;
  return FRESHNESS_STAGES.every((stage) => isStage(stages[stage]))
    ? (freshness as FreshnessSummary)
    : undefined;
}

const isStage = (value: unknown): value is StageSummary =>
  typeof value === 'object' &&
  value !== null &&
  typeof (value as StageSummary).sumSeconds === 'number' &&
  typeof (value as StageSummary).buckets === 'object';
