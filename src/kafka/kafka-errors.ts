/**
 * True when Kafka answered with one of the protocol errors `names` (e.g. MESSAGE_TOO_LARGE), with
 * either client: kafkajs names it in `type` and may wrap it in a cause chain; @platformatic/kafka names
 * it in `apiId`, often inside an AggregateError's `errors`.
 */
export function isKafkaError(error: unknown, ...names: string[]): boolean {
  return matches(error, new Set(names), 0);
}

function matches(error: unknown, names: Set<string>, depth: number): boolean {
  if (!(error instanceof Error) || depth > 5) return false;
  const { type, apiId } = error as { type?: unknown; apiId?: unknown };
  if (names.has(String(type)) || names.has(String(apiId))) return true;
  const nested = error instanceof AggregateError ? error.errors : [];
  return [error.cause, ...nested].some((inner) => matches(inner, names, depth + 1));
}
