import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { loadConfig } from '../../src/config/config';
import { createLogger } from '../../src/log/logger';
import { servicesDown, servicesUp } from '../../src/services/services';
import { setup as build } from '../faults/build';
import { portIsFree } from '../faults/world';

/** The suite's cluster, as environment variables: what `tickflow services up` would print. */
export type ClusterEnv = Record<
  'KAFKA_NODES' | 'KAFKA_BROKERS' | 'REDIS_URL' | 'REDIS_SENTINELS' | 'REDIS_SENTINEL_NAME' | 'TICKFLOW_HOME',
  string
>;

declare module 'vitest' {
  export interface ProvidedContext {
    clusterEnv: ClusterEnv;
  }
}

/**
 * A free port whose next one is free too (a Kafka node's controller, a Redis master's replica), below
 * Linux's ephemeral range (32768–60999): there, the nodes' own outgoing connections to each other
 * could take a port before the node that should listen on it starts.
 */
async function freePair(taken: Set<number>): Promise<number> {
  for (let tries = 0; tries < 200; tries++) {
    const port = 20_000 + 2 * Math.floor(Math.random() * 6_000);
    if (taken.has(port) || !(await portIsFree(port)) || !(await portIsFree(port + 1))) continue;
    taken.add(port).add(port + 1);
    return port;
  }
  throw new Error('no two neighbouring free ports found');
}

let env: ClusterEnv | undefined;

/**
 * vitest globalSetup of `npm run test:cluster`: builds dist/ (the suite runs bin/tickflow), then starts
 * a 3-node KRaft cluster and Redis with a replica and three Sentinels on free ports, in a temporary
 * TICKFLOW_HOME, with the project's launcher. PostgreSQL is the shared one (each test its own schema).
 */
export async function setup(project: TestProject): Promise<void> {
  build();
  const home = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-cluster-'));
  const taken = new Set<number>();
  const brokers = [await freePair(taken), await freePair(taken), await freePair(taken)];
  const redis = await freePair(taken);
  const sentinels = [await freePair(taken), await freePair(taken), await freePair(taken)];
  env = {
    KAFKA_NODES: '3',
    KAFKA_BROKERS: brokers.map((port) => `127.0.0.1:${port}`).join(','),
    REDIS_URL: `redis://127.0.0.1:${redis}`,
    REDIS_SENTINELS: sentinels.map((port) => `127.0.0.1:${port}`).join(','),
    REDIS_SENTINEL_NAME: 'tickflow-cluster',
    TICKFLOW_HOME: home,
  };
  const config = loadConfig({ ...process.env, ...env });
  const begun = Date.now();
  await servicesUp(config, createLogger('warn', 'cluster'), ['kafka', 'redis']);
  console.log(
    `cluster suite: 3 Kafka nodes, Redis + replica + 3 Sentinels up in ${((Date.now() - begun) / 1000).toFixed(1)} s`,
  );
  project.provide('clusterEnv', env);
}

export async function teardown(): Promise<void> {
  if (!env) return;
  const config = loadConfig({ ...process.env, ...env });
  await servicesDown(config, createLogger('warn', 'cluster'));
  if (!process.env.CLUSTER_KEEP_HOME) fs.rmSync(env.TICKFLOW_HOME, { recursive: true, force: true });
}
