import { Queue } from 'bullmq';
import { afterEach, describe, expect, it } from 'vitest';
import { type TestEnv, testEnv } from '../../test/support';
import { migrate } from '../db/migrate';
import { createPool } from '../db/pool';
import { Metrics } from '../metrics/metrics';
import { BOARD_PATH, startWebServer } from './server';

let t: TestEnv;
afterEach(() => t.cleanup());

describe('web UI (real Redis and PostgreSQL)', () => {
  it('serves Bull Board, the schedules grid, health, readiness and metrics', async () => {
    t = testEnv('web');
    await migrate(t.config, t.log);
    const db = createPool(t.config);
    const queue = new Queue('heartbeat', {
      connection: { url: t.config.redisUrl },
      prefix: t.config.queuePrefix,
    });
    await queue.pause();
    await db.query(
      `insert into job_runs (schedule, job_id, attempt, job_type, state, started_at, finished_at, error)
       values ('heartbeat', '1', 1, 'sleep', 'failed', now(), now(), 'boom <script>')`,
    );
    const metrics = new Metrics(() => [queue]);
    const config = { ...t.config, web: { host: '127.0.0.1', port: 0 } };
    const web = await startWebServer(
      config,
      t.log,
      {
        queues: () => [queue],
        schedules: async () => [{ name: 'heartbeat', job: 'sleep', trigger: 'every 5s', paused: true }],
        loadError: () => 'schedules.yaml:3:5 bad',
      },
      db,
      metrics,
    );
    try {
      const get = (path: string) => fetch(`${web.url}${path}`);
      expect(await (await get('/health')).json()).toEqual({ status: 'ok' });
      const ready = await get('/ready');
      expect(ready.status).toBe(200);
      expect(((await ready.json()) as { checks: unknown }).checks).toEqual({
        redis: true,
        postgres: true,
        kafka: true,
      });

      const grid = await (await get('/schedules')).text();
      expect(grid).toContain('heartbeat');
      expect(grid).toContain('paused');
      expect(grid).toContain('schedules.yaml:3:5 bad');
      expect(grid).toContain('boom &lt;script&gt;');
      expect(grid).not.toContain('<script>');

      expect((await get(BOARD_PATH)).status).toBe(200);
      const queues = (await (await get(`${BOARD_PATH}/api/queues`)).json()) as { queues: { name: string }[] };
      expect(queues.queues.map((q) => q.name)).toEqual(['heartbeat']);

      const text = await (await get('/metrics')).text();
      expect(text).toContain('tickflow_schedule_paused{schedule="heartbeat"} 1');
    } finally {
      await web.close();
      await queue.obliterate({ force: true });
      await queue.close();
      await db.end();
    }
  });
});
