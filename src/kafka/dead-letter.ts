import type { Message } from 'kafkajs';
import type { ConsumedMessage } from './bounded-consumer';

/**
 * The dead-letter copy of a message that could not be read: the original key, bytes and headers,
 * plus headers saying why and where it came from, so it can be inspected and replayed.
 */
export function deadLetter(message: ConsumedMessage, reason: string, failedAt = new Date()): Message {
  return {
    key: message.key,
    value: message.value,
    headers: {
      ...message.headers,
      'dlq-reason': reason,
      'dlq-source-topic': message.topic,
      'dlq-source-partition': String(message.partition),
      'dlq-source-offset': message.offset,
      'dlq-failed-at': failedAt.toISOString(),
    },
  };
}
