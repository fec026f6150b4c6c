/**
 * A Bloom filter of strings: `has` answers "maybe added" or "surely not", in a fixed 512 KB however
 * many are added. A run uses it to remember what it wrote to PostgreSQL and dropped from memory: a
 * "maybe" costs one lookup on the run's connection, and a false one only makes that lookup find nothing.
 */
export class MaybeSet {
  private readonly bits = new Int32Array(BITS / 32);

  add(value: string): void {
    hash(value);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & (BITS - 1);
      this.bits[bit >>> 5] = (this.bits[bit >>> 5] as number) | (1 << (bit & 31));
    }
  }

  has(value: string): boolean {
    hash(value);
    for (let i = 0; i < PROBES; i++) {
      const bit = (h1 + i * h2) & (BITS - 1);
      if (((this.bits[bit >>> 5] as number) & (1 << (bit & 31))) === 0) return false;
    }
    return true;
  }
}

/**
 * 2^22 bits and 7 probes: ~0.015 % false "maybe" after 200,000 values, ~2 % after 500,000 (the
 * largest batchSize), each costing a lookup in vain behind the run's queued writes. (With 3 probes,
 * 0.24 % at 200,000: nearly every late 1,000-message piece had one.)
 */
const BITS = 1 << 22;
const PROBES = 7;

/** The last value's two hashes: module state rather than a returned pair, which would be garbage per call. */
let h1 = 0;
let h2 = 0;

/** Two 32-bit FNV-1a variants in one pass: the probes are h1 + i·h2 (double hashing). */
function hash(value: string): void {
  h1 = 0x811c9dc5;
  h2 = 0x01000193;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x5bd1e995);
  }
  // Odd, so the probes of one value never all land on the same bit.
  h2 = (h2 ^ (h2 >>> 15)) | 1;
}
