import { countries, currencyOfCountry, fromKes } from './money';
import { isNight } from './nairobi-time';
import { type Account, type Merchant, type Population, population } from './population';
import { Random, weights } from './random';
import type { Channel, FraudPattern, Transaction } from './transaction';

export interface SimulationOptions {
  count: number;
  /** Share of messages that are fraud, 0–1. */
  fraudRate: number;
  seed: number;
  /**
   * A replay: the last transaction happens at endAt (default now) and earlier ones go back with the
   * gaps of a 5,000-account population (one every ~4 s), however many there are.
   */
  endAt?: Date;
  /**
   * Instead of endAt, live: every transaction happens within this stretch of wall-clock time, as a
   * Poisson stream would fill it. Nothing is stamped after `to`; bursts may start before `from`.
   */
  window?: { from: Date; to: Date };
  /** Who transacts (default: the 5,000 accounts); size it to the rate with `populationForRate`. */
  population?: Population;
}

export const SOURCE = 'tickflow-simulator';
/** A replay's gaps: ~5,000 accounts making ~4 transactions a day each, one every ~4 s overall. */
const MEAN_GAP_MS = 4_000;
/** Mean number of messages a fraud event makes (a burst makes several), to hit `fraudRate`. */
const MESSAGES_PER_FRAUD_EVENT = 1.85;

const CHANNELS = weights<Channel>({ mobile_money: 5, card: 3, online: 1.2, bank_transfer: 0.8 });
// Weights per fraud event; a burst makes ~6 messages, so the message mix is roughly even.
const DAY_PATTERNS = weights<FraudPattern>({ amount_spike: 2, burst: 0.4, new_device_abroad_night: 0 });
const NIGHT_PATTERNS = weights<FraudPattern>({ amount_spike: 2, burst: 0.4, new_device_abroad_night: 12 });

/** A reproducible stream of transactions with fraud at `fraudRate`, each labelled with its truth. */
export function simulate(options: SimulationOptions): Transaction[] {
  return new Simulation(options).take(options.count);
}

/**
 * The same stream as `simulate`, drawn in pieces: a producer can send one piece while it makes the
 * next, without holding every transaction of a large run in memory at once.
 */
export class Simulation {
  private readonly random: Random;
  private readonly people: Population;
  private readonly times: Float64Array;
  private readonly eventRate: number;
  /** Messages of a fraud burst not yet taken. */
  private pending: Transaction[] = [];
  private made = 0;

  constructor(readonly options: SimulationOptions) {
    this.random = new Random(options.seed);
    this.people = options.population ?? population();
    this.times = options.window
      ? timesWithin(options.count, options.window.from.getTime(), options.window.to.getTime(), this.random)
      : eventTimes(options.count, (options.endAt ?? new Date()).getTime(), this.random);
    this.eventRate =
      options.fraudRate / (MESSAGES_PER_FRAUD_EVENT - options.fraudRate * (MESSAGES_PER_FRAUD_EVENT - 1));
  }

  /** How many transactions are left to take. */
  get remaining(): number {
    return this.options.count - this.made;
  }

  /** The next `max` transactions of the stream (fewer at its end). */
  take(max: number): Transaction[] {
    const want = Math.min(max, this.remaining);
    const piece: Transaction[] = [];
    const random = this.random;
    while (piece.length < want) {
      const waiting = this.pending.shift();
      if (waiting) {
        piece.push(waiting);
        continue;
      }
      const at = this.times[this.made + piece.length] as number;
      const account = this.people.pick(random);
      // Fraud is likelier while the owners sleep.
      if (random.chance(isNight(at) ? 3 * this.eventRate : this.eventRate)) {
        const event = fraudEvent(random, this.people, account, at);
        // The stream stops at `count`, even in the middle of a burst.
        this.pending = event.slice(0, this.remaining - piece.length);
      } else {
        piece.push(normalTransaction(random, this.people, account, at));
      }
    }
    this.made += piece.length;
    return piece;
  }
}

