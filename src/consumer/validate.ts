import type { KafkaPosition } from '../db/scoring-rows';
import type { Transaction } from '../domain/transaction';
import type { ConsumedMessage, DeadLetterInput } from '../kafka/stream-client';
import { parseValue } from './fast-transaction';
import type { SeenIds } from './seen-ids';

export interface ValidMessage {
  transaction: Transaction;
  /**
   * Where it was read, not the message itself: its key and value are slices of a fetch response
   * (up to 32 MB), which would stay in memory as long as any message of it is kept.
   */
  position: KafkaPosition;
}

/**
 * Parses every message; a transaction id the run surely met before (twice in one run) is kept once, and
 * one it perhaps met is kept and listed in `maybeSeen` for the caller to settle. The first
 * problem found names the dead letter: a value over maxMessageBytes (not decoded), then the value
 * (empty, not UTF-8, not JSON, breaks the schema), then the key.
 *
 * A valid transaction without a key is a dead letter too (`null_key`): the contract keys a transaction
 * by its account id, so that one account's transactions stay in one partition, in order, scored and
 * profiled by one consumer at a time. An unkeyed one may land on any partition and race another
 * consumer's update of the same account's profile. The DLQ keeps it whole, to replay with its key.
 */
export function validate(
  messages: ConsumedMessage[],
  seen: { ids: SeenIds; piece: number },
  maxMessageBytes: number,
): { valid: ValidMessage[]; invalid: DeadLetterInput[]; maybeSeen: string[] } {
  const valid: ValidMessage[] = [];
  const invalid: DeadLetterInput[] = [];
  const maybeSeen: string[] = [];
  // A dead letter waits to be sent: its key, value and headers are copied out of the fetch response
  // they are slices of, or one bad message would keep a whole fetch alive.
  const kept = (message: ConsumedMessage): ConsumedMessage => ({
    ...message,
    key: message.key && Buffer.from(message.key),
    value: message.value && Buffer.from(message.value),
    headers: Object.fromEntries(
      Object.entries(message.headers).map(([name, value]) => [name, copyHeader(value)]),
    ),
  });
  for (const message of messages) {
    const size = message.value?.length ?? 0;
    if (size > maxMessageBytes) {
      invalid.push({
        message: kept(message),
        reason: 'too_large',
        detail: `value is ${size} bytes, over maxMessageBytes (${maxMessageBytes})`,
      });
      continue;
    }
    const parsed = parseValue(message.value);
    if (!parsed.ok) invalid.push({ message: kept(message), reason: parsed.failure, detail: parsed.reason });
    else if (message.key === null || message.key.length === 0)
      invalid.push({
        message: kept(message),
        reason: 'null_key',
        detail: `${message.key === null ? 'no key' : 'an empty key'}; transactions are keyed by account id (accountId ${parsed.transaction.accountId})`,
      });
    else {
      const id = parsed.transaction.transactionId;
      const meeting = seen.ids.meet(id, seen.piece);
      if (meeting === 'again') continue;
      if (meeting === 'maybe') maybeSeen.push(id);
      const { topic, partition, offset } = message;
      valid.push({ transaction: parsed.transaction, position: { topic, partition, offset } });
    }
  }
  return { valid, invalid, maybeSeen };
}

type HeaderValue = ConsumedMessage['headers'][string];

function copyHeader(value: HeaderValue): HeaderValue {
  if (Buffer.isBuffer(value)) return Buffer.from(value);
  if (Array.isArray(value)) return value.map((item) => (Buffer.isBuffer(item) ? Buffer.from(item) : item));
  return value;
}
