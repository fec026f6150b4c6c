import type { Message, Producer } from 'kafkajs';
import { isKafkaError } from './kafka-errors';
import { chunkBySize, IN_FLIGHT, sizeOf } from './send-chunked';
import type {
  DeadLetterForm,
  DeadLetterInput,
  DeadLetterReason,
  SendDeadLettersOptions,
} from './stream-client';

/**
 * The most a dead letter may weigh (by `sizeOf`'s estimate) to go whole: under the DLQ topic's default
 * max.message.bytes (1,048,588), less the record batch header (61 bytes) and per-record and per-header
 * framing that the estimate leaves out. A larger one goes truncated.
 */
export const DEAD_LETTER_MAX_BYTES = 1_040_000;
/** Bytes of the original value a truncated dead letter keeps: enough to recognise what was sent. */
export const TRUNCATED_VALUE_BYTES = 64 * 1024;
/** Bytes of the original value the last-resort minimal dead letter keeps. */
export const MINIMAL_VALUE_BYTES = 1024;
/** The minimal dead letter keeps the key only up to this size (an account id is far shorter). */
const MINIMAL_KEY_BYTES = 1024;
/** `dlq-reason` stays readable and bounded (a schema error can list every unknown key of a huge value). */
export const MAX_REASON_CHARS = 2_000;

const forms: DeadLetterForm[] = ['whole', 'truncated', 'minimal'];

/** `name: explanation`, bounded. */
export function reasonHeader(reason: DeadLetterReason, detail: string): string {
  const full = `${reason}: ${detail}`;
  if (full.length <= MAX_REASON_CHARS) return full;
  return `${full.slice(0, MAX_REASON_CHARS)}… (${full.length - MAX_REASON_CHARS} more characters)`;
}

/**
 * The dead-letter record for a message, in the fullest form that fits DEAD_LETTER_MAX_BYTES: whole,
 * except a `too_large` one, which is always truncated (its size is the problem).
 */
export function deadLetter(input: DeadLetterInput, failedAt = new Date()): Message {
  return fitting(input, failedAt).record;
}

function fitting(input: DeadLetterInput, failedAt: Date): { form: DeadLetterForm; record: Message } {
  const first = input.reason === 'too_large' ? 'truncated' : 'whole';
  for (const form of forms.slice(forms.indexOf(first), -1)) {
    const record = deadLetterAs(form, input, failedAt);
    if (sizeOf(record) <= DEAD_LETTER_MAX_BYTES) return { form, record };
  }
  return { form: 'minimal', record: deadLetterAs('minimal', input, failedAt) };
}

/**
 * The dead-letter record of `input` in the given form (see DeadLetterForm). The original's own dlq-*
 * headers (a replayed dead letter that failed again) are replaced, not mixed with this failure's.
 */
export function deadLetterAs(form: DeadLetterForm, input: DeadLetterInput, failedAt = new Date()): Message {
  const { message } = input;
  const dlqHeaders = {
    'dlq-reason': reasonHeader(input.reason, input.detail),
    'dlq-source-topic': message.topic,
    'dlq-source-partition': String(message.partition),
    'dlq-source-offset': message.offset,
    'dlq-failed-at': failedAt.toISOString(),
  };
  const original = Object.fromEntries(
    Object.entries(message.headers).filter(([name]) => !name.startsWith('dlq-')),
  );
  if (form === 'whole')
    return { key: message.key, value: message.value, headers: { ...original, ...dlqHeaders } };
  const truncation = {
    'dlq-truncated': 'true',
    'dlq-original-size': String(message.value?.length ?? 0),
  };
  if (form === 'truncated')
    return {
      key: message.key,
      value: prefix(message.value, TRUNCATED_VALUE_BYTES),
      headers: { ...original, ...dlqHeaders, ...truncation },
    };
  const key = message.key && message.key.length <= MINIMAL_KEY_BYTES ? message.key : null;
  return {
    key,
    value: prefix(message.value, MINIMAL_VALUE_BYTES),
    headers: {
      ...dlqHeaders,
      ...truncation,
      'dlq-dropped': key === message.key ? 'original headers' : 'original headers, key',
    },
  };
}

