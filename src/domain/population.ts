import { countries } from './money';
import { Random, weights } from './random';

export interface Account {
  id: string;
  phone: string;
  homeCountry: string;
  /** The Kenyan county the account is registered in: the market rollups group volumes by. */
  county: string;
  /** The account's typical spend in KES (median); real amounts scatter around it. */
  usualAmountKes: number;
  devices: string[];
  /** Countries this person really travels to: a transaction there is not suspicious in itself. */
  travelCountries: string[];
  /** People this account usually sends mobile money to. */
  contacts: string[];
}

export interface Merchant {
  id: string;
  name: string;
  category: string;
}

export const merchantCategories = [
  'groceries',
  'fuel',
  'utilities',
  'restaurants',
  'electronics',
  'travel',
  'health',
  'education',
  'entertainment',
  'clothing',
] as const;

/**
 * Home counties, weighted by the 2019 census population (millions), Nairobi doubled because mobile
 * money volume concentrates in the capital. The 20 largest counties hold ~75 % of Kenyans; the rest
 * are left out rather than given weights nobody could check.
 */
const COUNTIES = weights({
  Nairobi: 8.8,
  Kiambu: 2.42,
  Nakuru: 2.16,
  Kakamega: 1.87,
  Bungoma: 1.67,
  Meru: 1.55,
  Kilifi: 1.45,
  Machakos: 1.42,
  Kisii: 1.27,
  Mombasa: 1.21,
  Kisumu: 1.16,
  'Uasin Gishu': 1.16,
  Narok: 1.16,
  Kitui: 1.14,
  'Homa Bay': 1.13,
  Kajiado: 1.12,
  Migori: 1.12,
  "Murang'a": 1.06,
  Siaya: 0.99,
  'Trans Nzoia': 0.99,
});
export const counties: readonly string[] = COUNTIES.keys;

/** Fixed so that every producer run, whatever its seed, draws from the same people and shops. */
export const POPULATION_SEED = 20_240_611;
/** The smallest population, and the one `tickflow eval` draws from. */
export const POPULATION_SIZE = 5_000;
/**
 * How long one account waits between its transactions on average (~4 a day). Velocity is the
 * model's strongest signal, so a population too small for its rate makes honest people look like
 * a fraud burst: the population grows with the rate to keep this gap.
 */
export const ACCOUNT_MEAN_GAP_SECONDS = 20_000;
const MERCHANT_COUNT = 400;
/**
 * A population up to this size keeps every account once derived (the replay's 5,000 are reused on
 * every message). A larger one derives each account when picked (~1 µs): drawn from millions, an
 * account rarely comes back before a cache would have evicted it, and keeping them costs more in
 * garbage collection than deriving them again.
 */
const CACHED_ACCOUNTS = 100_000;
const ACCOUNT_ID = /^ACC-(\d{6,})$/;

/** Accounts enough for `ratePerSecond` transactions a second with each account's usual spacing. */
export function accountsForRate(ratePerSecond: number): number {
  return Math.max(POPULATION_SIZE, Math.ceil(ratePerSecond * ACCOUNT_MEAN_GAP_SECONDS));
}

/**
 * The stable population: `size` accounts and the merchants they pay. Account n is derived from
 * (seed, n) alone, when first needed, so a population of any size costs nothing up front, a
 * larger population contains every account of a smaller one, and any id can be re-derived.
 */
export class Population {
  readonly merchants: Merchant[];
  private readonly cache: Map<number, Account> | undefined;

  constructor(
    readonly size: number,
    readonly seed = POPULATION_SEED,
  ) {
    if (!Number.isInteger(size) || size < 1)
      throw new Error(`population size must be a whole number of accounts ≥ 1, got ${size}`);
    this.merchants = buildMerchants(seed);
    this.cache = size <= CACHED_ACCOUNTS ? new Map() : undefined;
  }

  /** Account `index` (0-based): always the same attributes for the same seed and index. */
  account(index: number): Account {
    if (!this.cache) return new DerivedAccount(this.seed, index);
    let account = this.cache.get(index);
    if (!account) {
      account = new DerivedAccount(this.seed, index);
      this.cache.set(index, account);
    }
    return account;
  }

  /** An account drawn uniformly. */
  pick(random: Random): Account {
    return this.account(Math.floor(random.next() * this.size));
  }

  /** The account with this id, or undefined when the id is not one of this population's. */
  byId(id: string): Account | undefined {
    const index = indexOfId(id);
    return index !== undefined && index < this.size ? this.account(index) : undefined;
  }

  has(id: string): boolean {
    const index = indexOfId(id);
    return index !== undefined && index < this.size;
  }
}

const idOf = (index: number) => `ACC-${String(index + 1).padStart(6, '0')}`;

/** The index an id was made from; undefined for anything idOf would not have written. */
function indexOfId(id: string): number | undefined {
  const digits = ACCOUNT_ID.exec(id)?.[1];
  if (digits === undefined) return undefined;
  const index = Number(digits) - 1;
  return index >= 0 && idOf(index) === id ? index : undefined;
}

const ABROAD = countries.filter((country) => country !== 'KE');

/** An account's attributes from (seed, index); its contacts, used by a quarter of messages, on demand. */
class DerivedAccount implements Account {
  readonly id: string;
  readonly phone: string;
  readonly homeCountry = 'KE';
  readonly county: string;
  readonly usualAmountKes: number;
  readonly devices: string[];
  readonly travelCountries: string[];
  private knownContacts: string[] | undefined;

  constructor(
    private readonly seed: number,
    private readonly index: number,
  ) {
    const random = new Random(seed, index);
    this.id = idOf(index);
    this.phone = random.kenyanPhone();
    this.county = random.weighted(COUNTIES);
    // Log-normal spend: most people around KES 1,500, a long tail of larger spenders.
    this.usualAmountKes = Math.round(1_500 * Math.exp(random.normal()));
    this.devices = random.chance(0.3) ? [random.deviceId(), random.deviceId()] : [random.deviceId()];
    this.travelCountries = random.chance(0.15) ? [random.pick(ABROAD)] : [];
  }

  get contacts(): string[] {
    if (!this.knownContacts) {
      // A stream of its own (key -1 - index), so the other attributes do not depend on this one.
      const random = new Random(this.seed, -1 - this.index);
      this.knownContacts = Array.from({ length: random.int(3, 8) }, () => random.kenyanPhone());
    }
    return this.knownContacts;
  }
}

const merchantsBySeed = new Map<number, Merchant[]>();

/** Shops are few (400) and named by faker, so they are made once per seed and shared. */
function buildMerchants(seed: number): Merchant[] {
  let merchants = merchantsBySeed.get(seed);
  if (!merchants) {
    const random = new Random(seed);
    merchants = Array.from({ length: MERCHANT_COUNT }, (_, index) => ({
      id: `TILL-${String(100_000 + index * 7)}`,
      name: random.faker.company.name(),
      category: random.pick(merchantCategories),
    }));
    merchantsBySeed.set(seed, merchants);
  }
  return merchants;
}

const populations = new Map<string, Population>();

/** The population of `size` accounts, made once per process (its account cache is shared by runs). */
export function population(size = POPULATION_SIZE, seed = POPULATION_SEED): Population {
  const key = `${seed}:${size}`;
  let made = populations.get(key);
  if (!made) {
    made = new Population(size, seed);
    populations.set(key, made);
  }
  return made;
}

/** The population a producer at `ratePerSecond` draws from. */
export const populationForRate = (ratePerSecond: number): Population =>
  population(accountsForRate(ratePerSecond));
