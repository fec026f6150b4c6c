import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Metrics } from '../metrics/metrics';
import { ScheduleSource } from '../schedules/source';
import { recordRunsIn } from './run-metrics';

const SCHEDULES = `schedules:
  producer:
    job: producer-batch
    every: 1s
  consumer:
    job: consumer-batch
    every: 2s
  rollup:
    job: stream-rollup
    every: 1m
`;

let dir: string;
let source: ScheduleSource;
beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-run-metrics-'));
  const file = path.join(dir, 'schedules.yaml');
  fs.writeFileSync(file, SCHEDULES);
  source = new ScheduleSource(file, pino({ level: 'silent' }));
  await source.load();
});
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

describe('recordRunsIn: results counted by their schedule’s job type', () => {
  it('counts the producer’s and the consumer’s messages, not a rollup’s totals of the same names', async () => {
    const metrics = new Metrics(() => []);
    const onFinished = recordRunsIn(metrics, source);
    onFinished('producer', 'completed', 0.2, { result: { produced: 200, fraud: 10, bytes: 9_000 } });
    onFinished('consumer', 'completed', 0.4, { result: { consumed: 200, flagged: 9, lagAfter: 3 } });
    onFinished('rollup', 'completed', 0.1, { result: { flagged: 40, transactions: 900 } });
    onFinished('gone', 'completed', 0.1, { result: { produced: 5 } }); // no longer in the file
    const { values } = await metrics.messages.get();
    expect(values.map((v) => [v.labels.schedule, v.labels.kind, v.value])).toEqual([
      ['producer', 'produced', 200],
      ['producer', 'fraud', 10],
      ['consumer', 'consumed', 200],
      ['consumer', 'flagged', 9],
    ]);
  });
});
