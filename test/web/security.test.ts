import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulesView, ScheduleView } from '../../src/control/views';
import type { SessionView } from '../../src/web/session';
import { runCli } from '../cli';
import { SchedulerTest, sleep, waitFor } from '../scheduler/support';

/**
 * Issue 22, through real HTTP against a running scheduler (real Redis and PostgreSQL): the Host and
 * Origin checks, what a request may change in a run, roles, and the hardening.
 */

let s: SchedulerTest;
afterEach(() => s.cleanup());

const SCHEDULES = `schedules:
  nap:
    job: sleep
    cron: "0 0 * * *"
    params: { ms: 5 }
`;

async function start(env: NodeJS.ProcessEnv = {}, schedules = SCHEDULES) {
  s = new SchedulerTest('security', env);
  s.writeSchedules(schedules);
  const app = await s.start({ web: true });
  return { app, url: new URL(app.web?.url ?? '') };
}

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json<T = Record<string, unknown>>(): T;
}

/** A request with exactly these headers (Host included): what a browser on another site could send. */
function request(
  url: URL,
  pathname: string,
  options: { method?: string; headers?: Record<string, string>; body?: unknown } = {},
): Promise<Answer> {
  const body = options.body === undefined ? undefined : JSON.stringify(options.body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: url.port,
        path: pathname,
        method: options.method ?? 'GET',
        setHost: false,
        headers: {
          host: url.host,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...options.headers,
        },
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (chunk) => {
          text += chunk;
        });
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            headers: res.headers,
            text,
            json: <T>() => JSON.parse(text) as T,
          }),
        );
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

const basic = (user: string, password: string) => ({
  authorization: `Basic ${Buffer.from(`${user}:${password}`).toString('base64')}`,
});

describe('Host and Origin: loopback is not trust', () => {
  it('a Host naming another site gets 421 before anything else, and pauses nothing (DNS rebinding)', async () => {
    const { url } = await start({ WEB_PUBLIC_URL: 'https://tickflow.example.com' });
    const port = url.port;
    const rebound = await request(url, '/api/v1/schedules/nap/pause', {
      method: 'POST',
      body: {},
      headers: { host: `evil.example:${port}`, origin: `http://evil.example:${port}` },
    });
    expect(rebound.status).toBe(421);
    expect(rebound.json().error).toMatch(/does not answer for Host "evil\.example:\d+".*WEB_PUBLIC_URL/);
    for (const host of [`evil.example:${port}`, `127.0.0.1:${Number(port) + 1}`, '', `[::2]:${port}`]) {
      for (const pathname of ['/health', '/ready', '/schedules', '/api/v1/schedules', '/ui', '/metrics']) {
        const answer = await request(url, pathname, { headers: { host } });
        expect(answer.status, `${host} ${pathname}`).toBe(421);
      }
    }
    // Loopback by name or address, with the port; the public URL's host (a proxy that keeps Host).
    for (const host of [
      `127.0.0.1:${port}`,
      `localhost:${port}`,
      `127.0.0.2:${port}`,
      'tickflow.example.com',
    ]) {
      expect((await request(url, '/api/v1/schedules', { headers: { host } })).status, host).toBe(200);
    }
    const view = (await request(url, '/api/v1/schedules/nap')).json<ScheduleView>();
    expect(view.paused).toBe(false);
  });

  it('a write with an Origin that is not this server, `null` included, gets 403; reads and same-origin writes pass', async () => {
    const { url } = await start();
    for (const origin of [
      'null',
      'http://evil.example',
      `http://localhost:${Number(url.port) + 1}`,
      'file://',
    ]) {
      const answer = await request(url, '/api/v1/schedules/nap/pause', {
        method: 'POST',
        body: {},
        headers: { origin },
      });
      expect(answer.status, origin).toBe(403);
      expect(answer.json().error, origin).toMatch(/cross-origin requests may not change state/);
      const board = await request(url, '/ui/api/queues/nap/pause', { method: 'PUT', headers: { origin } });
      expect(board.status, origin).toBe(403);
    }
    expect((await request(url, '/api/v1/schedules/nap')).json<ScheduleView>().paused).toBe(false);
    expect((await request(url, '/api/v1/schedules', { headers: { origin: 'null' } })).status).toBe(200);
    const same = await request(url, '/api/v1/schedules/nap/pause', {
      method: 'POST',
      body: {},
      headers: { origin: url.origin },
    });
    expect(same.status).toBe(200);
  });
});

