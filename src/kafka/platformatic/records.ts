import type { Message, MessageToProduce } from '@platformatic/kafka';
import type { ConsumedMessage, MessageHeaders } from '../stream-client';

/** A record as tickflow's shared code builds it (kafkajs's shape: headers may repeat a name). */
export interface RecordToSend {
  key?: string | Buffer | null;
  value: string | Buffer | null;
  headers?: MessageHeaders;
  partition?: number;
}

type Bytes = Buffer;

const toBuffer = (value: string | Buffer): Buffer => (typeof value === 'string' ? Buffer.from(value) : value);

/**
 * The record in @platformatic/kafka's shape, as bytes. Headers go as a Map keyed by one Buffer per
 * occurrence, so a name that repeats is sent repeated (a dead letter keeps its original's headers).
 */
export function toProduce(topic: string, record: RecordToSend): MessageToProduce<Bytes, Bytes, Bytes, Bytes> {
  const headers = new Map<Buffer, Buffer>();
  for (const [name, value] of Object.entries(record.headers ?? {})) {
    if (value === undefined) continue;
    for (const one of Array.isArray(value) ? value : [value]) headers.set(Buffer.from(name), toBuffer(one));
  }
  return {
    topic,
    key: record.key === null || record.key === undefined ? undefined : toBuffer(record.key),
    value: record.value === null ? undefined : toBuffer(record.value),
    headers,
    ...(record.partition === undefined ? {} : { partition: record.partition }),
  };
}

/** A fetched message as the StreamClient hands it over: header names as text, repeated ones as arrays. */
export function toConsumed(message: Message<Bytes, Bytes, Bytes, Bytes>): ConsumedMessage {
  const headers: MessageHeaders = {};
  for (const [rawName, value] of message.headerEntries) {
    const name = rawName.toString();
    const earlier = headers[name];
    if (earlier === undefined) headers[name] = value;
    else headers[name] = [...(Array.isArray(earlier) ? earlier : [earlier]), value];
  }
  return {
    topic: message.topic,
    partition: message.partition,
    offset: message.offset.toString(),
    key: message.key ?? null,
    value: message.value ?? null,
    headers,
  };
}
