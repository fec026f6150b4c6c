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

  it('turns traces on only with an OTLP endpoint', () => {
    expect(loadConfig({}).tracesEndpoint).toBeUndefined();
    expect(loadConfig({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://collector:4318' }).tracesEndpoint).toBe(
      'http://collector:4318',
    );
  });

  it('runs on kafkajs unless KAFKA_CLIENT names platformatic', () => {
    expect(loadConfig({}).kafka.client).toBe('kafkajs');
    expect(loadConfig({ KAFKA_CLIENT: 'platformatic' }).kafka.client).toBe('platformatic');
  });

  it('splits a comma-separated broker list', () => {
    expect(loadConfig({ KAFKA_BROKERS: 'a:9092, b:9093' }).kafka.brokers).toEqual(['a:9092', 'b:9093']);
  });

  it('puts a local cluster on its own ports, one broker per node, and refuses a list of another length', () => {
    expect(loadConfig({ KAFKA_NODES: '3' }).kafka.brokers).toEqual([
      '127.0.0.1:19092',
      '127.0.0.1:19094',
      '127.0.0.1:19096',
    ]);
    expect(() => loadConfig({ KAFKA_NODES: '3', KAFKA_BROKERS: 'a:9092' })).toThrow(
      /KAFKA_NODES=3 .* lists 1: list 3/,
    );
  });

  it('reads Sentinel addresses and the master name together', () => {
    const config = loadConfig({
      REDIS_SENTINELS: '10.0.0.1:26379, [::1]:26380',
      REDIS_SENTINEL_NAME: 'tickflow',
    });
    expect(config.redisSentinel).toEqual({
      name: 'tickflow',
      sentinels: [
        { host: '10.0.0.1', port: 26379 },
        { host: '::1', port: 26380 },
      ],
    });
    expect(loadConfig({}).redisSentinel).toBeUndefined();
  });

  it('refuses Sentinel addresses without the master name, saying to set both', () => {
    expect(() => loadConfig({ REDIS_SENTINELS: 'a:26379' })).toThrow(
      /REDIS_SENTINEL_NAME go together: set both/,
    );
    expect(() => loadConfig({ REDIS_SENTINEL_NAME: 'tickflow' })).toThrow(/REDIS_SENTINELS and/);
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
    ['OTEL_EXPORTER_OTLP_ENDPOINT', '127.0.0.1:4318', 'http://127.0.0.1:4318'],
    ['REDIS_SENTINELS', 'a:26379,b', 'host:port'],
    ['KAFKA_CLIENT', 'librdkafka', 'kafkajs, platformatic'],
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

describe('secrets in configuration errors', () => {
  it('never prints a password, a token or the secret parts of a URL', () => {
    const messageOf = (env: NodeJS.ProcessEnv) => {
      try {
        loadConfig(env);
      } catch (error) {
        return (error as Error).message;
      }
      throw new Error('expected a configuration error');
    };
    const password = messageOf({ WEB_USERNAME: 'ops', WEB_PASSWORD: 'hunter2' });
    expect(password).toContain('WEB_PASSWORD (7 characters, not shown) is invalid');
    expect(password).not.toContain('hunter2');
    const token = messageOf({ API_TOKEN: 'short-secret' });
    expect(token).toContain('API_TOKEN (12 characters, not shown)');
    expect(token).not.toContain('short-secret');
    const url = messageOf({ DATABASE_URL: 'mysql://root:pa55word@db.example/tickflow?sslkey=x' });
    expect(url).toContain('DATABASE_URL="mysql://db.example" is invalid');
    expect(url).not.toMatch(/pa55word|sslkey/);
  });

  it('reads the web limits and the queued manual runs limit', () => {
    const config = loadConfig({
      WEB_MAX_CONNECTIONS: '8',
      WEB_HEADERS_TIMEOUT_MS: '500',
      MANUAL_RUNS_QUEUED_MAX: '3',
      WEB_USERS_FILE: 'users.json',
    });
    expect(config.web.limits).toEqual({ maxConnections: 8, headersTimeoutMs: 500, requestTimeoutMs: 30_000 });
    expect(config.manualRunsQueuedMax).toBe(3);
    expect(config.web.auth.usersFile).toMatch(/\/users\.json$/);
    expect(() => loadConfig({ WEB_MAX_CONNECTIONS: '0' })).toThrow(
      /WEB_MAX_CONNECTIONS="0" is invalid: expected a whole number from 1/,
    );
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
