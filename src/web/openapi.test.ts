import { describe, expect, it } from 'vitest';
import { openApiDocument } from './openapi';

const METHODS = ['get', 'put', 'post', 'delete', 'patch', 'head', 'options', 'trace'] as const;

/** Every operation of the document as `METHOD path` and its operationId (undefined if it has none). */
function operations() {
  const paths = openApiDocument().paths as Record<string, Record<string, { operationId?: string }>>;
  return Object.entries(paths).flatMap(([path, item]) =>
    METHODS.filter((method) => item[method]).map((method) => ({
      operation: `${method.toUpperCase()} ${path}`,
      operationId: item[method]?.operationId,
    })),
  );
}

/** What an operation does, first in its id (a generated client's method name: listSchedules). */
const VERBS = ['get', 'list', 'pause', 'resume', 'trigger', 'backfill', 'cancel', 'rerun', 'mark', 'note'];

describe('the OpenAPI document', () => {
  it('gives every operation an operationId', () => {
    const missing = operations().filter((o) => !o.operationId);
    expect(missing.map((o) => o.operation)).toEqual([]);
    expect(operations().length).toBeGreaterThan(15);
  });

  it('gives each operation its own operationId', () => {
    const ids = operations().map((o) => o.operationId);
    const repeated = ids.filter((id, i) => ids.indexOf(id) !== i);
    expect(repeated).toEqual([]);
  });

  it('names each operation in camelCase, starting with what it does', () => {
    const verb = new RegExp(`^(?:${VERBS.join('|')})(?:[A-Z][a-z]+)*$`);
    const misnamed = operations().filter((o) => !verb.test(o.operationId ?? ''));
    expect(misnamed).toEqual([]);
  });
});
