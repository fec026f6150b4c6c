import { afterEach, beforeEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config';
import { Resources } from '../../src/runtime/resources';
import { committedOffsets, type StreamingEnv, streamingEnv } from './streaming-env';
import { TcpProxy } from './tcp-proxy';

let env: StreamingEnv;
let proxy: TcpProxy;
let outageResources: Resources;

beforeEach(async () => {
  env = await streamingEnv('pgdown');
  const target = new URL(env.config.databaseUrl);
  proxy = new TcpProxy(target.hostname, Number(target.port || 5432));
  await proxy.open();
  const viaProxy = new URL(env.config.databaseUrl);
  viaProxy.port = String(proxy.port);
  outageResources = new Resources(loadConfig({ ...env.env, DATABASE_URL: viaProxy.toString() }), env.log);
});

afterEach(async () => {
  await outageResources.close();
  await proxy.cut();
  await env.cleanup();
});

it('fails the run while PostgreSQL is unreachable, commits nothing, and the next run processes the same messages', async () => {
  await env.consume({ maxWait: 100 }, outageResources); // warm: group joined, connections open
  await env.produce({ count: 300, seed: 5 });

  await proxy.cut();
  // PostgreSQL's connection error, not any failure (a Kafka error must not pass this test).
  await expect(env.consume({ batchSize: 1_000, maxWait: 500 }, outageResources)).rejects.toThrow(
    /ECONNREFUSED|ECONNRESET|Connection terminated/,
  );
  expect(await committedOffsets(env)).toEqual(['-1', '-1', '-1']);

  await proxy.open(); // PostgreSQL is back, same process, same group member
  const recovered = await env.consume({ batchSize: 1_000, maxWait: 500 }, outageResources);
  expect(recovered).toMatchObject({ consumed: 300, scored: 300, lagAfter: 0 });
  expect(await env.count('predictions')).toBe(300);
});
