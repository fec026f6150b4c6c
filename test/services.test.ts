import fs from 'node:fs';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { createKafka } from '../src/kafka/client';
import { deleteTopics, ensureTopics } from '../src/kafka/topics';
import { servicesStatus } from '../src/services/services';
import { runCli } from './cli';
import { type TestEnv, testEnv } from './support';

let t: TestEnv;
afterEach(() => t.cleanup());

describe('local services (real Kafka, Redis, PostgreSQL)', () => {
  it('reports all three ready', async () => {
    t = testEnv('svc');
    const statuses = await servicesStatus(t.config);
    expect(statuses.map((s) => [s.name, s.ready])).toEqual([
      ['redis', true],
      ['postgres', true],
      ['kafka', true],
    ]);
  });

  it('produces and consumes a message through Kafka', async () => {
    t = testEnv('svc');
    const kafka = createKafka(t.config);
    const topic = t.topic('roundtrip');
    expect(await ensureTopics(kafka, [{ name: topic, partitions: 3 }])).toEqual([topic]);
    expect(await ensureTopics(kafka, [{ name: topic, partitions: 3 }])).toEqual([]);

    const producer = kafka.producer({ idempotent: true });
    await producer.connect();
    await producer.send({ topic, messages: [{ key: 'acct-1', value: 'hello' }] });
    await producer.disconnect();

    const consumer = kafka.consumer({ groupId: t.id });
    await consumer.connect();
    await consumer.subscribe({ topic, fromBeginning: true });
    const received = await new Promise<string>((resolve) => {
      void consumer.run({ eachMessage: async ({ message }) => resolve(String(message.value)) });
    });
    await consumer.disconnect();
    await deleteTopics(kafka, [topic]);
    expect(received).toBe('hello');
  });

  it('uses Redis', async () => {
    t = testEnv('svc');
    const redis = new Redis(t.config.redisUrl);
    const key = `${t.id}:probe`;
    await redis.set(key, 'ok', 'EX', 10);
    expect(await redis.get(key)).toBe('ok');
    await redis.del(key);
    redis.disconnect();
  });

  it('`tickflow services status` prints each service and exits 0 when all are ready', async () => {
    t = testEnv('svc');
    const result = await runCli(['services', 'status'], t.env);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/kafka\s+127\.0\.0\.1:9092\s+ready/);
  });

  it.each([
    ['DATABASE_URL', 'not a url'],
    ['KAFKA_BROKERS', 'broker-without-port'],
  ])('a malformed %s fails in one line naming it, exit code 1', async (variable, value) => {
    t = testEnv('svc');
    const result = await runCli(['migrate'], { ...t.env, [variable]: value });
    expect(result.code).toBe(1);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toContain(variable);
  });
});

describe('tickflow services up | status | down', () => {
  it('starts a Kafka where none runs, reports it ready, and `down` stops only that one', async () => {
    t = testEnv('svc');
    const home = `/tmp/${t.id}`;
    // Below Linux's ephemeral range (32768–60999): a port in it may be taken meanwhile as the source
    // port of some outgoing connection (seen under the full suite: "Address already in use").
    // The controller takes port + 1.
    const port = 20_000 + Math.floor(Math.random() * 12_000);
    const env = { ...t.env, TICKFLOW_HOME: home, KAFKA_BROKERS: `127.0.0.1:${port}` };

    const up = await runCli(['services', 'up'], env);
    expect(up.stderr).toBe('');
    expect(up.stdout).toMatch(new RegExp(`kafka\\s+127\\.0\\.0\\.1:${port}\\s+ready\\s+started by tickflow`));
    expect(up.stdout).toMatch(/redis\s+\S+\s+ready\s+external/);

    const status = await runCli(['services', 'status'], env);
    expect(status.code).toBe(0);

    const down = await runCli(['services', 'down'], env);
    expect(down.stdout).toContain('stopped: kafka');
    const after = await runCli(['services', 'status', 'kafka'], env);
    expect(after.code).toBe(1);
    expect(after.stdout).toMatch(/kafka\s+\S+\s+down/);
    // The shared Redis and PostgreSQL were reused, never stopped.
    expect((await runCli(['services', 'status', 'redis', 'postgres'], env)).code).toBe(0);
    fs.rmSync(home, { recursive: true, force: true });
  }, 120_000);
});
