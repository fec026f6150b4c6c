import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { loadConfig } from '../../src/config/config';
import { assertSafeToServe } from '../../src/web/auth';

/**
 * Static checks of the Dockerfile, .dockerignore and docker-compose.yml: this machine has no Docker
 * engine, so the image is not built here. What can be checked without one is: the compose file's
 * services and wiring, that tickflow accepts the environment compose gives it (and refuses to
 * serve without credentials), that the image copies what exists and what .dockerignore lets
 * through, and that its HEALTHCHECK command works.
 */
const root = path.resolve(import.meta.dirname, '../..');
const read = (file: string) => readFileSync(path.join(root, file), 'utf8');

interface ComposeService {
  image?: string;
  build?: string;
  profiles?: string[];
  command?: string[];
  ports?: string[];
  environment?: Record<string, string | number | null>;
  depends_on?: Record<string, { condition: string }>;
  healthcheck?: { test: string[] };
}

const compose = parse(read('docker-compose.yml')) as { services: Record<string, ComposeService> };
const services = compose.services;
const tickflow = services.tickflow as ComposeService;

/** Compose's `${NAME:-default}` with NAME unset; a null value (pass-through) stays unset. */
function environmentOf(service: ComposeService, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(service.environment ?? {})) {
    if (value === null) continue;
    env[name] = String(value).replace(/\$\{[A-Z_]+:-([^}]*)\}/g, '$1');
  }
  return { ...env, ...extra };
}

