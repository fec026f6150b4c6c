import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import type { RunDetail, RunPage, SchedulesView, ScheduleView, TriggeredRun } from '../../src/control/views';
import { recordCaughtUp, recordStoredProgress } from '../../src/db/watermarks';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const SCHEDULES = `schedules:
  nap:
    job: sleep
    description: a short nap
    cron: "0 0 * * *"
    params: { ms: 5 }
  flaky:
    job: sleep
    every: 300ms
    params: { failAttempts: 99 }
    retries: 1
    backoff: 50ms
`;

/** A scheduler with its web UI on a free port, and a fetch bound to it. */
async function startWithWeb(env: NodeJS.ProcessEnv = {}) {
  s = new SchedulerTest('api', env);
  s.writeSchedules(SCHEDULES);
  const app = await s.start({ web: true });
  return { app, call: client(app) };
}

function client(app: SchedulerApp, headers: Record<string, string> = {}) {
  return async <T = unknown>(
    path: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) => {
    const response = await fetch(`${app.web?.url}${path}`, {
      method: init.method ?? 'GET',
      headers: {
        ...headers,
        ...(init.body === undefined ? {} : { 'content-type': 'application/json' }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return {
      status: response.status,
      headers: response.headers,
      text,
      json: (() => JSON.parse(text)) as () => T,
    };
  };
}

describe('REST API (real Redis and PostgreSQL)', () => {
  it('lists schedules, triggers with params (400 naming the field), pages runs and shows one in full', async () => {
    const { call } = await startWithWeb();

    const bad = await call<{ issues: { field: string }[] }>('/api/v1/schedules/nap/runs', {
      method: 'POST',
      body: { params: { ms: 'long', nope: 1 } },
    });
    expect(bad.status).toBe(400);
    expect(
      bad
        .json()
        .issues.map((i) => i.field)
        .sort(),
    ).toEqual(['ms', 'nope']);

    const triggered = await call<TriggeredRun>('/api/v1/schedules/nap/runs', {
      method: 'POST',
      body: { params: { ms: 20 } },
    });
    expect(triggered.status).toBe(201);
    const { runId, params } = triggered.json();
    expect(params).toEqual({ ms: 20, failAttempts: 0 });

    const run = await waitFor(async () => {
      const detail = (await call<RunDetail>(`/api/v1/schedules/nap/runs/${runId}`)).json();
      return detail.state === 'completed' && detail;
    }, 'the triggered run to complete');
    expect(run).toMatchObject({
      trigger: 'manual',
      triggeredBy: 'api:local',
      params: { ms: 20 },
      attempts: 1,
    });
    expect(run.result).toMatchObject({ attempt: 1 });
    expect(run.attemptList).toHaveLength(1);
    expect(run.logs.join('\n')).toMatch(/attempt 1 of sleep started/);
    expect(run.boardUrl).toBe(`/ui/queue/nap/${runId}`);

    // flaky fails every attempt: its runs are retried once, then failed.
    await waitFor(async () => {
      const page = (await call<RunPage>('/api/v1/schedules/flaky/runs?state=failed&limit=2')).json();
      return page.runs.length === 2 && page.next !== null;
    }, 'three failed runs of flaky');
    const first = (await call<RunPage>('/api/v1/schedules/flaky/runs?state=failed&limit=2')).json();
    expect(first.runs.every((r) => r.state === 'failed' && r.attempts === 2)).toBe(true);
    const older = (
      await call<RunPage>(`/api/v1/schedules/flaky/runs?state=failed&limit=2&before=${first.next}`)
    ).json();
    expect(older.runs.length).toBeGreaterThan(0);
    expect((older.runs[0]?.dueAt ?? '') < (first.runs[1]?.dueAt ?? '')).toBe(true);
    const failed = (await call<RunDetail>(`/api/v1/schedules/flaky/runs/${first.runs[0]?.runId}`)).json();
    expect(failed.error).toMatch(/failing attempt 2 on purpose/);
    expect(failed.attemptList.map((a) => a.state)).toEqual(['failed', 'failed']);

    const list = (await call<SchedulesView>('/api/v1/schedules?window=5m&state=failed,completed')).json();
    expect(list.schedules.map((x) => [x.name, x.job, x.cadence, x.paused])).toEqual([
      ['nap', 'sleep', 'cron 0 0 * * * (UTC)', false],
      ['flaky', 'sleep', 'every 300ms', false],
    ]);
    const nap = list.schedules[0] as ScheduleView;
    expect(nap).toMatchObject({ description: 'a short nap', lastRun: { runId, state: 'completed' } });
    expect(Date.parse(nap.nextRunAt ?? '')).toBeGreaterThan(Date.now());
    expect(nap.lastRun?.durationMs).toBeGreaterThanOrEqual(20);
    expect(list.window?.runs.nap?.map((r) => r.runId)).toEqual([runId]);
    expect(list.window?.runs.flaky?.length).toBeGreaterThan(0);
    expect(list.window?.runs.flaky?.every((r) => r.state === 'failed')).toBe(true);

    expect((await call('/api/v1/schedules/nope')).status).toBe(404);
    expect((await call('/api/v1/schedules/nap/runs/nope')).status).toBe(404);
    expect((await call('/api/v1/schedules?window=often')).json()).toMatchObject({
      issues: [{ field: 'window', message: expect.stringMatching(/duration/) }],
    });
    const document = (await call<{ paths: Record<string, unknown> }>('/api/v1/openapi.json')).json();
    expect(Object.keys(document.paths)).toContain('/schedules/{name}/runs/{runId}');
    expect(document.paths['/schedules/{name}/backfills/{id}']).toMatchObject({
      delete: { operationId: 'cancelBackfill' },
    });
  });

  it('pause with a note and resume, as the CLI sees it; writes must be same-origin JSON', async () => {
    const { app, call } = await startWithWeb({ WEB_PUBLIC_URL: 'https://tickflow.example' });
    const paused = await call<ScheduleView>('/api/v1/schedules/flaky/pause', {
      method: 'POST',
      body: { note: 'noisy' },
    });
    expect(paused.json()).toMatchObject({ paused: true, switch: { note: 'noisy', by: 'api:local' } });
    expect((await runCli(['list'], s.env)).stdout).toMatch(
      /flaky\s+sleep\s+every 300ms\s+paused.*api:local.*noisy/,
    );
    const resumed = await call<ScheduleView>('/api/v1/schedules/flaky/resume', { method: 'POST', body: {} });
    expect(resumed.json()).toMatchObject({ paused: false, switch: { by: 'api:local' } });

    const malformed = await fetch(`${app.web?.url}/api/v1/schedules/flaky/pause`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"note": ',
    });
    expect(malformed.status).toBe(400);
    expect(await malformed.json()).toEqual({ error: 'the body is not valid JSON' });
    const form = await call('/api/v1/schedules/flaky/pause', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
    });
    expect(form.status).toBe(415);
    const crossSite = await call('/api/v1/schedules/flaky/pause', {
      method: 'POST',
      body: {},
      headers: { origin: 'http://evil.example' },
    });
    expect(crossSite.status).toBe(403);
    // No Origin header, but the browser says the page is another site's.
    const fetchedCrossSite = await call('/api/v1/schedules/flaky/pause', {
      method: 'POST',
      body: {},
      headers: { 'sec-fetch-site': 'cross-site' },
    });
    expect(fetchedCrossSite.status).toBe(403);
    expect((await call<ScheduleView>('/api/v1/schedules/flaky')).json().paused).toBe(false);
    // Behind a proxy, the origin people use (WEB_PUBLIC_URL) is this origin too.
    const viaProxy = await call('/api/v1/schedules/flaky/resume', {
      method: 'POST',
      body: {},
      headers: { origin: 'https://tickflow.example' },
    });
    expect(viaProxy.status).toBe(200);
    const huge = await call<{ error: string }>('/api/v1/schedules/flaky/pause', {
      method: 'POST',
      body: { note: 'x'.repeat(200_000) },
    });
    expect(huge.status).toBe(413);
    expect(huge.json()).toEqual({ error: 'the body is over 100 kB' });
  });

  it("shows a consumer schedule's event-time watermark (API, `tickflow list`, /metrics), null for other jobs", async () => {
    s = new SchedulerTest('api');
    const topic = `${s.t.id}.tx`;
    // Never runs (off): its watermark is what PostgreSQL holds, written below as its runs would.
    s.writeSchedules(`schedules:
  consumer:
    job: consumer-batch
    every: 1s
    enabled: false
    params: { topic: ${topic}, group: ${s.t.id}-group }
${SCHEDULES.replace('schedules:\n', '')}`);
    const app = await s.start({ web: true });
    const call = client(app);
    const nothingYet = (await call<ScheduleView>('/api/v1/schedules/consumer')).json();
    expect(nothingYet.watermark).toEqual({ at: null, lagSeconds: null });
    expect((await call<ScheduleView>('/api/v1/schedules/nap')).json().watermark).toBeNull();

    const stored = new Date(Date.now() - 42_000);
    const consumer = { schedule: 'consumer', topic };
    await recordStoredProgress(s.db, consumer, [
      { partition: 0, nextOffset: '10', newestEventAt: stored },
      { partition: 1, nextOffset: '5', newestEventAt: new Date(stored.getTime() + 5_000) },
    ]);
    await recordCaughtUp(s.db, consumer, [1, 2], new Date());
    const shown = (await call<ScheduleView>('/api/v1/schedules/consumer')).json().watermark;
    expect(shown?.at).toBe(stored.toISOString());
    expect(shown?.lagSeconds).toBeGreaterThanOrEqual(42);
    expect(shown?.lagSeconds).toBeLessThan(60);
    const list = (await call<SchedulesView>('/api/v1/schedules')).json();
    expect(list.schedules.map((x) => [x.name, x.watermark?.at ?? null])).toEqual([
      ['consumer', stored.toISOString()],
      ['nap', null],
      ['flaky', null],
    ]);

    const metrics = (await call('/metrics')).text;
    const lag = metrics.match(/^tickflow_watermark_lag_seconds\{schedule="consumer"\} (\S+)$/m);
    expect(Number(lag?.[1])).toBeGreaterThanOrEqual(42);
    expect(metrics).not.toMatch(/tickflow_watermark_lag_seconds\{schedule="nap"\}/);

    const cli = await runCli(['list'], s.env);
    expect(cli.stdout).toMatch(/WATERMARK/);
    expect(cli.stdout).toMatch(
      new RegExp(
        `consumer\\s+consumer-batch\\s+every 1s\\s+paused.*${stored.toISOString().slice(11, 19)} \\(\\d+s behind\\)`,
      ),
    );
  });
});

describe('auth', () => {
  it('with credentials set, everything but /health needs them: basic or Bearer', async () => {
    const token = 'a-token-of-sixteen-or-more';
    const { app, call } = await startWithWeb({
      WEB_USERNAME: 'ops',
      WEB_PASSWORD: 'correct-horse',
      API_TOKEN: token,
    });
    for (const path of ['/api/v1/schedules', '/schedules', '/ui', '/metrics', '/api/v1/openapi.json']) {
      const response = await call(path);
      expect(response.status, path).toBe(401);
    }
    expect((await call('/api/v1/schedules/nap/pause', { method: 'POST', body: {} })).status).toBe(401);
    expect((await call('/schedules')).headers.get('www-authenticate')).toMatch(/^Basic/);
    expect((await call('/health')).status).toBe(200);

    const basic = client(app, {
      authorization: `Basic ${Buffer.from('ops:correct-horse').toString('base64')}`,
    });
    const wrong = client(app, {
      authorization: `Basic ${Buffer.from('ops:wrong-horse!').toString('base64')}`,
    });
    const bearer = client(app, { authorization: `Bearer ${token}` });
    expect((await basic('/api/v1/schedules')).status).toBe(200);
    expect((await basic('/metrics')).status).toBe(200);
    expect((await wrong('/api/v1/schedules')).status).toBe(401);
    const noColon = client(app, {
      authorization: `Basic ${Buffer.from('opscorrect-horse').toString('base64')}`,
    });
    expect((await noColon('/api/v1/schedules')).status).toBe(401);
    const pause = await bearer<ScheduleView>('/api/v1/schedules/nap/pause', { method: 'POST', body: {} });
    expect(pause.json().switch.by).toBe('api:token');
    expect(
      (await basic<ScheduleView>('/api/v1/schedules/nap/resume', { method: 'POST', body: {} })).json().switch
        .by,
    ).toBe('api:ops');
  });

  it('read-only: the API and Bull Board refuse changes, reads still work', async () => {
    const { call } = await startWithWeb({ WEB_READ_ONLY: 'true' });
    expect((await call('/api/v1/schedules/nap/pause', { method: 'POST', body: {} })).status).toBe(403);
    expect((await call('/api/v1/schedules/nap/runs', { method: 'POST', body: {} })).status).toBe(403);
    const backfill = await call<{ error: string }>('/api/v1/schedules/nap/backfill', {
      method: 'POST',
      body: { from: '2024-03-01T00:00:00Z', to: '2024-03-03T00:00:00Z' },
    });
    expect(backfill.status).toBe(403);
    expect(backfill.json().error).toMatch(/read-only \(WEB_READ_ONLY=true\)/);
    const cancel = await call<{ error: string }>('/api/v1/schedules/nap/backfills/deadbeef', {
      method: 'DELETE',
    });
    expect(cancel.status).toBe(403);
    expect(cancel.json().error).toMatch(/read-only \(WEB_READ_ONLY=true\)/);
    expect(await s.runs('nap')).toEqual([]);
    // Refused by tickflow itself, not left to Bull Board's read-only mode: every action route.
    for (const [method, route] of [
      ['PUT', '/ui/api/queues/nap/pause'],
      ['PUT', '/ui/api/queues/pause'],
      ['PUT', '/ui/api/queues/nap/retry/failed'],
      ['PUT', '/ui/api/queues/nap/some-run/clean'],
      ['PUT', '/ui/api/queues/nap/clean/completed'],
    ] as const) {
      const refused = await call<{ message: string }>(route, { method });
      expect(refused.status, route).toBe(403);
      expect(refused.json().message, route).toMatch(/read-only \(WEB_READ_ONLY=true\)/);
    }
    const list = (await call<SchedulesView>('/api/v1/schedules')).json();
    expect(list.readOnly).toBe(true);
    expect(list.schedules.map((x) => [x.name, x.paused])).toEqual([
      ['nap', false],
      ['flaky', false],
    ]);
  });

  it('off loopback without credentials the scheduler refuses to start and names the variables', async () => {
    s = new SchedulerTest('api', { WEB_HOST: '0.0.0.0' });
    s.writeSchedules(SCHEDULES);
    const result = await runCli(['scheduler'], s.env);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/refusing to serve the web UI on WEB_HOST=0\.0\.0\.0 without credentials/);
    expect(result.stderr).toMatch(/WEB_USERNAME and WEB_PASSWORD .*API_TOKEN/);
    const worker = await runCli(['worker'], s.env);
    expect(worker.code).toBe(1);
    expect(worker.stderr).toMatch(/refusing to serve the worker's \/metrics \(WORKER_PORT; or --no-web\)/);
  });
});

describe('Bull Board, coherent with the control plane', () => {
  it('its pause is recorded in PostgreSQL, "Run now" and "Add job" go through trigger, edits are refused', async () => {
    const { call } = await startWithWeb();
    expect((await call('/ui/api/queues/nap/pause', { method: 'PUT' })).status).toBe(200);
    expect((await call<ScheduleView>('/api/v1/schedules/nap')).json()).toMatchObject({
      paused: true,
      switch: { by: 'bull-board:local', note: 'paused in Bull Board' },
    });
    expect((await call('/ui/api/queues/nap/resume', { method: 'PUT' })).status).toBe(200);

    const runNow = await call('/ui/api/queues/nap/job-schedulers/nap/run', { method: 'PUT' });
    expect(runNow.status).toBe(200);
    const badAdd = await call<{ message: string }>('/ui/api/queues/nap/add', {
      method: 'POST',
      body: { name: 'x', data: { ms: -1 } },
    });
    expect(badAdd.status).toBe(400);
    expect(badAdd.json().message).toMatch(/^ms: /);
    const runs = await waitFor(async () => {
      const page = (await call<RunPage>('/api/v1/schedules/nap/runs?state=completed')).json();
      return page.runs.length >= 1 && page.runs;
    }, 'the Run-now run');
    expect(runs[0]).toMatchObject({ trigger: 'manual', triggeredBy: 'bull-board:local' });

    const edit = await call<{ message: string }>('/ui/api/queues/nap/job-schedulers/nap', {
      method: 'PATCH',
      body: {},
    });
    expect(edit.status).toBe(403);
    expect(edit.json().message).toMatch(/schedules\.yaml owns timing/);
    expect((await call('/ui/api/queues/nap/job-schedulers/nap/remove', { method: 'PUT' })).status).toBe(403);
    for (const [method, route] of [
      ['PUT', '/ui/api/queues/nap/rate-limit'],
      ['PUT', '/ui/api/queues/nap/promote'],
      ['PATCH', `/ui/api/queues/nap/${runs[0]?.runId}/update-data`],
    ] as const) {
      expect((await call(route, { method, body: {} })).status, route).toBe(403);
    }
    const formAdd = await call('/ui/api/queues/nap/add', {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
    });
    expect(formAdd.status).toBe(415);

    const page = await call('/ui');
    expect(page.status).toBe(200);
    expect(page.text).toContain('<title>tickflow</title>');
    expect(page.text).not.toMatch(/fonts\.googleapis|https?:\/\/(?!127\.0\.0\.1)/);
  });
});
