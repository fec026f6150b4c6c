/**
 * Errors that mean "the service is not reachable now" (refused, reset, timed out, a connection
 * lost or shut down), as opposed to a request that can never work. One list for every caller:
 * the run history's outbox, a trigger's record, and the CLI's one-line explanation.
 */
const NETWORK_CODES = 'ECONNREFUSED|ECONNRESET|ETIMEDOUT|EPIPE|ENOTFOUND|EHOSTUNREACH|EAI_AGAIN';

export function isUnreachable(error: unknown): boolean {
  const { code, message } = error as { code?: string; message?: string };
  if (code && new RegExp(`^(${NETWORK_CODES})$`).test(code)) return true;
  // SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, crash, cannot connect now).
  if (code && /^(08...|57P0[123])$/.test(code)) return true;
  // Drivers that wrap the socket's error keep its code only in the text (kafkajs, ioredis).
  return new RegExp(
    `${NETWORK_CODES}|Connection terminated|Connection (error|timeout)|connect timeout|` +
      'timeout exceeded when trying to connect|Client has encountered a connection error',
    'i',
  ).test(message ?? '');
}