describe('what a request may change in a run', () => {
  it('a consumer trigger with an overridden predictor.url, topic or group gets 400 for each, and nothing reaches another port', async () => {
    // What a redirected run would call: the listener counts every connection it is offered.
    const connections: net.Socket[] = [];
    const listener = net.createServer((socket) => {
      connections.push(socket);
      socket.destroy();
    });
    await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve));
    const port = (listener.address() as net.AddressInfo).port;
    try {
      const { url } = await start(
        {},
        `schedules:
  consumer:
    job: consumer-batch
    every: 10s
    enabled: false
    params: { topic: team-a.tx, group: team-a }
  consumer-open:
    job: consumer-batch
    every: 10s
    enabled: false
    overridable: [topic, batchSize]
`,
      );
      const elsewhere = `http://127.0.0.1:${port}/predict`;
      const overrides: [string, Record<string, unknown>][] = [
        ['predictor', { predictor: { type: 'http', url: elsewhere } }],
        ['predictor.url', { 'predictor.url': elsewhere }],
        ['topic', { topic: 'team-b.transactions' }],
        ['group', { group: 'team-b-consumers' }],
      ];
      for (const [field, params] of overrides) {
        const api = await request(url, '/api/v1/schedules/consumer/runs', {
          method: 'POST',
          body: { params },
        });
        expect(api.status, field).toBe(400);
        const { issues } = api.json<{ issues: { field: string; message: string }[] }>();
        expect(issues, field).toEqual([
          {
            field,
            message: expect.stringMatching(
              /^not overridable in a trigger of consumer \(may override: batchSize, maxWait, job consumer-batch's defaults\); to allow it, list it in schedules\.yaml: consumer: \{ overridable: \[batchSize, maxWait, /,
            ),
          },
        ]);
        // Bull Board's "Add job" obeys the same rule.
        const board = await request(url, '/ui/api/queues/consumer/add', {
          method: 'POST',
          body: { name: 'x', data: params },
        });
        expect(board.status, field).toBe(400);
        expect(board.json().message, field).toMatch(/not overridable in a trigger of consumer/);
      }
      // All three at once: each named.
      const all = await request(url, '/api/v1/schedules/consumer/runs', {
        method: 'POST',
        body: {
          params: { predictor: { type: 'http', url: elsewhere }, topic: 'x', group: 'y', batchSize: 5 },
        },
      });
      expect(all.status).toBe(400);
      expect(
        all
          .json<{ issues: { field: string }[] }>()
          .issues.map((i) => i.field)
          .sort(),
      ).toEqual(['group', 'predictor', 'topic']);
      // The CLI too: one path for every trigger.
      const cli = await runCli(['trigger', 'consumer', '--param', `topic=team-b.transactions`], s.env);
      expect(cli.code).toBe(1);
      expect(cli.stderr).toMatch(/topic: not overridable in a trigger of consumer/);

      // What the job allows, and what the file lists (a destination only when listed), pass.
      const harmless = await request(url, '/api/v1/schedules/consumer/runs', {
        method: 'POST',
        body: { params: { batchSize: 7, topic: 'team-a.tx' } },
      });
      expect(harmless.status).toBe(201);
      const listed = await request(url, '/api/v1/schedules/consumer-open/runs', {
        method: 'POST',
        body: { params: { topic: 'listed.tx' } },
      });
      expect(listed.status).toBe(201);
      const view = (await request(url, '/api/v1/schedules/consumer')).json<ScheduleView>();
      expect(view.overridable).toEqual(['batchSize', 'maxWait']);

      await sleep(1_500);
      expect(connections).toHaveLength(0);
      const { rows } = await s.db.query<{ params: Record<string, unknown> }>(
        "select params from runs where schedule = 'consumer' and trigger = 'manual'",
      );
      expect(rows.map((row) => row.params)).toEqual([
        expect.objectContaining({ batchSize: 7, topic: 'team-a.tx' }),
      ]);
    } finally {
      listener.close();
    }
  });

  it('at most MANUAL_RUNS_QUEUED_MAX queued manual runs per caller and schedule: 429 past it', async () => {
    const { url } = await start(
      { MANUAL_RUNS_QUEUED_MAX: '2' },
      'schedules:\n  held:\n    job: sleep\n    every: 1h\n    enabled: false\n',
    );
    const trigger = () => request(url, '/api/v1/schedules/held/runs', { method: 'POST', body: {} });
    expect((await trigger()).status).toBe(201);
    expect((await trigger()).status).toBe(201);
    const third = await trigger();
    expect(third.status).toBe(429);
    expect(third.json().error).toMatch(
      /^local has 2 manual runs of held queued, the most allowed \(MANUAL_RUNS_QUEUED_MAX=2\)/,
    );
    const board = await request(url, '/ui/api/queues/held/job-schedulers/held/run', { method: 'PUT' });
    expect(board.status).toBe(429);
    // Another caller has a limit of its own.
    const cli = await runCli(['trigger', 'held'], s.env);
    expect(cli.code, cli.stderr).toBe(0);
  });
});

