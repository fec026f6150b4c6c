import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config';
import { explainUnreachable } from './unreachable';

describe('explainUnreachable', () => {
  it('names the Sentinels and their variable when Redis is reached through Sentinel', () => {
    const config = loadConfig({
      REDIS_SENTINELS: '127.0.0.1:26379,127.0.0.1:26380',
      REDIS_SENTINEL_NAME: 'tickflow',
    });
    const error = new Error(
      'All sentinels are unreachable. Retrying from scratch after 10ms. Last error: Connection timeout',
    );
    expect(explainUnreachable(error, config)).toBe(
      'cannot reach Redis Sentinel at 127.0.0.1:26379,127.0.0.1:26380 (REDIS_SENTINELS): All sentinels are unreachable. ' +
        'Retrying from scratch after 10ms. Last error: Connection timeout. Start it (`tickflow services up`) or fix REDIS_SENTINELS',
    );
  });

  it('names REDIS_URL without Sentinel', () => {
    const error = new Error('connect ECONNREFUSED 127.0.0.1:6379');
    expect(explainUnreachable(error, loadConfig({}))).toMatch(
      /^cannot reach Redis at 127\.0\.0\.1:6379 \(REDIS_URL\)/,
    );
  });
});
