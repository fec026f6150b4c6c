import { afterEach, beforeEach, expect, it } from 'vitest';
import { type StreamingEnv, streamingEnv } from './streaming-env';
import { WorkerProcess } from './worker-process';

let env: StreamingEnv;
const workers: WorkerProcess[] = [];

beforeEach(async () => {
  env = await streamingEnv('wp');
});

afterEach(async () => {
  await Promise.all(workers.splice(0).map((worker) => worker.kill('SIGKILL')));
  await env.cleanup();
});

function startWorker(params: Record<string, unknown>): WorkerProcess {
  const worker = new WorkerProcess(env.consumerParams(params), env.env);
  workers.push(worker);
  return worker;
}

async function profileTransactionCount(): Promise<number> {
  const { rows } = await env.resources.db.query<{ n: number }>(
    "select coalesce(sum((profile->>'count')::int), 0)::int as n from account_profiles",
  );
  return rows[0]?.n ?? 0;
}

it('loses and duplicates nothing when a worker is SIGKILLed in the middle of a run', async () => {
  await env.produce({ count: 6_000, fraudRate: 0.1, seed: 21 });
  const doomed = startWorker({ batchSize: 2_000, maxWait: 500 });
  // Killed after scoring, while (or just before) it writes to PostgreSQL: nothing is committed to Kafka.
  await doomed.until(() => doomed.logs.some((line) => String(line.msg).startsWith('writing scored batch')));
  await doomed.kill('SIGKILL');

  const successor = startWorker({ batchSize: 2_000, maxWait: 500 });
  await successor.until(
    () => successor.runs.some((run) => run.result.lagAfter === 0 && run.result.consumed === 0),
    90_000,
    'the successor to drain the topic',
  );
  expect(await env.count('transactions')).toBe(6_000);
  expect(await env.count('predictions')).toBe(6_000);
  expect(await profileTransactionCount()).toBe(6_000);
});

it('two worker processes in one group split the partitions and drain them all', async () => {
  const params = { batchSize: 300, maxWait: 300 };
  const [a, b] = [startWorker(params), startWorker(params)] as [WorkerProcess, WorkerProcess];
  const owned = (w: WorkerProcess) => w.runs.at(-1)?.partitions ?? [];
  const split = () => owned(a).length > 0 && owned(b).length > 0 && owned(a).length + owned(b).length === 3;
  await a.until(() => split() && b.runs.length > 0, 60_000, 'both workers to own partitions');

  await env.produce({ count: 3_000, seed: 8 });
  await a.until(() => a.consumed + b.consumed >= 3_000, 60_000, 'the two workers to drain the topic');

  expect(a.consumed).toBeGreaterThan(0);
  expect(b.consumed).toBeGreaterThan(0);
  expect(a.consumed + b.consumed).toBe(3_000);
  expect(await env.count('predictions')).toBe(3_000);
  expect([...owned(a), ...owned(b)].sort()).toEqual([0, 1, 2]);
});