describe('roles: users in WEB_USERS_FILE', () => {
  it('viewer reads, operator changes, admin also cleans Bull Board; tokens per user; the file keeps hashes only', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-users-'));
    const usersFile = path.join(dir, 'users.json');
    try {
      const env = { WEB_USERS_FILE: usersFile };
      s = new SchedulerTest('roles', env);
      for (const [name, role] of [
        ['vera', 'viewer'],
        ['olive', 'operator'],
        ['ada', 'admin'],
      ] as const) {
        const added = await runCli(['users', 'add', name, '--role', role], s.env, `${name}-password\n`);
        expect(added.stdout, added.stderr).toContain(`added ${name} (${role})`);
      }
      const issued = await runCli(['users', 'token', 'olive'], s.env);
      const token = issued.stdout.trim();
      expect(token).toMatch(/^tf_[A-Za-z0-9_-]{43}$/);
      const stored = fs.readFileSync(usersFile, 'utf8');
      expect(stored).not.toMatch(/password"?:\s*"[a-z]+-password|tf_/);
      expect(stored).toMatch(/"password": "scrypt\$/);
      expect(fs.statSync(usersFile).mode & 0o777).toBe(0o600);
      expect((await runCli(['users', 'add', 'x', '--role', 'root'], s.env, 'long-enough\n')).stderr).toMatch(
        /expected one of viewer, operator, admin/,
      );
      expect((await runCli(['users', 'add', 'x', '--role', 'viewer'], s.env, 'short\n')).stderr).toMatch(
        /at least 8 characters/,
      );

      s.writeSchedules(SCHEDULES);
      const app = await s.start({ web: true });
      const url = new URL(app.web?.url ?? '');
      const as =
        (headers: Record<string, string>) =>
        (pathname: string, method = 'GET', body?: unknown) =>
          request(url, pathname, { method, headers, ...(body === undefined ? {} : { body }) });
      const vera = as(basic('vera', 'vera-password'));
      const olive = as({ authorization: `Bearer ${token}` });
      const ada = as(basic('ada', 'ada-password'));

      expect((await as({})('/api/v1/schedules')).status).toBe(401);
      expect((await as(basic('vera', 'wrong-password'))('/api/v1/schedules')).status).toBe(401);
      expect((await vera('/api/v1/me')).json<SessionView>()).toEqual({
        user: 'vera',
        role: 'viewer',
        readOnly: false,
        can: { toggle: false, trigger: false, backfill: false, cancel: false },
      });
      expect((await olive('/api/v1/me')).json<SessionView>()).toMatchObject({
        user: 'olive',
        role: 'operator',
      });

      // A viewer reads everything and changes nothing: every write route of the API and Bull Board.
      expect((await vera('/api/v1/schedules')).status).toBe(200);
      expect((await vera('/ui')).status).toBe(200);
      const writes: [string, string, unknown][] = [
        ['POST', '/api/v1/schedules/nap/pause', {}],
        ['POST', '/api/v1/schedules/nap/resume', {}],
        ['POST', '/api/v1/schedules/nap/runs', {}],
        [
          'POST',
          '/api/v1/schedules/nap/backfill',
          { from: '2024-03-01T00:00:00Z', to: '2024-03-02T00:00:00Z' },
        ],
        ['DELETE', '/api/v1/schedules/nap/backfills/deadbeef', undefined],
        ['POST', '/api/v1/schedules/nap/runs/some-run/cancel', {}],
        ['POST', '/api/v1/schedules/nap/runs/some-run/rerun', {}],
        ['POST', '/api/v1/schedules/nap/runs/some-run/mark', { state: 'completed' }],
        ['POST', '/api/v1/schedules/nap/runs/some-run/note', { note: 'seen' }],
        ['POST', '/api/v1/schedules/nap/runs/bulk', { action: 'rerun', dryRun: true }],
      ];
      for (const [method, pathname, body] of writes) {
        const refused = await vera(pathname, method, body);
        expect(refused.status, pathname).toBe(403);
        expect(refused.json().error, pathname).toMatch(/needs the operator role; vera is a viewer/);
      }
      for (const [method, pathname] of [
        ['PUT', '/ui/api/queues/nap/pause'],
        ['PUT', '/ui/api/queues/pause'],
        ['POST', '/ui/api/queues/nap/add'],
        ['PUT', '/ui/api/queues/nap/job-schedulers/nap/run'],
        ['PUT', '/ui/api/queues/nap/retry/failed'],
        ['PUT', '/ui/api/queues/nap/some-run/clean'],
      ]) {
        const refused = await vera(pathname as string, method, method === 'POST' ? { data: {} } : undefined);
        expect(refused.status, pathname).toBe(403);
        expect(refused.json().message, pathname).toMatch(/needs the operator role; vera is a viewer/);
      }
      // Bull Board's UI offers a viewer no action: every queue comes read-only.
      const queues = (await vera('/ui/api/queues')).json<{ queues: { readOnlyMode: boolean }[] }>().queues;
      expect(queues.map((q) => q.readOnlyMode)).toEqual([true]);
      expect((await olive('/ui/api/queues')).json<{ queues: { readOnlyMode: boolean }[] }>().queues).toEqual([
        expect.objectContaining({ readOnlyMode: false }),
      ]);

      // An operator toggles and triggers, attributed to them; bulk removal in Bull Board is an admin's.
      const paused = await olive('/api/v1/schedules/nap/pause', 'POST', { note: 'by olive' });
      expect(paused.json<ScheduleView>().switch.by).toBe('api:olive');
      expect((await olive('/api/v1/schedules/nap/resume', 'POST', {})).status).toBe(200);
      expect((await olive('/api/v1/schedules/nap/runs', 'POST', {})).status).toBe(201);
      const clean = await olive('/ui/api/queues/nap/clean/completed', 'PUT');
      expect(clean.status).toBe(403);
      expect(clean.json().message).toMatch(/needs the admin role; olive is an operator/);
      expect((await ada('/ui/api/queues/nap/clean/completed', 'PUT')).status).toBe(200);
      const legacy = await ada('/api/v1/schedules/nap/pause', 'POST', {});
      expect(legacy.json<ScheduleView>().switch.by).toBe('api:ada');

      // A change to the file is picked up within a second or so: a removed user is out.
      await runCli(['users', 'remove', 'olive'], s.env);
      await waitFor(async () => (await olive('/api/v1/schedules')).status === 401, 'olive to be out', 5_000);
      const listed = await runCli(['users', 'list'], s.env);
      expect(listed.stdout).toMatch(/USER\s+ROLE\s+PASSWORD\s+TOKEN/);
      expect(listed.stdout).toMatch(/vera\s+viewer\s+yes\s+no/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('WEB_USERNAME/WEB_PASSWORD and API_TOKEN stay one admin beside the users file', async () => {
    const { url } = await start({
      WEB_USERNAME: 'ops',
      WEB_PASSWORD: 'correct-horse',
      API_TOKEN: 'a-token-of-sixteen-or-more',
    });
    const me = await request(url, '/api/v1/me', { headers: basic('ops', 'correct-horse') });
    expect(me.json<SessionView>()).toMatchObject({ user: 'ops', role: 'admin', can: { toggle: true } });
    const token = await request(url, '/api/v1/me', {
      headers: { authorization: 'Bearer a-token-of-sixteen-or-more' },
    });
    expect(token.json<SessionView>()).toMatchObject({ user: 'token', role: 'admin' });
  });
});

describe('hardening', () => {
  it('security headers on every answer: pages, API, Bull Board, errors', async () => {
    const { url } = await start();
    for (const pathname of [
      '/schedules',
      '/ops',
      '/ui',
      '/api/v1/schedules',
      '/api/v1/nope',
      '/health',
      '/static/grid.js',
    ]) {
      const { headers, status } = await request(url, pathname);
      expect(status, pathname).toBeLessThan(500);
      expect(headers['content-security-policy'], pathname).toMatch(/frame-ancestors 'none'/);
      expect(headers['content-security-policy'], pathname).toMatch(/script-src 'self'/);
      expect(headers['x-frame-options'], pathname).toBe('DENY');
      expect(headers['x-content-type-options'], pathname).toBe('nosniff');
      expect(headers['referrer-policy'], pathname).toBe('no-referrer');
      expect(headers['x-powered-by'], pathname).toBeUndefined();
    }
    const misdirected = await request(url, '/schedules', { headers: { host: 'evil.example' } });
    expect(misdirected.headers['x-frame-options']).toBe('DENY');
    expect((await request(url, '/api/v1/schedules')).headers['cache-control']).toBe('no-store');
  });

  it('failed logins are throttled per client address: 429 with Retry-After, the right password too', async () => {
    const { url } = await start({ WEB_USERNAME: 'ops', WEB_PASSWORD: 'correct-horse' });
    for (let attempt = 1; attempt <= 10; attempt++) {
      const wrong = await request(url, '/api/v1/schedules', { headers: basic('ops', `guess-${attempt}`) });
      expect(wrong.status, `attempt ${attempt}`).toBe(401);
    }
    const throttled = await request(url, '/api/v1/schedules', { headers: basic('ops', 'guess-11') });
    expect(throttled.status).toBe(429);
    const wait = Number(throttled.headers['retry-after']);
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(60);
    expect(throttled.json().error).toMatch(/too many failed logins from this address: try again in \d+ s/);
    // A right guess must not show through the throttle.
    expect((await request(url, '/api/v1/schedules', { headers: basic('ops', 'correct-horse') })).status).toBe(
      429,
    );
    expect((await request(url, '/health')).status).toBe(200);
  });

  it('URLs in the API and Bull Board are shown as their origin only; a configuration error prints no secret', async () => {
    const secretHook = 'https://hooks.example.com/services/T000/B000/s3cr3t-hook?token=abc';
    const secretModel = 'http://user:pa55@model.example:8000/v1/predict?api_key=k3y';
    const { url } = await start(
      {},
      `schedules:
  consumer:
    job: consumer-batch
    every: 1h
    enabled: false
    notify: { onFailure: "${secretHook}" }
    params: { predictor: { type: http, url: "${secretModel}" } }
`,
    );
    const list = await request(url, '/api/v1/schedules');
    expect(list.text).not.toMatch(/s3cr3t|token=|pa55|api_key|\/v1\/predict/);
    const consumer = list.json<SchedulesView>().schedules[0];
    expect(consumer?.notify?.onFailure).toBe('https://hooks.example.com');
    expect(consumer?.params).toMatchObject({ predictor: { type: 'http', url: 'http://model.example:8000' } });
    // A run's params, as the trigger answers them, and as Bull Board shows the job.
    const run = await request(url, '/api/v1/schedules/consumer/runs', { method: 'POST', body: {} });
    expect(run.status).toBe(201);
    expect(run.text).not.toMatch(/pa55|api_key/);
    const board = await request(
      url,
      '/ui/api/queues?activeQueue=consumer&status=latest&page=1&jobsPerPage=10',
    );
    expect(board.text).toContain('http://model.example:8000');
    expect(board.text).not.toMatch(/pa55|api_key/);

    const config = await runCli(['list'], { ...s.env, WEB_PASSWORD: 'hunter2', WEB_USERNAME: 'ops' });
    expect(config.code).toBe(1);
    expect(config.stderr).toContain('WEB_PASSWORD (7 characters, not shown) is invalid');
    expect(config.stderr).not.toContain('hunter2');
  });

  it('/ready is computed at most once a second, open without credentials', async () => {
    const { url } = await start({ API_TOKEN: 'a-token-of-sixteen-or-more' });
    type Ready = { ready: boolean; checkedAt: string; checks: object };
    const first = await request(url, '/ready');
    expect(first.status).toBe(200);
    expect(first.json<Ready>().checks).toEqual({ redis: true, postgres: true, kafka: true });
    // A burst and a steady poll: every answer within a second of a computation is that computation's.
    const started = Date.now();
    const burst = await Promise.all(Array.from({ length: 30 }, () => request(url, '/ready')));
    const polled: Answer[] = [];
    while (Date.now() - started < 2_500) {
      polled.push(await request(url, '/ready'));
      await sleep(50);
    }
    const elapsed = Date.now() - started;
    const answers = [...burst, ...polled];
    expect(answers.every((answer) => answer.status === 200)).toBe(true);
    const computed = new Set(answers.map((answer) => answer.json<Ready>().checkedAt));
    expect(answers.length).toBeGreaterThan(50);
    expect(computed.size).toBeGreaterThanOrEqual(2);
    expect(computed.size).toBeLessThanOrEqual(Math.ceil(elapsed / 1_000) + 1);
  });

  it('a connection cap and a headers timeout: a slow or idle client cannot hold the server', async () => {
    const { url } = await start({ WEB_MAX_CONNECTIONS: '3', WEB_HEADERS_TIMEOUT_MS: '500' });
    const open = async () => {
      const socket = net.connect(Number(url.port), url.hostname);
      await new Promise((resolve) => socket.once('connect', resolve));
      return socket;
    };
    const closed = (socket: net.Socket) =>
      new Promise<number>((resolve) => {
        const at = Date.now();
        if (socket.destroyed) resolve(0);
        socket.once('close', () => resolve(Date.now() - at));
        socket.on('error', () => {});
        socket.resume();
      });
    // Headers never finished: the server drops the connection soon after the timeout.
    const slow = await open();
    slow.write('GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n');
    expect(await closed(slow)).toBeLessThan(5_000);
    // Three held open: a fourth is refused at once.
    const held = [await open(), await open(), await open()];
    const fourth = await open();
    expect(await closed(fourth)).toBeLessThan(1_000);
    for (const socket of held) socket.destroy();
    await waitFor(async () => (await request(url, '/health')).status === 200, 'the server to answer again');
  });
});
