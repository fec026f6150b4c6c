import { afterEach, describe, expect, it } from 'vitest';
import { webhook } from '../webhook';
import { SchedulerTest, sleep, waitFor } from './support';

let s: SchedulerTest;
afterEach(() => s.cleanup());

describe('failure notifications (real Redis and PostgreSQL, a real webhook)', () => {
  it('POSTs once when the failing streak reaches `after`, with the run, its error and a link', async () => {
    const hook = await webhook();
    s = new SchedulerTest('notify', { WEB_PUBLIC_URL: 'http://tickflow.test:3000' });
    s.writeSchedules(`schedules:
  broken:
    job: sleep
    every: 150ms
    params: { failAttempts: 99 }
    notify: { onFailure: "${hook.url}", after: 2 }
`);
    await s.start();
    await waitFor(
      async () => (await s.runs('broken')).filter((r) => r.state === 'failed').length >= 5,
      'five failed runs',
    );
    await waitFor(async () => hook.bodies.length >= 1, 'the notification');
    // Proves a negative (no second POST for the same streak), so it takes a fixed time: two runs.
    await sleep(300);
    expect(hook.bodies).toHaveLength(1);
    const [body] = hook.bodies;
    const second = (await s.runs('broken'))[1];
    expect(body).toMatchObject({
      event: 'run_failed',
      schedule: 'broken',
      runId: second?.job_id,
      jobType: 'sleep',
      consecutiveFailures: 2,
      error: 'failing attempt 1 on purpose (failAttempts=99)',
      link: `http://tickflow.test:3000/schedules#run=broken/${encodeURIComponent(second?.job_id ?? '')}`,
    });
  });
});
