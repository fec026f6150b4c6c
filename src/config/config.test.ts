import { describe, expect, it } from 'vitest';
import { ConfigError, httpUrl, loadConfig, publicWebUrl } from './config';

describe('loadConfig', () => {
  it('has local defaults for everything', () => {
    const config = loadConfig({});
    expect(config.kafka.brokers).toEqual(['127.0.0.1:9092']);
    expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
    expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/tickflow');
    expect(config.web.port).toBe(3000);
  });

  it('splits a comma-separated broker list', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093' }).kafka.brokers).toEqual(['a:9092', 'b:9093']);
  });

  it.each([
    ['DATABASE_URL', 'localhost:5432/tickflow', 'postgres://'],
    ['DATABASE_URL', 'mysql://root@localhost/db', 'postgres://'],
    ['KAFKA_BROKERS', 'localhost', 'host:port'],
    ['KAFKA_BROKERS', '127.0.0.1:9092,', 'host:port'],
    ['REDIS_URL', 'http://localhost', 'redis://'],
    ['WEB_PORT', '70000', 'to 65535'],
    ['WEB_PORT', '', 'expected a port'],
    ['DATABASE_SCHEMA', 'x; drop', 'SQL identifier'],
    ['QUEUE_PREFIX', 'a:b', 'letters, digits'],
    ['LOG_LEVEL', 'loud', 'info'],
  ])('rejects %s=%s in one line naming the variable and the expected form', (variable, value, expected) => {
    const attempt = () => loadConfig({ [variable]: value });
    expect(attempt).toThrow(ConfigError);
    try {
      attempt();
    } catch (error) {
      const message = (error as Error).message;
      expect(message).toContain(variable);
      expect(message).toContain(expected);
      expect(message).not.toContain('\n');
    }
  });
});

describe('web addresses', () => {
  it('brackets an IPv6 host and links to loopback when the UI listens on every address', () => {
    expect(httpUrl('::1', 3000)).toBe('http://[::1]:3000');
    expect(publicWebUrl({ host: '0.0.0.0', port: 3000 })).toBe('http://127.0.0.1:3000');
    expect(publicWebUrl({ host: '0.0.0.0', port: 3000, publicUrl: 'https://ops.example' })).toBe(
      'https://ops.example',
    );
  });
});