/**
 * `count` arrival times in order within (from, to]: exponential gaps scaled to fit, which is how a
 * Poisson stream with `count` arrivals in that stretch looks. The rate is the schedule's, so no
 * night-time thinning here (a replay has it); fraud still prefers the night.
 */
function timesWithin(count: number, from: number, to: number, random: Random): Float64Array {
  const gaps = new Float64Array(count + 1);
  let total = 0;
  for (let index = 0; index <= count; index++) total += gaps[index] = random.exponential(1);
  const times = new Float64Array(count);
  const scale = (to - from) / total;
  let sum = 0;
  for (let index = 0; index < count; index++) {
    sum += gaps[index] as number;
    // Floor, not round: a time rounded up past `to` would be in the future when `to` is now.
    times[index] = Math.min(to, Math.floor(from + sum * scale));
  }
  return times;
}

/** Arrival times walked back from `endAt`: fewer transactions at night, as in real life. */
function eventTimes(count: number, endAt: number, random: Random): Float64Array {
  const times = new Float64Array(count);
  let at = endAt;
  for (let index = count - 1; index >= 0; index--) {
    times[index] = Math.round(at);
    at -= random.exponential(MEAN_GAP_MS) / (isNight(at) ? 0.3 : 1);
  }
  return times;
}

function normalTransaction(random: Random, people: Population, account: Account, at: number): Transaction {
  const travelling = account.travelCountries.length > 0 && random.chance(0.05);
  const country = travelling ? random.pick(account.travelCountries) : account.homeCountry;
  // Now and then a legitimate big payment (rent, school fees) or a new phone.
  const amountKes = account.usualAmountKes * Math.exp(0.5 * random.normal()) * (random.chance(0.01) ? 8 : 1);
  const deviceId = random.chance(0.003) ? random.deviceId() : random.pick(account.devices);
  const channel = random.weighted(CHANNELS);
  // Fields spelt out, not spread from payee(): in V8 a spread followed by more fields takes a slow
  // path (~1 µs), and this runs once per message.
  const to = payee(random, people, account, channel);
  return transaction(random, account, at, {
    channel: to.channel,
    counterparty: to.counterparty,
    merchant: to.merchant,
    category: to.category,
    amountKes,
    country,
    deviceId,
    pattern: null,
  });
}

function fraudEvent(random: Random, people: Population, account: Account, at: number): Transaction[] {
  const pattern = random.weighted(isNight(at) ? NIGHT_PATTERNS : DAY_PATTERNS);
  if (pattern === 'amount_spike') return [amountSpike(random, account, at)];
  if (pattern === 'burst') return burst(random, account, at);
  return [newDeviceAbroadAtNight(random, people, account, at)];
}

/** A take-over cashing out: one transfer far above the account's habit, to a stranger. */
function amountSpike(random: Random, account: Account, at: number): Transaction {
  return transaction(random, account, at, {
    channel: 'mobile_money',
    counterparty: random.kenyanPhone(),
    merchant: 'M-Pesa Send Money',
    category: 'p2p_transfer',
    amountKes: account.usualAmountKes * random.uniform(8, 40),
    country: account.homeCountry,
    deviceId: random.pick(account.devices),
    pattern: 'amount_spike',
  });
}

/** Several quick transfers to new numbers within minutes, each unremarkable in size. */
function burst(random: Random, account: Account, at: number): Transaction[] {
  const deviceId = random.chance(0.5) ? random.deviceId() : random.pick(account.devices);
  // The burst ends at `at`, so no timestamp lands after the stream's end.
  const gaps = Array.from({ length: random.int(4, 8) }, () => random.uniform(20_000, 70_000));
  let time = at - gaps.reduce((sum, gap) => sum + gap, 0);
  return gaps.map((gap) => {
    time += gap;
    return transaction(random, account, time, {
      channel: 'mobile_money',
      counterparty: random.kenyanPhone(),
      merchant: 'M-Pesa Send Money',
      category: 'p2p_transfer',
      amountKes: account.usualAmountKes * random.uniform(0.8, 3),
      country: account.homeCountry,
      deviceId,
      pattern: 'burst',
    });
  });
}

