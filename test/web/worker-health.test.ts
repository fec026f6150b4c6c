import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerTest, waitFor } from '../scheduler/support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

describe('`tickflow worker` serves its own /health, /ready and /metrics', () => {
  it('on WORKER_PORT (0: a free one, logged), counting the runs it took', async () => {
    s = new SchedulerTest('whealth');
    s.writeSchedules('schedules:\n  tick:\n    job: sleep\n    every: 200ms\n');
    await s.start({ workers: false });
    const [worker] = await s.spawnReady(1, ['worker'], 'workers started');
    const url = /"health":"(http:\/\/[^"]+)"/.exec(worker?.output() ?? '')?.[1];
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    expect(await (await fetch(`${url}/health`)).json()).toEqual({ status: 'ok' });
    const ready = await fetch(`${url}/ready`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({
      ready: true,
      checks: { redis: true, postgres: true, kafka: true },
      checkedAt: expect.any(String),
    });
    const metrics = await waitFor(async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      return /tickflow_runs_total\{schedule="tick",state="completed"\} [1-9]/.test(text) && text;
    }, 'runs counted in /metrics');
    expect(metrics).toContain('tickflow_run_duration_seconds_bucket');
    // The worker serves no UI, API or Bull Board.
    expect((await fetch(`${url}/api/v1/schedules`)).status).toBe(404);
  });
});