/** A copy (not a view) of the first bytes: the record must not pin the whole original in memory. */
function prefix(value: Buffer | null, bytes: number): Buffer | null {
  if (value === null) return null;
  return Buffer.from(value.subarray(0, Math.min(bytes, value.length)));
}

/**
 * True when Kafka refused a record or request for its size: MESSAGE_TOO_LARGE (over the topic's
 * max.message.bytes) or RECORD_LIST_TOO_LARGE.
 */
export function refusedForSize(error: unknown): boolean {
  return isKafkaError(error, 'MESSAGE_TOO_LARGE', 'RECORD_LIST_TOO_LARGE');
}

interface Letter {
  input: DeadLetterInput;
  form: DeadLetterForm;
  record: Message;
}

/**
 * Sends dead letters in bounded requests. A request Kafka refuses for size is sent again one record
 * at a time, and a record refused for size is sent again in its next smaller form (whole → truncated
 * → minimal): no input can make this fail. Any other error fails the send (and so the run, which
 * retries; the dead letters already sent may then be sent twice: at least once).
 * Returns how many records went out in each form.
 */
export async function sendDeadLetters(
  producer: Producer,
  topic: string,
  inputs: DeadLetterInput[],
  options: SendDeadLettersOptions = {},
): Promise<Record<DeadLetterForm, number>> {
  return sendDeadLettersWith((messages) => producer.send({ topic, messages }), topic, inputs, options);
}

/** sendDeadLetters through any client: `sendRecords` sends one request to the dead-letter topic. */
export async function sendDeadLettersWith(
  sendRecords: (records: Message[]) => Promise<unknown>,
  topic: string,
  inputs: DeadLetterInput[],
  options: SendDeadLettersOptions = {},
): Promise<Record<DeadLetterForm, number>> {
  const { signal, log, failedAt = new Date() } = options;
  const sent: Record<DeadLetterForm, number> = { whole: 0, truncated: 0, minimal: 0 };
  const letters = inputs.map((input) => ({ input, ...fitting(input, failedAt) }));
  const chunks = chunkBySize<Letter>(letters, undefined, (letter) => sizeOf(letter.record));

  const sendAlone = async ({ input, form: first, record }: Letter): Promise<void> => {
    let form = first;
    let current = record;
    for (;;) {
      signal?.throwIfAborted();
      try {
        await sendRecords([current]);
        sent[form]++;
        return;
      } catch (error) {
        if (!refusedForSize(error) || form === 'minimal') throw error;
        const smaller = forms[forms.indexOf(form) + 1] as DeadLetterForm;
        log?.warn(
          { topic, source: sourceOf(input), form, next: smaller, err: error },
          'the dead-letter topic refused a record for its size: sending it again smaller',
        );
        form = smaller;
        current = deadLetterAs(form, input, failedAt);
      }
    }
  };

  for (let start = 0; start < chunks.length; start += IN_FLIGHT) {
    signal?.throwIfAborted();
    const group = chunks.slice(start, start + IN_FLIGHT);
    const results = await Promise.allSettled(
      group.map((chunk) => sendRecords(chunk.map((item) => item.record))),
    );
    for (const [i, result] of results.entries()) {
      const chunk = group[i] as Letter[];
      if (result.status === 'fulfilled') {
        for (const letter of chunk) sent[letter.form]++;
        continue;
      }
      if (!refusedForSize(result.reason)) throw result.reason;
      // One of these records (or their sum) is too large: find out which, one record at a time.
      for (const letter of chunk) await sendAlone(letter);
    }
  }
  return sent;
}

function sourceOf({ message }: DeadLetterInput): string {
  return `${message.topic}/${message.partition}@${message.offset}`;
}
