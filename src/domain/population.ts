import { countries } from './money';
import { Random } from './random';

export interface Account {
  id: string;
  phone: string;
  homeCountry: string;
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

export interface Population {
  accounts: Account[];
  merchants: Merchant[];
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

/** Fixed so that every producer run, whatever its seed, draws from the same people and shops. */
export const POPULATION_SEED = 20_240_611;
export const POPULATION_SIZE = 5_000;
const MERCHANT_COUNT = 400;

const cache = new Map<string, Population>();

/** The stable population of accounts and merchants; built once per process. */
export function population(seed = POPULATION_SEED, size = POPULATION_SIZE): Population {
  const key = `${seed}:${size}`;
  let built = cache.get(key);
  if (!built) {
    built = buildPopulation(seed, size);
    cache.set(key, built);
  }
  return built;
}

function buildPopulation(seed: number, size: number): Population {
  const random = new Random(seed);
  const merchants = Array.from({ length: MERCHANT_COUNT }, (_, index) => ({
    id: `TILL-${String(100_000 + index * 7)}`,
    name: random.faker.company.name(),
    category: random.pick(merchantCategories),
  }));
  const abroad = countries.filter((country) => country !== 'KE');
  const accounts = Array.from({ length: size }, (_, index) => ({
    id: `ACC-${String(index + 1).padStart(6, '0')}`,
    phone: random.kenyanPhone(),
    homeCountry: 'KE',
    // Log-normal spend: most people around KES 1,500, a long tail of larger spenders.
    usualAmountKes: Math.round(1_500 * Math.exp(random.normal())),
    devices: Array.from({ length: random.chance(0.3) ? 2 : 1 }, () => random.deviceId()),
    travelCountries: random.chance(0.15) ? [random.pick(abroad)] : [],
    contacts: Array.from({ length: random.int(3, 8) }, () => random.kenyanPhone()),
  }));
  return { accounts, merchants };
}
