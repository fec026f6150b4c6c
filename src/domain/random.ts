import type { Faker } from '@faker-js/faker';
import { faker as englishFaker } from '@faker-js/faker/locale/en';

/**
 * faker's English build. The package's root module loads all of its ~70 locales (~20 MB of heap and
 * ~0.3 s per process or thread that simulates); this entry point loads English only. Its class makes
 * each Random's own instance, with the same definitions as `[en, base]`, so the same seeds give the
 * same names.
 */
const EnglishFaker = englishFaker.constructor as typeof Faker;

/**
 * Seeded randomness for the simulator: the same seed gives the same stream. Faker (seeded from
 * the same seed) makes the names; the per-transaction draws use sfc32, a small fast generator,
 * because the producer draws a few dozen numbers per message at 50,000+ messages a second.
 */
export class Random {
  private seededFaker?: Faker;
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /**
   * Without `key`, the stream of `seed` (its first draws come from faker). With `key`, an independent
   * stream for (seed, key) that costs no faker: an account's attributes re-derived from its index.
   */
  constructor(
    private readonly seed: number,
    key?: number,
  ) {
    if (key === undefined) {
      const word = () => this.faker.number.int({ min: 0, max: 0xffffffff });
      [this.a, this.b, this.c, this.d] = [word(), word(), word(), word()];
      return;
    }
    let state = Math.imul(seed ^ 0x5bf03635, 0x9e3779b1) ^ key;
    const word = () => {
      state = (state + 0x9e3779b9) | 0;
      return splitmix32(state);
    };
    [this.a, this.b, this.c, this.d] = [word(), word(), word(), word()];
    // sfc32 needs a few rounds before neighbouring keys give unrelated draws.
    for (let round = 0; round < 12; round++) this.word();
  }

  /** Faker seeded from the same seed, made on first use (the per-key streams never need it). */
  get faker(): Faker {
    if (!this.seededFaker) {
      this.seededFaker = new EnglishFaker({ locale: englishFaker.rawDefinitions });
      this.seededFaker.seed(this.seed);
    }
    return this.seededFaker;
  }

  /** Uniform in [0, 1) (sfc32). */
  next(): number {
    return this.word() / 4294967296;
  }

  /** 32 random bits as an unsigned integer (sfc32). */
  word(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  uniform(min: number, max: number): number {
    return min + (max - min) * this.next();
  }

  int(min: number, max: number): number {
    return Math.floor(this.uniform(min, max + 1));
  }

  chance(probability: number): boolean {
    return this.next() < probability;
  }

  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)] as T;
  }

  /** Picks a key of a `weights` table with probability proportional to its weight. */
  weighted<K extends string>(table: WeightTable<K>): K {
    const draw = this.next() * table.total;
    const index = table.cumulative.findIndex((bound) => draw < bound);
    return table.keys[index === -1 ? table.keys.length - 1 : index] as K;
  }

  /** Standard normal (Box–Muller). */
  normal(): number {
    return Math.sqrt(-2 * Math.log(1 - this.next())) * Math.cos(2 * Math.PI * this.next());
  }

  /** Exponential with the given mean: waiting times between independent events. */
  exponential(mean: number): number {
    return -mean * Math.log(1 - this.next());
  }

  digits(length: number): string {
    let text = '';
    for (let i = 0; i < length; i++) text += Math.floor(this.next() * 10);
    return text;
  }

  /** A version-4 UUID, from four 32-bit draws (one per hex digit would cost 8× as many). */
  uuid(): string {
    const [a, b, c, d] = [this.word(), this.word(), this.word(), this.word()];
    const h = BYTE_HEX;
    return (
      `${h[a >>> 24]}${h[(a >>> 16) & 255]}${h[(a >>> 8) & 255]}${h[a & 255]}-${h[b >>> 24]}${h[(b >>> 16) & 255]}-` +
      `4${HEX[(b >>> 8) & 15]}${h[b & 255]}-${HEX[8 | ((c >>> 28) & 3)]}${HEX[(c >>> 24) & 15]}${h[(c >>> 16) & 255]}-` +
      `${h[(c >>> 8) & 255]}${h[c & 255]}${h[d >>> 24]}${h[(d >>> 16) & 255]}${h[(d >>> 8) & 255]}${h[d & 255]}`
    );
  }

  /**
   * A Kenyan mobile number in E.164 (Safaricom/Airtel prefixes), as M-Pesa counterparties use. The
   * seven digits come from one draw, not seven: accounts are derived with a dozen numbers each.
   */
  kenyanPhone(): string {
    return `+254${this.pick(PHONE_PREFIXES)}${String(this.word() % 10_000_000).padStart(7, '0')}`;
  }

  /** 12 hex digits from two draws. */
  deviceId(): string {
    const [a, b] = [this.word(), this.word()];
    const h = BYTE_HEX;
    return `dev-${h[a >>> 24]}${h[(a >>> 16) & 255]}${h[(a >>> 8) & 255]}${h[a & 255]}${h[b >>> 24]}${h[(b >>> 16) & 255]}`;
  }
}

/** A 32-bit mix of a counter (splitmix32): seeds sfc32 from (seed, key) in a few operations. */
function splitmix32(state: number): number {
  let z = Math.imul(state ^ (state >>> 16), 0x85ebca6b);
  z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35);
  return (z ^ (z >>> 16)) >>> 0;
}

const HEX = '0123456789abcdef';
const BYTE_HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));
const PHONE_PREFIXES = ['70', '71', '72', '74', '75', '76', '79', '11'];

export interface WeightTable<K extends string> {
  keys: K[];
  cumulative: number[];
  total: number;
}

/** Built once per table, so a draw costs no allocation. */
export function weights<K extends string>(table: Record<K, number>): WeightTable<K> {
  const keys = Object.keys(table) as K[];
  let total = 0;
  const cumulative = keys.map((key) => (total += table[key]));
  return { keys, cumulative, total };
}
