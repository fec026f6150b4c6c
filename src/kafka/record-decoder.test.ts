import { createRequire } from 'node:module';
import { describe, expect, it } from 'vitest';

/**
 * patches/kafkajs+2.2.4.patch makes kafkajs's record decoder add a record's offset and timestamp
 * deltas as numbers while that is exact; these are its edges, checked against kafkajs's own Long
 * arithmetic (what the decoder did before the patch).
 */
const kafkajs = createRequire(import.meta.url);
const Decoder = kafkajs('kafkajs/src/protocol/decoder');
const Long = kafkajs('kafkajs/src/utils/long');
const encodeRecord = kafkajs('kafkajs/src/protocol/recordBatch/record/v0');
const decodeRecord = kafkajs('kafkajs/src/protocol/recordBatch/record/v0/decoder');

function decoded(
  batch: { firstOffset: string; firstTimestamp: string },
  offsetDelta: number,
  timestampDelta: number,
) {
  const record = encodeRecord({
    offsetDelta,
    timestampDelta,
    key: Buffer.from('k'),
    value: Buffer.from('v'),
    headers: {},
  });
  const decoder = new Decoder(record.buffer);
  decoder.readVarInt(); // the record's length
  return decodeRecord(decoder, batch) as { offset: string; timestamp: string };
}

const longSum = (first: string, delta: number) =>
  Long.fromValue(first).add(Long.fromNumber(delta)).toString();

describe("kafkajs's record decoder, patched", () => {
  it('is the patched decoder (npm install applies patches/, see postinstall)', () => {
    expect(String(decodeRecord)).toContain('readVarLongDelta');
  });

  it.each([
    {
      case: 'a usual record',
      firstOffset: '0',
      offsetDelta: 0,
      firstTimestamp: '1764000000000',
      timestampDelta: 123,
    },
    {
      case: 'a negative timestamp delta',
      firstOffset: '999999',
      offsetDelta: 5,
      firstTimestamp: '1764000000000',
      timestampDelta: -1_000,
    },
    {
      case: 'a delta of 7 varint bytes',
      firstOffset: '123',
      offsetDelta: 99_999,
      firstTimestamp: '1764000000000',
      timestampDelta: 2 ** 47,
    },
    {
      case: 'a delta of 8 varint bytes (Long path)',
      firstOffset: '1',
      offsetDelta: 1,
      firstTimestamp: '1764000000000',
      timestampDelta: 2 ** 52,
    },
    {
      case: 'a sum past 2^53 (Long path)',
      firstOffset: '9007199254740990',
      offsetDelta: 3,
      firstTimestamp: '0',
      timestampDelta: -5,
    },
    {
      // Its Number rounds to 2^53: minus 2 would be a safe integer, and wrong.
      case: 'a first offset past 2^53, the sum below it (Long path)',
      firstOffset: '9007199254740993',
      offsetDelta: 0,
      firstTimestamp: '9007199254740993',
      timestampDelta: -2,
    },
  ])(
    'gives what Long arithmetic gives: $case',
    ({ firstOffset, offsetDelta, firstTimestamp, timestampDelta }) => {
      const record = decoded({ firstOffset, firstTimestamp }, offsetDelta, timestampDelta);
      expect(record.offset).toBe(longSum(firstOffset, offsetDelta));
      expect(record.timestamp).toBe(longSum(firstTimestamp, timestampDelta));
    },
  );

  it('gives what Long arithmetic gives for every timestamp delta size, both signs', () => {
    for (let bits = 0; bits <= 52; bits++)
      for (const delta of [2 ** bits - 1, -(2 ** bits), 2 ** bits + 1]) {
        const record = decoded({ firstOffset: '42', firstTimestamp: '1764000000000' }, 7, delta);
        expect(record.timestamp, `delta ${delta}`).toBe(longSum('1764000000000', delta));
      }
  });
});