describe('docker-compose.yml', () => {
  it('has Kafka, Redis and PostgreSQL, each with a health check, and tickflow behind the app profile', () => {
    expect(Object.keys(services).sort()).toEqual(['kafka', 'postgres', 'redis', 'tickflow']);
    for (const name of ['kafka', 'redis', 'postgres']) {
      expect(services[name]?.healthcheck?.test.length, name).toBeGreaterThan(0);
      expect(
        services[name]?.profiles,
        `${name} starts with a plain \`docker compose up -d\``,
      ).toBeUndefined();
    }
    // A plain `docker compose up -d` starts the three services only, as the README says.
    expect(tickflow.profiles).toEqual(['app']);
    expect(tickflow.build).toBe('.');
    expect(tickflow.command).toEqual(['scheduler']);
    expect(tickflow.ports).toEqual(['3000:3000']);
  });

  it('publishes the data stores on 127.0.0.1 only: none has credentials (PostgreSQL trusts every connection)', () => {
    for (const name of ['kafka', 'redis', 'postgres']) {
      const ports = services[name]?.ports ?? [];
      expect(ports.length, name).toBeGreaterThan(0);
      for (const port of ports) expect(port, name).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
    }
  });

  it('starts tickflow once the three services are healthy', () => {
    expect(tickflow.depends_on).toEqual({
      kafka: { condition: 'service_healthy' },
      redis: { condition: 'service_healthy' },
      postgres: { condition: 'service_healthy' },
    });
  });

  it('points tickflow at the services by their compose names, Kafka at a listener it advertises as such', () => {
    const env = environmentOf(tickflow);
    const advertised = String(services.kafka?.environment?.KAFKA_ADVERTISED_LISTENERS).split(',');
    expect(advertised.map((listener) => listener.replace(/^[A-Z]+:\/\//, ''))).toContain(env.KAFKA_BROKERS);
    expect(env.KAFKA_BROKERS).toMatch(/^kafka:\d+$/);
    const [, port] = String(env.KAFKA_BROKERS).split(':');
    expect(String(services.kafka?.environment?.KAFKA_LISTENERS)).toContain(`:${port}`);
    // The host keeps its 127.0.0.1:9092, as the native launcher has it.
    expect(advertised).toContain('PLAINTEXT://127.0.0.1:9092');
    expect(env.REDIS_URL).toBe('redis://redis:6379');
    expect(env.DATABASE_URL).toBe('postgres://postgres@postgres:5432/tickflow');
  });

  it('sets only variables tickflow reads', () => {
    const config = read('src/config/config.ts');
    for (const name of Object.keys(tickflow.environment ?? {})) expect(config, name).toContain(`  ${name}: `);
  });

  it('is never open: credentials pass through from the host, and without them tickflow refuses to serve', () => {
    const environment = tickflow.environment ?? {};
    for (const name of [
      'API_TOKEN',
      'WEB_USERNAME',
      'WEB_PASSWORD',
      'WEB_USERS_FILE',
      'WEB_READ_ONLY',
      'METRICS_PUBLIC',
    ]) {
      expect(environment, name).toHaveProperty(name, null);
    }
    const open = loadConfig(environmentOf(tickflow));
    expect(open.web.host).toBe('0.0.0.0');
    expect(open.web.metricsPublic).toBe(false);
    expect(() => assertSafeToServe(open.web)).toThrow(/refusing to serve .* without credentials/);

    const withToken = loadConfig(environmentOf(tickflow, { API_TOKEN: 'a-token-of-24-characters' }));
    expect(() => assertSafeToServe(withToken.web)).not.toThrow();
    expect(withToken.kafka.brokers).toEqual(['kafka:29092']);
    expect(withToken.web.publicUrl).toBe('http://127.0.0.1:3000');
  });
});

/** The Dockerfile's instructions, continuation lines joined. */
const instructions = read('Dockerfile')
  .replace(/\\\n/g, ' ')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line && !line.startsWith('#'));
const stages = instructions.filter((line) => line.startsWith('FROM '));
const finalStage = instructions.slice(instructions.lastIndexOf(stages.at(-1) as string));
const jsonArgument = (instruction: string) => {
  const line = finalStage.find((l) => l.startsWith(`${instruction} `)) as string;
  return JSON.parse(line.slice(line.indexOf('['))) as string[];
};

describe('Dockerfile', () => {
  it('builds dist/ in one stage and installs the production dependencies from the lock in another', () => {
    expect(stages).toHaveLength(3);
    expect(stages[0]).toMatch(/ AS build$/);
    expect(stages[1]).toMatch(/ AS deps$/);
    expect(instructions).toContainEqual('RUN npm run build');
    expect(instructions).toContainEqual(expect.stringMatching(/^RUN npm ci --omit=dev --ignore-scripts/));
    expect(finalStage).toContainEqual('COPY --from=build /app/dist ./dist');
    // The image runs what bin/tickflow runs: the built CLI.
    expect(read('bin/tickflow')).toContain('dist/tickflow.js');
  });

  it('runs on the Node that CI runs the suite on (.ci/run), which package.json allows', () => {
    const image = instructions.find((line) => line.startsWith('ARG NODE_IMAGE='));
    const ciMajor = read('.ci/run').match(/bash \.ci\/get-node (\d+)/)?.[1];
    expect(ciMajor).toBeDefined();
    expect(image).toMatch(new RegExp(`^ARG NODE_IMAGE=node:${ciMajor}-`));
    const minimum = (JSON.parse(read('package.json')) as { engines: { node: string } }).engines.node;
    expect(Number(ciMajor)).toBeGreaterThanOrEqual(Number(minimum.match(/>=(\d+)/)?.[1]));
  });

  it('runs tickflow as a non-root user, serving on all interfaces', () => {
    const user = finalStage.filter((line) => line.startsWith('USER ')).at(-1);
    expect(user).toBeDefined();
    expect(user).not.toMatch(/^USER (root|0)(:|$)/);
    expect(finalStage.find((line) => line.startsWith('EXPOSE '))).toBe('EXPOSE 3000 3001');
    expect(finalStage.join('\n')).toContain('WEB_HOST=0.0.0.0');
    expect(jsonArgument('ENTRYPOINT')).toEqual(['./bin/tickflow']);
    expect(jsonArgument('CMD')).toEqual(['scheduler']);
  });

  it('copies files that exist and that .dockerignore lets into the build context', () => {
    const allowed = read('.dockerignore')
      .split('\n')
      .filter((line) => line.startsWith('!'))
      .map((line) => line.slice(1));
    expect(read('.dockerignore').split('\n')).toContain('**');
    const copies = instructions.filter((line) => line.startsWith('COPY ') && !line.includes('--from='));
    expect(copies.length).toBeGreaterThan(0);
    for (const copy of copies) {
      const sources = copy.split(/\s+/).slice(1, -1);
      for (const source of sources) {
        expect(existsSync(path.join(root, source)), source).toBe(true);
        expect(allowed, source).toContain(source);
      }
    }
    // Every top-level entry the runtime needs (bin/tickflow runs src/cli/main.ts; jobs/ and migrations/ are read).
    for (const needed of ['bin', 'src', 'jobs', 'migrations', 'schedules.yaml', 'package.json'])
      expect(allowed).toContain(needed);
  });

  describe('HEALTHCHECK', () => {
    const command = jsonArgument('HEALTHCHECK');
    let server: Server | undefined;
    afterEach(() => {
      server?.close();
      server = undefined;
    });

    const check = (env: Record<string, string>) =>
      new Promise<number | null>((resolve) => {
        const [program, ...args] = command as [string, ...string[]];
        spawn(program, args, { env: { ...process.env, ...env }, stdio: 'ignore' }).on('exit', resolve);
      });

    const serve = (status: number) =>
      new Promise<number>((resolve) => {
        const health = createServer((req, res) => {
          res.statusCode = req.url === '/health' ? status : 404;
          res.end();
        });
        server = health.listen(0, '127.0.0.1', () => resolve((health.address() as AddressInfo).port));
      });

    /** A port nothing listens on: one the system gave and took back. */
    const freePort = () =>
      new Promise<number>((resolve) => {
        const probe = createServer().listen(0, '127.0.0.1', () => {
          const { port } = probe.address() as AddressInfo;
          probe.close(() => resolve(port));
        });
      });

    it('is healthy when /health answers on the scheduler port or on the worker port', async () => {
      const port = await serve(200);
      const closed = await freePort();
      expect(await check({ WEB_PORT: String(port), WORKER_PORT: String(closed) })).toBe(0);
      expect(await check({ WEB_PORT: String(closed), WORKER_PORT: String(port) })).toBe(0);
    });

    it('is unhealthy when neither answers, or /health fails', async () => {
      const closed = await freePort();
      expect(await check({ WEB_PORT: String(closed), WORKER_PORT: String(closed) })).toBe(1);
      const port = await serve(503);
      expect(await check({ WEB_PORT: String(port), WORKER_PORT: String(closed) })).toBe(1);
    });
  });
});
