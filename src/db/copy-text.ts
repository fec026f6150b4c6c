import type { AccountProfile } from '../domain/profile';
import type { ScoredTransaction } from './scoring-rows';

/** A scoring run's rows as COPY data (PostgreSQL's text format), encoded to bytes in chunks. */

/** Rows per piece written to the COPY stream: big enough to keep the socket busy, small in memory. */
const COPY_PIECE_ROWS = 2_000;

/** A piece's COPY data, table by table. */
export interface PieceText {
  transactions: Buffer[];
  predictions: Buffer[];
  alerts: Buffer[];
}

export function mergedText(pieces: PieceText[]): PieceText {
  return {
    transactions: pieces.flatMap((piece) => piece.transactions),
    predictions: pieces.flatMap((piece) => piece.predictions),
    alerts: pieces.flatMap((piece) => piece.alerts),
  };
}

/**
 * Rows as COPY data, COPY_PIECE_ROWS lines a chunk: big enough to keep the socket busy. Encoded now
 * (the socket would encode them anyway): bytes outside the JavaScript heap wait in the queue, not
 * thousands of strings for the garbage collector to promote and trace.
 */
export function copyChunks<Row>(rows: Iterable<Row>, line: (row: Row) => string): Buffer[] {
  const chunks: Buffer[] = [];
  let text = '';
  let count = 0;
  for (const row of rows) {
    text += line(row);
    if (++count % COPY_PIECE_ROWS === 0) {
      chunks.push(Buffer.from(text));
      text = '';
    }
  }
  if (text) chunks.push(Buffer.from(text));
  return chunks;
}

/** Account histories as COPY text for profile_updates. */
export function profileText(profiles: ReadonlyMap<string, AccountProfile>): Buffer[] {
  return copyChunks(
    profiles,
    ([account, profile]) => `${copyText(account)}\t${copyText(JSON.stringify(profile))}\n`,
  );
}

export function transactionLine({ transaction: t, position }: ScoredTransaction): string {
  return (
    `${copyText(t.transactionId)}\t${copyText(t.accountId)}\t${copyText(t.counterparty)}\t${t.amount}\t` +
    `${copyText(t.currency)}\t${copyText(t.merchant)}\t${copyText(t.category)}\t${copyText(t.channel)}\t` +
    `${copyText(t.country)}\t${copyNullable(t.county)}\t${copyNullable(t.deviceId)}\t${copyText(t.timestamp)}\t${copyText(t.source)}\t` +
    `${t.label ? t.label.fraud : NULL}\t${copyNullable(t.label?.pattern)}\t` +
    `${copyText(position.topic)}\t${position.partition}\t${position.offset}\n`
  );
}

export function predictionLine({ transaction, prediction }: ScoredTransaction, model: string): string {
  return (
    `${copyText(transaction.transactionId)}\t${prediction.score}\t${prediction.isFraud}\t` +
    `${copyText(JSON.stringify(prediction.reasons))}\t${copyText(model)}\n`
  );
}

export function alertLine({ transaction, prediction }: ScoredTransaction): string {
  return (
    `${copyText(transaction.transactionId)}\t${copyText(transaction.accountId)}\t${prediction.score}\t` +
    `${copyText(JSON.stringify(prediction.reasons))}\n`
  );
}

/** COPY's text format: NULL is \N; backslash, tab, newline and carriage return are escaped. */
const NULL = '\\N';

const COPY_SPECIAL = /[\\\t\n\r]/;

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

export function copyText(value: string): string {
  return COPY_SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => COPY_ESCAPES[c] as string) : value;
}

function copyNullable(value: string | null | undefined): string {
  return value === null || value === undefined ? NULL : copyText(value);
}
