import { KafkaJSNonRetriableError, KafkaJSProtocolError } from 'kafkajs';
import { describe, expect, it } from 'vitest';
import { lostSequence } from './kafka-streams';

const protocolError = (type: string) =>
  new KafkaJSProtocolError({ message: type, type, code: 45, retriable: false } as unknown as Error);

describe('lostSequence', () => {
  it('knows the broker refusing the producer id’s sequence numbers, also wrapped by the retrier', () => {
    expect(lostSequence(protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER'))).toBe(true);
    expect(lostSequence(protocolError('UNKNOWN_PRODUCER_ID'))).toBe(true);
    const original = protocolError('OUT_OF_ORDER_SEQUENCE_NUMBER');
    // As kafkajs's retrier wraps it when its retries run out.
    expect(lostSequence(Object.assign(new KafkaJSNonRetriableError(original), { cause: original }))).toBe(
      true,
    );
  });

  it('leaves other errors to the run’s own retry', () => {
    expect(lostSequence(protocolError('NOT_LEADER_FOR_PARTITION'))).toBe(false);
    expect(lostSequence(new Error('connect ECONNREFUSED'))).toBe(false);
    expect(lostSequence(undefined)).toBe(false);
  });
});
