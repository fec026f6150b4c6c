import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import type { AuditPage } from '../../src/control/audit-views';
import type {
  BulkView,
  CancelledRun,
  RerunView,
  RunDetail,
  RunSummary,
  TriggeredRun,
} from '../../src/control/views';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

/**
 * nap runs for a minute unless cancelled, with retries that a cancel must not use; broken always
 * fails and Redis keeps none of its failed runs (keep.failed 0), so its runs are in PostgreSQL only.
 */
const SCHEDULES = (brokenParams = '{ failAttempts: 99 }') => `schedules:
  nap:
    job: sleep
    cron: "0 0 1 1 *"
    params: { ms: 60000 }
    retries: 2
    backoff: 50ms
  broken:
    job: sleep
    cron: "0 0 1 1 *"
    params: ${brokenParams}
    keep: { failed: 0 }
`;

interface Answer<T> {
  status: number;
  json: <U = T>() => U;
  /** How long the answer took, in ms. */
  ms: number;
}

type Call = <T = unknown>(path: string, init?: { method?: string; body?: unknown }) => Promise<Answer<T>>;

function client(app: SchedulerApp): Call {
  return async <T = unknown>(path: string, init: { method?: string; body?: unknown } = {}) => {
    const started = Date.now();
    const response = await fetch(`${app.web?.url}${path}`, {
      method: init.method ?? 'GET',
      headers: init.body === undefined ? {} : { 'content-type': 'application/json' },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    const answer: Answer<T> = {
      status: response.status,
      json: <U = T>() => JSON.parse(text) as U,
      ms: Date.now() - started,
    };
    return answer;
  };
}

async function start(yaml = SCHEDULES()) {
  s = new SchedulerTest('actions');
  s.writeSchedules(yaml);
  const app = await s.start({ web: true });
  return { app, call: client(app) };
}

const post = (call: Call, path: string, body: unknown = {}) => call(path, { method: 'POST', body });

async function trigger(call: Call, schedule: string, params: Record<string, unknown> = {}): Promise<string> {
  const triggered = await post(call, `/api/v1/schedules/${schedule}/runs`, { params });
  expect(triggered.status).toBe(201);
  return triggered.json<TriggeredRun>().runId;
}

async function runIn(call: Call, schedule: string, runId: string, states: string[]): Promise<RunDetail> {
  return waitFor(
    async () => {
      const run = (await call<RunDetail>(`/api/v1/schedules/${schedule}/runs/${runId}`)).json();
      return states.includes(run.state) && run;
    },
    `run ${runId} of ${schedule} to be ${states.join(' or ')}`,
  );
}

describe('run actions (real Redis and PostgreSQL)', () => {
  it('cancels a running sleep run through the API within 2 s: cancelled, by whom, never retried', async () => {
    const { app, call } = await start();
    const runId = await trigger(call, 'nap');
    await runIn(call, 'nap', runId, ['active']);

    const cancelled = await post(call, `/api/v1/schedules/nap/runs/${runId}/cancel`);
    expect(cancelled.status).toBe(200);
    expect(cancelled.ms).toBeLessThan(2_000);
    expect(cancelled.json<CancelledRun>()).toMatchObject({
      runId,
      was: 'active',
      state: 'cancelled',
      outcome: 'aborted',
      by: 'api:local',
    });
    const run = (await call<RunDetail>(`/api/v1/schedules/nap/runs/${runId}`)).json();
    expect(run).toMatchObject({
      state: 'cancelled',
      cancelledBy: 'api:local',
      error: 'cancelled by api:local',
    });
    expect(run.attemptList.map((a) => a.state)).toEqual(['cancelled']);
    expect(run.logs.join('\n')).toMatch(/attempt 1 ended after \d+ms, cancelled/);

    // BullMQ failed it without a retry (nap has 2): it stays one attempt, failed in Redis.
    const queue = new Queue('nap', { connection: s.redis, prefix: s.config.queuePrefix });
    try {
      await waitFor(async () => (await queue.getJob(runId))?.finishedOn !== undefined, 'BullMQ to fail it');
      const job = await queue.getJob(runId);
      expect(await job?.getState()).toBe('failed');
      expect(job?.attemptsStarted).toBe(1);
    } finally {
      await queue.close();
    }
    expect((await s.runs('nap')).map((r) => r.attempt)).toEqual([1]);
    // The audit log has it, with who.
    const audit = (await call<AuditPage>('/api/v1/audit?schedule=nap')).json();
    expect(audit.entries.find((e) => e.action === 'cancel')).toMatchObject({
      by: 'api:local',
      runId,
      what: `cancelled run ${runId} (was active): aborted on its worker`,
    });

    // Bad input: a finished run, an unknown run, an unknown schedule.
    const again = await post(call, `/api/v1/schedules/nap/runs/${runId}/cancel`);
    expect(again.status).toBe(409);
    expect(again.json<{ error: string }>().error).toMatch(
      new RegExp(
        `run "${runId}" of nap is cancelled: only a waiting, queued or running run can be cancelled`,
      ),
    );
    const unknown = await post(call, '/api/v1/schedules/nap/runs/nope/cancel');
    expect(unknown.status).toBe(404);
    expect(unknown.json<{ error: string }>().error).toMatch(/schedule "nap" has no run "nope"/);
    expect((await post(call, '/api/v1/schedules/nope/runs/x/cancel')).status).toBe(404);
    void app;
  });

  it('a queued run leaves the queue, recorded cancelled; Bull Board removing a running one cancels it', async () => {
    const { call } = await start();
    const running = await trigger(call, 'nap');
    await runIn(call, 'nap', running, ['active']);
    // overlap: skip: the second waits behind the first.
    const queued = await trigger(call, 'nap');
    const dropped = await post(call, `/api/v1/schedules/nap/runs/${queued}/cancel`);
    expect(dropped.json<CancelledRun>()).toMatchObject({
      was: 'queued',
      state: 'cancelled',
      outcome: 'removed',
    });
    const queuedRun = (await call<RunDetail>(`/api/v1/schedules/nap/runs/${queued}`)).json();
    expect(queuedRun).toMatchObject({ state: 'cancelled', cancelledBy: 'api:local', attempts: 0 });
    expect(queuedRun.error).toBe('cancelled by api:local before it ran');

    const removed = await call(`/ui/api/queues/nap/${running}/clean`, { method: 'PUT' });
    expect(removed.status).toBe(204);
    expect((await runIn(call, 'nap', running, ['cancelled'])).cancelledBy).toBe('bull-board:local');
  });

  it('a run cancelled on another worker process (`tickflow worker`) ends cancelled within 2 s', async () => {
    s = new SchedulerTest('xcancel');
    s.writeSchedules(SCHEDULES());
    const app = await s.start({ web: true, workers: false });
    const call = client(app);
    await s.spawnReady(1, ['worker'], 'workers started');
    const runId = await trigger(call, 'nap');
    const run = await runIn(call, 'nap', runId, ['active']);
    expect(run.attemptList[0]?.worker).not.toMatch(new RegExp(`:${process.pid}$`));
    const cancelled = await post(call, `/api/v1/schedules/nap/runs/${runId}/cancel`);
    expect(cancelled.ms).toBeLessThan(2_000);
    expect(cancelled.json<CancelledRun>()).toMatchObject({ state: 'cancelled', outcome: 'aborted' });
    expect((await s.runs('nap')).map((r) => [r.attempt, r.state])).toEqual([[1, 'cancelled']]);
  });

  it('re-runs a failed run Redis no longer holds: same window, its params or the current ones', async () => {
    const { call } = await start();
    const failedId = await trigger(call, 'broken', { ms: 1 });
    const failed = await runIn(call, 'broken', failedId, ['failed']);
    expect(failed.boardUrl).toBeNull(); // keep.failed 0: Redis trimmed it
    expect(failed.window).not.toBeNull();

    // The file changes: failAttempts 0 from now on.
    s.writeSchedules(SCHEDULES('{ failAttempts: 0, ms: 2 }'));
    await waitFor(async () => {
      const view = (await call<{ params: Record<string, unknown> }>('/api/v1/schedules/broken')).json();
      return view.params?.failAttempts === 0;
    }, 'the edit to apply');

    const rerun = await post(call, `/api/v1/schedules/broken/runs/${failedId}/rerun`);
    expect(rerun.status).toBe(201);
    const same = rerun.json<RerunView>();
    expect(same).toMatchObject({
      rerunOf: failedId,
      window: failed.window,
      params: { failAttempts: 99, ms: 1 },
    });
    expect(same.runId).toMatch(/^rerun-\d+-\d+-[0-9a-f]{8}$/);
    const sameRun = await runIn(call, 'broken', same.runId, ['failed']);
    expect(sameRun).toMatchObject({
      trigger: 'rerun',
      triggeredBy: 'api:local',
      rerunOf: failedId,
      window: failed.window,
      params: { failAttempts: 99, ms: 1 },
    });

    const current = await post(call, `/api/v1/schedules/broken/runs/${failedId}/rerun`, {
      currentParams: true,
    });
    const currentRun = await runIn(call, 'broken', current.json<RerunView>().runId, ['completed']);
    expect(currentRun).toMatchObject({ window: failed.window, params: { failAttempts: 0, ms: 2 } });
    const old = (await call<RunDetail>(`/api/v1/schedules/broken/runs/${failedId}`)).json();
    expect(old.reruns.sort()).toEqual([same.runId, currentRun.runId].sort());

    // Bad input: an unknown run; a run still running.
    const unknown = await post(call, '/api/v1/schedules/broken/runs/nope/rerun');
    expect(unknown.status).toBe(404);
    expect(unknown.json<{ error: string }>().error).toMatch(/schedule "broken" has no run "nope"/);
    const running = await trigger(call, 'nap');
    await runIn(call, 'nap', running, ['active']);
    const busy = await post(call, `/api/v1/schedules/nap/runs/${running}/rerun`);
    expect(busy.status).toBe(409);
    expect(busy.json<{ error: string }>().error).toMatch(/is active: only a finished run .* can be re-run/);
    // Not left to run for its minute (the cleanup would wait for it).
    expect((await post(call, `/api/v1/schedules/nap/runs/${running}/cancel`)).status).toBe(200);

    // The CLI: an unknown run is exit 1, naming it.
    const cli = await runCli(['rerun', 'broken', 'nope'], s.env);
    expect(cli.code).toBe(1);
    expect(cli.stderr.trim()).toMatch(/^error: schedule "broken" has no run "nope"/);
  });

  it('a bulk re-run of 3 failed runs queues exactly 3, after a count; a changed count does nothing', async () => {
    const { call } = await start();
    const failed = [];
    for (let i = 0; i < 3; i++) failed.push(await trigger(call, 'broken', { ms: 1 }));
    for (const runId of failed) await runIn(call, 'broken', runId, ['failed']);
    const filter = { action: 'rerun', state: ['failed'] };

    const counted = await post(call, '/api/v1/schedules/broken/runs/bulk', { ...filter, dryRun: true });
    expect(counted.status).toBe(200);
    expect(counted.json<BulkView>()).toMatchObject({ dryRun: true, matched: 3 });
    expect(
      counted
        .json<BulkView>()
        .runs.map((r) => r.runId)
        .sort(),
    ).toEqual([...failed].sort());
    expect(await rerunCount()).toBe(0);

    const stale = await post(call, '/api/v1/schedules/broken/runs/bulk', { ...filter, expect: 4 });
    expect(stale.status).toBe(409);
    expect(stale.json<{ error: string }>().error).toMatch(
      /the filter now takes 3 run\(s\) of broken, not the 4 expected/,
    );
    expect(await rerunCount()).toBe(0);

    const done = await post(call, '/api/v1/schedules/broken/runs/bulk', { ...filter, expect: 3 });
    expect(done.status).toBe(201);
    const reruns = done.json<BulkView>().runs;
    expect(reruns).toHaveLength(3);
    expect(new Set(reruns.map((r) => r.rerunId)).size).toBe(3);
    expect(await rerunCount()).toBe(3);
    const { rows } = await s.db.query<{ rerun_of: string }>(
      `select rerun_of from runs where schedule = 'broken' and trigger = 'rerun'`,
    );
    expect(rows.map((r) => r.rerun_of).sort()).toEqual([...failed].sort());

    // Bad input: a state a re-run cannot take.
    const wrong = await post(call, '/api/v1/schedules/broken/runs/bulk', {
      action: 'rerun',
      state: ['active'],
    });
    expect(wrong.status).toBe(400);
    expect(wrong.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe('state');

    async function rerunCount(): Promise<number> {
      const { rows } = await s.db.query<{ n: number }>(
        `select count(*)::int as n from runs where schedule = 'broken' and trigger = 'rerun'`,
      );
      return rows[0]?.n ?? 0;
    }
  });

  it('the CLI: bulk re-run counts first and needs --yes; mark and note are attributed and shown', async () => {
    const { call } = await start();
    const failed = [];
    for (let i = 0; i < 3; i++) failed.push(await trigger(call, 'broken', { ms: 1 }));
    for (const runId of failed) await runIn(call, 'broken', runId, ['failed']);

    const dry = await runCli(['rerun', 'broken', '--state', 'failed', '--dry-run'], s.env);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toMatch(/^3 run\(s\) of broken to re-run:/);
    const unconfirmed = await runCli(['rerun', 'broken', '--state', 'failed'], s.env);
    expect(unconfirmed.code).toBe(1);
    expect(unconfirmed.stdout).toMatch(/^3 run\(s\) of broken to re-run:/);
    expect(unconfirmed.stderr.trim()).toBe(
      'error: to re-run these 3 run(s), pass --yes (--dry-run only lists them)',
    );
    const yes = await runCli(['rerun', 'broken', '--state', 'failed', '--yes'], s.env);
    expect(yes.code).toBe(0);
    expect(yes.stdout).toMatch(/queued 3 re-run\(s\) of broken:/);

    const [first, second] = failed as [string, string];
    const marked = await runCli(
      ['mark', 'broken', first, 'completed', '--note', 'data fixed by hand'],
      s.env,
    );
    expect(marked.code).toBe(0);
    expect(marked.stdout.trim()).toBe(`marked run ${first} of broken completed (was failed)`);
    const noted = await post(call, `/api/v1/schedules/broken/runs/${second}/note`, {
      note: 'upstream was down',
    });
    expect(noted.status).toBe(200);
    expect(noted.json<RunSummary>().note).toMatchObject({ text: 'upstream was down', by: 'api:local' });

    const user = (await runCli(['mark', 'broken', first, 'failed'], s.env)).stdout;
    expect(user).toMatch(/marked run .* failed \(was failed\)/);
    const markedRun = (await call<RunDetail>(`/api/v1/schedules/broken/runs/${first}`)).json();
    expect(markedRun).toMatchObject({
      state: 'failed',
      marked: { from: 'failed', by: expect.stringMatching(/^cli:/) },
      note: { text: 'data fixed by hand', by: expect.stringMatching(/^cli:/) },
    });
    const audit = (await call<AuditPage>('/api/v1/audit?schedule=broken')).json();
    expect(audit.entries.filter((e) => e.action === 'rerun')).toHaveLength(3);
    expect(audit.entries.filter((e) => e.action === 'mark').map((e) => e.what)).toContain(
      `marked run ${first} completed (was failed): data fixed by hand`,
    );
    expect(audit.entries.find((e) => e.action === 'note')).toMatchObject({
      by: 'api:local',
      runId: second,
      what: `noted run ${second}: upstream was down`,
    });
    const list = await runCli(['runs', 'broken', '--state', 'failed'], s.env);
    expect(list.stdout).toMatch(
      new RegExp(
        `${first} .*marked failed by cli:\\S+ \\(was failed\\)  note by cli:\\S+: "data fixed by hand"`,
      ),
    );
    expect(list.stdout).toMatch(new RegExp(`${second} .*note by api:local: "upstream was down"`));

    // Bad input, each a clear 4xx / exit 1 naming the problem.
    const running = await trigger(call, 'nap');
    await runIn(call, 'nap', running, ['active']);
    const markRunning = await post(call, `/api/v1/schedules/nap/runs/${running}/mark`, {
      state: 'completed',
    });
    expect(markRunning.status).toBe(409);
    expect(markRunning.json<{ error: string }>().error).toMatch(
      new RegExp(`run "${running}" of nap is active: only a finished run .* can be marked`),
    );
    const cliMark = await runCli(['mark', 'nap', running, 'completed'], s.env);
    expect(cliMark.code).toBe(1);
    expect(cliMark.stderr.trim()).toMatch(/^error: run ".*" of nap is active: only a finished run/);
    const cliCancelled = await runCli(['cancel', 'nap', running], s.env);
    expect(cliCancelled.code).toBe(0);
    expect(cliCancelled.stdout.trim()).toBe(
      `cancelled run ${running} of nap (was active): it was running: its worker aborted it`,
    );
    const long = 'x'.repeat(2_001);
    const tooLong = await post(call, `/api/v1/schedules/broken/runs/${second}/note`, { note: long });
    expect(tooLong.status).toBe(400);
    expect(tooLong.json()).toMatchObject({
      issues: [{ field: 'note', message: 'at most 2000 characters (got 2001)' }],
    });
    const cliNote = await runCli(['note', 'broken', second, long], s.env);
    expect(cliNote.code).toBe(1);
    expect(cliNote.stderr.trim()).toBe('error: note too long: note: at most 2000 characters (got 2001)');
    const badState = await post(call, `/api/v1/schedules/broken/runs/${second}/mark`, { state: 'done' });
    expect(badState.status).toBe(400);
    expect(badState.json<{ issues: { field: string }[] }>().issues[0]?.field).toBe('state');
    const cliCancel = await runCli(['cancel', 'broken', second], s.env);
    expect(cliCancel.code).toBe(1);
    expect(cliCancel.stderr.trim()).toMatch(
      /^error: run ".*" of broken is failed: only a waiting, queued or running run can be cancelled/,
    );
  });
});
