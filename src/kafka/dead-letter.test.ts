import { MultipleErrors, ProtocolError } from '@platformatic/kafka';
import type { Message, Producer, ProducerRecord } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import {
  DEAD_LETTER_MAX_BYTES,
  deadLetter,
  MAX_REASON_CHARS,
  MINIMAL_VALUE_BYTES,
  reasonHeader,
  refusedForSize,
  sendDeadLetters,
  TRUNCATED_VALUE_BYTES,
} from './dead-letter';
import { sizeOf } from './send-chunked';
import type { ConsumedMessage, DeadLetterInput } from './stream-client';

const failedAt = new Date('2025-03-01T12:00:00Z');

function input(overrides: Partial<ConsumedMessage> = {}, reason: DeadLetterInput['reason'] = 'not_json') {
  const message: ConsumedMessage = {
    topic: 'tx',
    partition: 2,
    offset: '41',
    key: Buffer.from('ACC-1'),
    value: Buffer.from('{"broken'),
    headers: { trace: 'abc' },
    ...overrides,
  };
  return { message, reason, detail: 'value is not JSON: Unexpected end' };
}

const header = (record: Message, name: string) => record.headers?.[name]?.toString();

/** What kafkajs throws when the broker refuses a record for its size. */
function tooLarge(): Error {
  return Object.assign(new Error('The request included a message larger than the max message size'), {
    name: 'KafkaJSProtocolError',
    type: 'MESSAGE_TOO_LARGE',
    code: 10,
    retriable: false,
  });
}

/** A producer whose topic refuses records above `maxRecordBytes` (and requests above `maxRequestBytes`). */
function fakeProducer(maxRecordBytes: number, maxRequestBytes = Number.POSITIVE_INFINITY) {
  const delivered: Message[] = [];
  let requests = 0;
  const producer = {
    async send({ messages }: ProducerRecord) {
      requests++;
      const sizes = messages.map(sizeOf);
      if (sizes.some((size) => size > maxRecordBytes)) throw tooLarge();
      if (sizes.reduce((a, b) => a + b, 0) > maxRequestBytes) throw tooLarge();
      delivered.push(...messages);
      return [];
    },
  } as unknown as Producer;
  return { producer, delivered, requests: () => requests };
}

describe('deadLetter', () => {
  it('keeps a bad message whole: key, bytes, headers, and says why and where it came from', () => {
    const record = deadLetter(input(), failedAt);
    expect(record.key?.toString()).toBe('ACC-1');
    expect(record.value?.toString()).toBe('{"broken');
    expect(record.headers).toEqual({
      trace: 'abc',
      'dlq-reason': 'not_json: value is not JSON: Unexpected end',
      'dlq-source-topic': 'tx',
      'dlq-source-partition': '2',
      'dlq-source-offset': '41',
      'dlq-failed-at': '2025-03-01T12:00:00.000Z',
    });
  });

  it('keeps a null value and a null key as they are', () => {
    const record = deadLetter(input({ key: null, value: null }, 'empty_value'), failedAt);
    expect(record.key).toBeNull();
    expect(record.value).toBeNull();
    expect(header(record, 'dlq-truncated')).toBeUndefined();
  });

  it('truncates a too_large value to its first bytes, saying its size', () => {
    const value = Buffer.alloc(1_100_000, 'x');
    value.write('START', 0);
    const record = deadLetter(input({ value }, 'too_large'), failedAt);
    expect((record.value as Buffer).length).toBe(TRUNCATED_VALUE_BYTES);
    expect((record.value as Buffer).subarray(0, 5).toString()).toBe('START');
    expect(record.key?.toString()).toBe('ACC-1');
    expect(header(record, 'dlq-truncated')).toBe('true');
    expect(header(record, 'dlq-original-size')).toBe('1100000');
    expect(header(record, 'dlq-reason')).toMatch(/^too_large: /);
    expect(header(record, 'trace')).toBe('abc');
  });

  it('truncates any dead letter that would not fit the DLQ whole, keeping its reason', () => {
    const value = Buffer.alloc(DEAD_LETTER_MAX_BYTES, 'x');
    const record = deadLetter(input({ value }), failedAt);
    expect(header(record, 'dlq-reason')).toMatch(/^not_json: /);
    expect(header(record, 'dlq-truncated')).toBe('true');
    expect((record.value as Buffer).length).toBe(TRUNCATED_VALUE_BYTES);
  });

  it('falls back to a minimal record when the key or headers alone are too large', () => {
    const headers = { huge: 'h'.repeat(DEAD_LETTER_MAX_BYTES) };
    const record = deadLetter(input({ headers, key: Buffer.alloc(5_000, 'k') }), failedAt);
    expect(record.key).toBeNull();
    expect(header(record, 'huge')).toBeUndefined();
    expect(header(record, 'dlq-dropped')).toBe('original headers, key');
    expect((record.value as Buffer).length).toBeLessThanOrEqual(MINIMAL_VALUE_BYTES);
    expect(sizeOf(record)).toBeLessThan(5_000);
  });

  it("replaces a replayed dead letter's old dlq-* headers with this failure's", () => {
    const headers = { 'dlq-truncated': 'true', 'dlq-reason': 'schema: old', trace: 'abc' };
    const record = deadLetter(input({ headers }), failedAt);
    expect(header(record, 'dlq-truncated')).toBeUndefined();
    expect(header(record, 'dlq-reason')).toMatch(/^not_json: /);
  });

  it('bounds the reason, keeping its name first', () => {
    const reason = reasonHeader('schema', 'x'.repeat(10_000));
    expect(reason.startsWith('schema: xxx')).toBe(true);
    expect(reason.length).toBeLessThan(MAX_REASON_CHARS + 50);
  });
});