/** A stolen card used from an unknown device, abroad, while the owner sleeps. */
function newDeviceAbroadAtNight(
  random: Random,
  people: Population,
  account: Account,
  at: number,
): Transaction {
  const abroad = countries.filter((c) => c !== account.homeCountry && !account.travelCountries.includes(c));
  const shops = people.merchants.filter((m) => m.category === 'electronics' || m.category === 'travel');
  const merchant = random.pick(shops.length ? shops : people.merchants);
  return transaction(random, account, at, {
    channel: random.chance(0.5) ? 'card' : 'online',
    counterparty: merchant.id,
    merchant: merchant.name,
    category: merchant.category,
    amountKes: account.usualAmountKes * random.uniform(2, 8),
    country: random.pick(abroad),
    deviceId: random.deviceId(),
    pattern: 'new_device_abroad_night',
  });
}

interface Payee {
  channel: Channel;
  counterparty: string;
  merchant: string;
  category: string;
}

function payee(random: Random, people: Population, account: Account, channel: Channel): Payee {
  if (channel === 'mobile_money' && random.chance(0.6)) {
    const counterparty = random.chance(0.9) ? random.pick(account.contacts) : random.kenyanPhone();
    return { channel, counterparty, merchant: 'M-Pesa Send Money', category: 'p2p_transfer' };
  }
  if (channel === 'bank_transfer') {
    const counterparty = `KE${random.digits(14)}`;
    return { channel, counterparty, merchant: 'Bank transfer', category: 'transfer' };
  }
  const merchant: Merchant = random.pick(people.merchants);
  return { channel, counterparty: merchant.id, merchant: merchant.name, category: merchant.category };
}

interface Draft extends Payee {
  amountKes: number;
  country: string;
  deviceId: string;
  pattern: FraudPattern | null;
}

function transaction(random: Random, account: Account, at: number, draft: Draft): Transaction {
  const currency = currencyOfCountry[draft.country] ?? 'KES';
  return {
    transactionId: random.uuid(),
    accountId: account.id,
    counterparty: draft.counterparty,
    amount: fromKes(Math.max(10, draft.amountKes), currency),
    currency,
    merchant: draft.merchant,
    category: draft.category,
    channel: draft.channel,
    country: draft.country,
    county: account.county,
    deviceId: draft.deviceId,
    timestamp: isoTimestamp(Math.round(at)),
    source: SOURCE,
    label: { fraud: draft.pattern !== null, pattern: draft.pattern },
  };
}

const DAY_MS = 86_400_000;
const TWO_DIGITS = Array.from({ length: 100 }, (_, n) => String(n).padStart(2, '0'));
let cachedDay = Number.NaN;
let cachedDate = '';

/**
 * `new Date(ms).toISOString()` for years 1970–9999, a few times faster: a stream's timestamps share
 * their date, so only the time of day is formatted each time.
 */
export function isoTimestamp(ms: number): string {
  const day = Math.floor(ms / DAY_MS);
  if (day !== cachedDay || ms < 0) {
    if (ms < 0 || ms >= 253_402_300_800_000) return new Date(ms).toISOString();
    cachedDay = day;
    cachedDate = new Date(day * DAY_MS).toISOString().slice(0, 11);
  }
  const inDay = ms - day * DAY_MS;
  const seconds = Math.floor(inDay / 1000);
  const millis = inDay - seconds * 1000;
  return (
    `${cachedDate}${TWO_DIGITS[Math.floor(seconds / 3600)]}:${TWO_DIGITS[Math.floor(seconds / 60) % 60]}:` +
    `${TWO_DIGITS[seconds % 60]}.${millis < 100 ? (millis < 10 ? '00' : '0') : ''}${millis}Z`
  );
}
