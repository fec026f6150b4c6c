/**
 * Records ready to send: record i has key `keys[i]` (its account id) and, as its value, the UTF-8
 * JSON body `bodies[ends[i - 1] ?? 0 .. ends[i])`. The bodies share one buffer, so a thread hands a
 * piece over without copying it, and the Kafka client copies bytes instead of encoding strings.
 */
export interface RecordPiece {
  keys: string[];
  bodies: Uint8Array;
  ends: Uint32Array;
}

/** Record i's body, as a view on the piece's buffer. */
export function bodyOf(piece: RecordPiece, i: number): Buffer {
  const start = i === 0 ? 0 : (piece.ends[i - 1] as number);
  return Buffer.from(piece.bodies.buffer, piece.bodies.byteOffset + start, (piece.ends[i] as number) - start);
}

/** Strings written one after another as UTF-8 into a buffer of its own that grows as needed. */
export class BodyWriter {
  private buffer: Buffer;
  length = 0;

  /** Room for `bodies` of 512 bytes: typical bodies are ~400, so growing is rare. */
  constructor(bodies: number) {
    this.buffer = Buffer.allocUnsafeSlow(Math.max(1, bodies) * 512);
  }

  /** Appends `text`; returns the end offset. */
  write(text: string): number {
    // UTF-8 takes at most 3 bytes per UTF-16 unit.
    if (this.buffer.length - this.length < text.length * 3) this.grow(text.length * 3);
    this.length += this.buffer.write(text, this.length);
    return this.length;
  }

  written(): Uint8Array {
    return this.buffer.subarray(0, this.length);
  }

  private grow(needed: number): void {
    const bigger = Buffer.allocUnsafeSlow(Math.max(2 * this.buffer.length, this.length + needed));
    this.buffer.copy(bigger, 0, 0, this.length);
    this.buffer = bigger;
  }
}
