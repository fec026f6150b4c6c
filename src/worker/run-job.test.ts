import type { Job } from 'bullmq';
import { describe, expect, it } from 'vitest';
import { OtlpReceiver } from '../../test/otlp-receiver';
import { createLogger } from '../log/logger';
import type { FailureNotifier } from '../notify/failure-notifier';
import { CancelledError } from '../queues/run-cancel';
import type { JobRegistry } from '../runtime/job-registry';
import type { Resources } from '../runtime/resources';
import { startTracing } from '../telemetry/tracing';
import type { HistoryWrite } from './job-runs';
import type { RunHistory } from './run-history';
import { type RunDependencies, runJob } from './run-job';

/** runJob with a job type that does `run`, its history writes and run events in one list. */
function harness(run: () => Promise<Record<string, unknown>>) {
  const seen: string[] = [];
  const events: unknown[] = [];
  const deps: RunDependencies = {
    resources: { kafka: {}, db: {}, shared: () => undefined } as unknown as Resources,
    jobs: { resolve: () => ({ definition: { run }, params: {} }) } as unknown as JobRegistry,
    runs: {
      write: async (write: HistoryWrite) => {
        seen.push(`recorded ${write.op}`);
      },
    } as unknown as RunHistory,
    log: createLogger('silent'),
    notifier: {} as FailureNotifier,
    scheduleOf: () => undefined,
    events: {
      started: (started) => {
        seen.push('run:started');
        events.push(started);
      },
      finished: (finished) => {
        seen.push(`run:finished ${finished.state}`);
        events.push(finished);
      },
    },
  };
  return { deps, seen, events };
}

const job = (attempts: number) =>
  ({
    queueName: 'tick',
    id: 'repeat:tick:60000',
    repeatJobKey: 'tick',
    name: 'sleep',
    data: {},
    opts: { attempts },
    attemptsStarted: 1,
    attemptsMade: 0,
    timestamp: 0,
    log: async () => 0,
  }) as unknown as Job;

describe('runJob run events', () => {
  it('tells of an attempt once its start, then its end, is recorded, with what it returned', async () => {
    const { deps, seen, events } = harness(async () => ({ produced: 3 }));
    expect(await runJob(job(1), deps)).toEqual({ produced: 3 });
    expect(seen).toEqual(['recorded started', 'run:started', 'recorded finished', 'run:finished completed']);
    const about = {
      schedule: 'tick',
      runId: 'repeat:tick:60000',
      attempt: 1,
      jobType: 'sleep',
      scheduledAt: new Date(60_000),
    };
    expect(events).toEqual([about, { ...about, state: 'completed', result: { produced: 3 } }]);
  });

  it('tells of a failed attempt, final or not, after it is recorded', async () => {
    const failing = async () => {
      throw new Error('broker away');
    };
    for (const [attempts, final] of [
      [2, false],
      [1, true],
    ] as const) {
      const { deps, seen, events } = harness(failing);
      await expect(runJob(job(attempts), deps)).rejects.toThrow('broker away');
      expect(seen).toEqual(['recorded started', 'run:started', 'recorded finished', 'run:finished failed']);
      expect(events[1]).toMatchObject({ state: 'failed', error: 'broker away', final });
    }
  });

  it('tells of a cancelled attempt, and by whom, after it is recorded', async () => {
    const { deps, seen, events } = harness(async () => {
      throw new CancelledError('api:ops');
    });
    await expect(runJob(job(3), deps)).rejects.toThrow('cancelled by api:ops');
    expect(seen).toEqual(['recorded started', 'run:started', 'recorded finished', 'run:finished cancelled']);
    expect(events[1]).toMatchObject({ state: 'cancelled', error: 'cancelled by api:ops', by: 'api:ops' });
  });
});

describe('runJob with traces on', () => {
  it('makes each attempt a span whose outcome is the attempt’s: completed, failed, or cancelled (not an error)', async () => {
    const receiver = await OtlpReceiver.start();
    const stop = await startTracing({ endpoint: receiver.url, service: 'test', log: createLogger('silent') });
    try {
      await runJob(job(1), harness(async () => ({ produced: 3 })).deps);
      const failing = harness(async () => {
        throw new Error('broker away');
      });
      await runJob(job(1), failing.deps).catch(() => {});
      const cancelled = harness(async () => {
        throw new CancelledError('api:ops');
      });
      await runJob(job(1), cancelled.deps).catch(() => {});
    } finally {
      await stop();
      await receiver.close();
    }
    const runs = receiver.spans.filter((span) => span.name === 'run tick');
    expect(runs.map((span) => [span.attributes['tickflow.run.outcome'], span.status?.code ?? 0])).toEqual([
      ['completed', 0],
      ['failed', 2],
      ['cancelled', 0],
    ]);
    expect(runs[0]?.attributes).toMatchObject({
      'tickflow.schedule': 'tick',
      'tickflow.run.id': 'repeat:tick:60000',
      'tickflow.run.attempt': 1,
      'tickflow.job.type': 'sleep',
      'tickflow.run.scheduled_at': new Date(60_000).toISOString(),
    });
  });
});
