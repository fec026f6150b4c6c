import { describe, expect, it } from 'vitest';
import { BodyWriter, bodyOf } from './record-piece';

describe('BodyWriter and bodyOf', () => {
  it('gives back every body intact after the buffer grows, multi-byte characters included', () => {
    // Room for 2 bodies of 512 bytes; these are longer, and 2–4 bytes a character in UTF-8.
    const writer = new BodyWriter(2);
    const texts = Array.from(
      { length: 6 },
      (_, i) => `{"merchant":"Café ${i} — Nairobi 🚀 ${'ü'.repeat(300 * i)}"}`,
    );
    const ends = Uint32Array.from(texts.map((text) => writer.write(text)));
    const piece = { keys: texts.map((_, i) => `ACC-${i}`), bodies: writer.written(), ends };
    expect(texts.map((_, i) => bodyOf(piece, i).toString('utf8'))).toEqual(texts);
    expect(piece.bodies.length).toBe(texts.reduce((sum, text) => sum + Buffer.byteLength(text), 0));
  });
});
