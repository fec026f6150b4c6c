import { afterEach, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import type { AuditEntryView, AuditPage } from '../../src/control/audit-views';
import type { RunDetail, RunPage, ScheduleView, TriggeredRun } from '../../src/control/views';
import { runCli } from '../cli';
import { finishedRuns, SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

const AUTH = { WEB_USERNAME: 'ops', WEB_PASSWORD: 'correct-horse' };
const BASIC = `Basic ${Buffer.from('ops:correct-horse').toString('base64')}`;

const schedules = (ms: number, extra = '') => `schedules:
  nap:
    job: sleep
    every: 300ms
    params: { ms: ${ms} }
${extra}  flaky:
    job: sleep
    cron: "0 0 1 1 *"
    params: { failAttempts: 99 }
`;

/** fetch bound to the app's web UI, as user ops. */
function client(app: SchedulerApp) {
  return async <T = unknown>(path: string, method = 'GET') => {
    const write = method === 'POST';
    const response = await fetch(`${app.web?.url}${path}`, {
      method,
      headers: { authorization: BASIC, ...(write ? { 'content-type': 'application/json' } : {}) },
      ...(write ? { body: '{}' } : {}),
    });
    const text = await response.text();
    return { status: response.status, json: () => JSON.parse(text) as T };
  };
}

const auditOf = async (call: ReturnType<typeof client>, query: string) =>
  (await call<AuditPage>(`/api/v1/audit?${query}`)).json().entries;

describe('audit log (real Redis and PostgreSQL, the API, Bull Board and the CLI)', () => {
  it('lists a schedules.yaml edit with its diff and a pause made in Bull Board with its user; runs carry spec and code versions', async () => {
    s = new SchedulerTest('audit', AUTH);
    s.writeSchedules(schedules(5));
    const app = await s.start({ web: true });
    const call = client(app);
    const [first] = await finishedRuns(app, 'nap', 1);

    const [created] = await auditOf(call, 'schedule=nap');
    expect(created).toMatchObject({
      by: 'schedules.yaml',
      action: 'schedule-created',
      schedule: 'nap',
      what: 'added: sleep, every 300ms',
    });
    const view = (await call<ScheduleView>('/api/v1/schedules/nap')).json();
    const run = (await call<RunDetail>(`/api/v1/schedules/nap/runs/${first?.runId}`)).json();
    expect(run.specVersion).toBe(view.specVersion);
    expect(run.spec).toMatchObject({ version: view.specVersion, auditId: created?.id, by: 'schedules.yaml' });
    expect(run.codeVersion).toMatch(/^0\.1\.0(\+\S+)?$/);

    // An edit: one entry, with the diff field by field; the runs after it carry the new version.
    s.writeSchedules(schedules(10, '    pauseAfter: 5\n'));
    const changed = await waitFor(
      async () => (await auditOf(call, 'schedule=nap')).find((e) => e.action === 'schedule-changed'),
      'the edit in the audit log',
    );
    expect(changed).toMatchObject({ by: 'schedules.yaml', schedule: 'nap' });
    expect(changed.what).toContain('params.ms 5 → 10');
    expect(changed.what).toContain('pauseAfter (none) → 5');
    expect(changed.detail?.changes).toEqual(
      expect.arrayContaining([
        { field: 'params.ms', from: 5, to: 10 },
        { field: 'pauseAfter', to: 5 },
      ]),
    );
    const edited = (await call<ScheduleView>('/api/v1/schedules/nap')).json();
    expect(edited.specVersion).not.toBe(view.specVersion);
    expect(edited.pauseAfter).toBe(5);
    const after = await waitFor(async () => {
      const page = (await call<RunPage>('/api/v1/schedules/nap/runs?limit=5&state=completed')).json();
      return page.runs.find((r) => r.specVersion === edited.specVersion);
    }, 'a run of the edited spec');
    const afterDetail = (await call<RunDetail>(`/api/v1/schedules/nap/runs/${after.runId}`)).json();
    expect(afterDetail.params).toMatchObject({ ms: 10 });
    expect(afterDetail.spec).toMatchObject({ auditId: changed.id, what: changed.what });

    // Bull Board: its pause goes through the control plane, recorded with the user; its own re-run too.
    expect((await call('/ui/api/queues/nap/pause', 'PUT')).status).toBe(200);
    const triggered = (await call<TriggeredRun>('/api/v1/schedules/flaky/runs', 'POST')).json();
    await waitFor(
      async () =>
        (await call<RunDetail>(`/api/v1/schedules/flaky/runs/${triggered.runId}`)).json().state === 'failed',
      'the triggered run to fail',
    );
    expect((await call(`/ui/api/queues/flaky/${triggered.runId}/retry`, 'PUT')).status).toBeLessThan(300);
    const entries = await waitFor(async () => {
      const all = await auditOf(call, 'since=1h');
      return all.some((e) => e.action === 'board:retry') && all;
    }, "Bull Board's re-run in the audit log");
    const line = (e: AuditEntryView) => [e.by, e.action, e.schedule, e.runId, e.what];
    expect(entries.slice(0, 3).map(line)).toEqual([
      [
        'bull-board:ops',
        'board:retry',
        'flaky',
        triggered.runId,
        `re-ran run ${triggered.runId} in Bull Board`,
      ],
      ['api:ops', 'trigger', 'flaky', triggered.runId, `triggered run ${triggered.runId}`],
      ['bull-board:ops', 'pause', 'nap', null, 'paused in Bull Board'],
    ]);

    // The CLI shows the same log.
    const cli = await runCli(['audit', 'nap'], s.env);
    expect(cli.code).toBe(0);
    const lines = cli.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/bull-board:ops\s+pause\s+nap\s+paused in Bull Board$/);
    expect(lines[1]).toMatch(/schedules\.yaml\s+schedule-changed\s+nap\s+.*params\.ms 5 → 10/);
    expect(lines.at(-1)).toMatch(/schedules\.yaml\s+schedule-created\s+nap\s+added: sleep, every 300ms$/);
  });

  it('pages newest first, filters by schedule and time, and names bad input', async () => {
    s = new SchedulerTest('audit_query', AUTH);
    s.writeSchedules(schedules(5));
    const app = await s.start({ web: true });
    const call = client(app);
    for (let i = 0; i < 3; i++) expect((await call('/api/v1/schedules/flaky/runs', 'POST')).status).toBe(201);
    const first = (await call<AuditPage>('/api/v1/audit?limit=2')).json();
    expect(first.entries.map((e) => e.action)).toEqual(['trigger', 'trigger']);
    const second = (await call<AuditPage>(`/api/v1/audit?limit=2&before=${first.next}`)).json();
    expect(second.entries.map((e) => e.action)).toEqual([
      'trigger',
      expect.stringMatching(/^schedule-created$/),
    ]);
    expect(second.entries[0]?.id).toBeLessThan(first.entries[1]?.id ?? 0);
    expect(await auditOf(call, 'schedule=nap')).toHaveLength(1);
    expect(await auditOf(call, 'since=2099-01-01T00:00:00Z')).toHaveLength(0);
    expect(await auditOf(call, 'since=10m')).toHaveLength(5);

    const badSince = await call<{ issues: { field: string; message: string }[] }>(
      '/api/v1/audit?since=yesterday',
    );
    expect(badSince.status).toBe(400);
    expect(badSince.json().issues).toEqual([
      {
        field: 'since',
        message:
          'expected a time with its zone (e.g. 2024-03-01T10:00:00Z) or how far back (e.g. 30m, 24h, 7d)',
      },
    ]);
    const unknown = await call<{ error: string }>('/api/v1/audit?schedule=nope');
    expect(unknown.status).toBe(404);
    expect(unknown.json().error).toMatch(/^no schedule named "nope"; known schedules: flaky, nap/);
    expect((await call('/api/v1/audit?before=garbage')).status).toBe(400);
    const cli = await runCli(['audit', '--since', 'soon'], s.env);
    expect(cli.code).toBe(1);
    expect(cli.stderr).toMatch(/--since "soon": expected a time with its zone/);
  });

  it('records a schedules.yaml edit once, however many schedulers apply it', async () => {
    s = new SchedulerTest('audit_once');
    s.writeSchedules(schedules(5));
    const [one, two] = [await s.start({ workers: false }), await s.start({ workers: false })];
    s.writeSchedules(schedules(7));
    await waitFor(
      async () =>
        [one, two].every(
          (app) => app.source.current.schedules.find((x) => x.name === 'nap')?.params.ms === 7,
        ),
      'both schedulers to read the edit',
    );
    // Each applies it at its next pass (every 500 ms): give both a few.
    await new Promise((resolve) => setTimeout(resolve, 1_500));
    const { rows } = await s.db.query<{ action: string; schedule: string; what: string }>(
      `select action, schedule, what from audit_log order by id`,
    );
    expect(rows).toEqual([
      { action: 'schedule-created', schedule: 'nap', what: 'added: sleep, every 300ms' },
      { action: 'schedule-created', schedule: 'flaky', what: 'added: sleep, cron 0 0 1 1 * (UTC)' },
      { action: 'schedule-changed', schedule: 'nap', what: 'params.ms 5 → 7' },
    ]);
  });
});
