import { describe, expect, it } from 'vitest';
import { isUnreachable } from '../health/unreachable';

describe('isUnreachable: PostgreSQL away (queue the write) or a write that can never work (drop it)', () => {
  it.each([
    [{ code: 'ECONNREFUSED', message: 'connect ECONNREFUSED 127.0.0.1:5432' }, true],
    [{ code: 'ECONNRESET' }, true],
    [{ code: '57P01', message: 'terminating connection due to administrator command' }, true],
    [{ code: '08006', message: 'connection failure' }, true],
    [new Error('Connection terminated unexpectedly'), true],
    [new Error('timeout exceeded when trying to connect'), true],
    [{ code: '23505', message: 'duplicate key value violates unique constraint' }, false],
    [{ code: '42P01', message: 'relation "runs" does not exist' }, false],
    [new Error('boom'), false],
  ])('%j → %s', (error, expected) => {
    expect(isUnreachable(error)).toBe(expected);
  });
});
