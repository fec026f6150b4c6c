import { countries, currencyOfCountry, fromKes } from './money';
import { type Account, type Merchant, type Population, population } from './population';
import { Random, weights } from './random';
import type { Channel, FraudPattern, Transaction } from './transaction';

export interface SimulationOptions {
  count: number;
  /** Share of messages that are fraud, 0–1. */
  fraudRate: number;
  seed: number;
  /** The last transaction happens about now; earlier ones go back in simulated time. */
  endAt?: Date;
  population?: Population;
}

export const SOURCE = 'tickflow-simulator';
/** ~5,000 accounts making ~4 transactions a day each: one transaction every ~4 s overall. */
const MEAN_GAP_MS = 4_000;
const EAT_OFFSET_HOURS = 3;
/** Mean number of messages a fraud event makes (a burst makes several), to hit `fraudRate`. */
const MESSAGES_PER_FRAUD_EVENT = 1.85;

const CHANNELS = weights<Channel>({ mobile_money: 5, card: 3, online: 1.2, bank_transfer: 0.8 });
// Weights per fraud event; a burst makes ~6 messages, so the message mix is roughly even.
const DAY_PATTERNS = weights<FraudPattern>({ amount_spike: 2, burst: 0.4, new_device_abroad_night: 0 });
const NIGHT_PATTERNS = weights<FraudPattern>({ amount_spike: 2, burst: 0.4, new_device_abroad_night: 12 });

/** Hour of day in Nairobi (UTC+3), where the simulated accounts live. */
export function localHour(at: number): number {
  return (new Date(at).getUTCHours() + EAT_OFFSET_HOURS) % 24;
}

export const isNight = (at: number) => localHour(at) < 5;

/** A reproducible stream of transactions with fraud at `fraudRate`, each labelled with its truth. */
export function simulate(options: SimulationOptions): Transaction[] {
  const random = new Random(options.seed);
  const people = options.population ?? population();
  const times = eventTimes(options.count, (options.endAt ?? new Date()).getTime(), random);
  const eventRate =
    options.fraudRate / (MESSAGES_PER_FRAUD_EVENT - options.fraudRate * (MESSAGES_PER_FRAUD_EVENT - 1));
  const stream: Transaction[] = [];
  while (stream.length < options.count) {
    const at = times[stream.length] as number;
    const account = random.pick(people.accounts);
    // Fraud is likelier while the owners sleep.
    if (random.chance(isNight(at) ? 3 * eventRate : eventRate)) {
      stream.push(...fraudEvent(random, people, account, at).slice(0, options.count - stream.length));
    } else {
      stream.push(normalTransaction(random, people, account, at));
    }
  }
  return stream;
}

/** Arrival times walked back from `endAt`: fewer transactions at night, as in real life. */
function eventTimes(count: number, endAt: number, random: Random): number[] {
  const times = new Array<number>(count);
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
  return transaction(random, account, at, {
    ...payee(random, people, account, channel),
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
    deviceId: draft.deviceId,
    timestamp: new Date(Math.round(at)).toISOString(),
    source: SOURCE,
    label: { fraud: draft.pattern !== null, pattern: draft.pattern },
  };
}