describe('refusedForSize', () => {
  it('recognises the size refusals, also wrapped, and nothing else', () => {
    expect(refusedForSize(tooLarge())).toBe(true);
    expect(refusedForSize(Object.assign(new Error('x'), { type: 'RECORD_LIST_TOO_LARGE' }))).toBe(true);
    expect(refusedForSize(new Error('wrapped', { cause: tooLarge() }))).toBe(true);
    expect(refusedForSize(Object.assign(new Error('x'), { type: 'NOT_LEADER_FOR_PARTITION' }))).toBe(false);
    expect(refusedForSize('MESSAGE_TOO_LARGE')).toBe(false);
  });

  it('recognises them as @platformatic/kafka reports them: a protocol error inside aggregated errors', () => {
    const refused = (id: string) =>
      new MultipleErrors('Producing messages failed.', [
        new MultipleErrors('Received response with error while executing API Produce(v11)', [
          new ProtocolError(id),
        ]),
      ]);
    expect(refusedForSize(refused('MESSAGE_TOO_LARGE'))).toBe(true);
    expect(refusedForSize(refused('RECORD_LIST_TOO_LARGE'))).toBe(true);
    expect(refusedForSize(refused('NOT_LEADER_OR_FOLLOWER'))).toBe(false);
  });
});

describe('sendDeadLetters', () => {
  it('sends every dead letter whole in few requests when the DLQ takes them', async () => {
    const fake = fakeProducer(DEAD_LETTER_MAX_BYTES);
    const inputs = Array.from({ length: 100 }, (_, i) => input({ offset: String(i) }));
    expect(await sendDeadLetters(fake.producer, 'dlq', inputs, { failedAt })).toEqual({
      whole: 100,
      truncated: 0,
      minimal: 0,
    });
    expect(fake.delivered.map((m) => header(m, 'dlq-source-offset'))).toEqual(
      inputs.map((i) => i.message.offset),
    );
    expect(fake.requests()).toBe(1);
  });

  it('sends a record the DLQ refuses for size again truncated, then minimal, and the others whole', async () => {
    // A DLQ topic whose max.message.bytes was set below what the estimate allows.
    const fake = fakeProducer(20_000);
    const inputs = [
      input({ offset: '1' }),
      input({ offset: '2', value: Buffer.alloc(50_000, 'x') }),
      input({ offset: '3', value: Buffer.alloc(500_000, 'x') }, 'too_large'),
      input({ offset: '4' }),
    ];
    expect(await sendDeadLetters(fake.producer, 'dlq', inputs, { failedAt })).toEqual({
      whole: 2,
      truncated: 0,
      minimal: 2,
    });
    const byOffset = new Map(fake.delivered.map((m) => [header(m, 'dlq-source-offset'), m]));
    expect([...byOffset.keys()].sort()).toEqual(['1', '2', '3', '4']);
    expect(header(byOffset.get('2') as Message, 'dlq-reason')).toMatch(/^not_json: /);
    expect(header(byOffset.get('2') as Message, 'dlq-original-size')).toBe('50000');
    expect(header(byOffset.get('3') as Message, 'dlq-reason')).toMatch(/^too_large: /);
    expect(header(byOffset.get('1') as Message, 'dlq-truncated')).toBeUndefined();
  });

  it('splits a request refused as a whole into single records', async () => {
    const fake = fakeProducer(DEAD_LETTER_MAX_BYTES, 1_000);
    const inputs = Array.from({ length: 5 }, (_, i) => input({ offset: String(i) }));
    expect(await sendDeadLetters(fake.producer, 'dlq', inputs, { failedAt })).toMatchObject({ whole: 5 });
    expect(fake.delivered).toHaveLength(5);
  });

  it('fails on any other error (the run retries) and when even the minimal record is refused', async () => {
    const failing = {
      send: async () => {
        throw Object.assign(new Error('broker down'), { type: 'LEADER_NOT_AVAILABLE' });
      },
    } as unknown as Producer;
    await expect(sendDeadLetters(failing, 'dlq', [input()])).rejects.toThrow('broker down');
    const tiny = fakeProducer(10);
    await expect(sendDeadLetters(tiny.producer, 'dlq', [input()])).rejects.toThrow('max message size');
  });

  it('sends nothing for no dead letters', async () => {
    const fake = fakeProducer(DEAD_LETTER_MAX_BYTES);
    expect(await sendDeadLetters(fake.producer, 'dlq', [])).toEqual({ whole: 0, truncated: 0, minimal: 0 });
    expect(fake.requests()).toBe(0);
  });
});
