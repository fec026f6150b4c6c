/**
 * One run of a fault suite (test/faults, test/cluster): the steady state before the faults, each
 * fault's record (when it started and ended, the topic's end offsets then, its recovery), and at the
 * end the verdict: everything the topic holds compared with PostgreSQL and the alerts and DLQ topics,
 * a table of lost / duplicated rows and recovery times per fault, printed and written as JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Queue } from 'bullmq';
import { expect } from 'vitest';
import { parseTransaction } from '../../src/domain/transaction';
import { bullConnection } from '../../src/queues/queues';
import { waitFor } from '../scheduler/support';
import type { ProducerLoop } from './producer-loop';
import { caughtUp, endOffsets, lag, type Offsets, readWholeTopic, type TopicMessage } from './topics';
import { type Child, type FaultWorld, GROUP, type LogLine, TOPICS } from './world';

export interface FaultRecord {
  fault: string;
  /** Fault start: the moment the kill, stop or flush was issued. */
  startedAt: number;
  /** Fault end: worker restarted and ready / PostgreSQL back / Kafka back / flush done. */
  endedAt: number;
  /** Topic end offsets when the fault started: the messages produced from here to the next fault are this fault's. */
  boundary: Offsets;
  /** End of the fault → end of the first consumer run due after it that completed. */
  firstRunMs?: number;
  /** End of the fault → the group has committed everything the topic held at that moment. */
  caughtUpMs?: number;
  notes: Record<string, unknown>;
}

export interface PhaseCounts {
  messages: number;
  validIds: number;
  lost: number;
  duplicated: number;
  topicDuplicates: number;
  alertResends: number;
}

export class FaultRun {
  readonly faults: FaultRecord[] = [];
  readonly suiteStart = Date.now();
  /** Seeds of the backlog runs, apart from the loop's (1, 2, 3, …). */
  private backlogSeed = 1_000_000;

  constructor(
    readonly world: FaultWorld,
    readonly producer: ProducerLoop,
  ) {}

  /** Steady state first: messages produced, consumed and committed. */
  async steadyState(): Promise<void> {
    const { world } = this;
    // Steady state first: messages produced, consumed and committed.
    const baselineEnds = await waitFor(
      async () => {
        const ends = await endOffsets(world.config, TOPICS.transactions);
        return [...ends.values()].reduce((sum, end) => sum + end, 0) >= 1_000 && ends;
      },
      'two producer runs in the topic',
      60_000,
    );
    await waitFor(
      () => caughtUp(world.config, GROUP, TOPICS.transactions, baselineEnds),
      'the consumer to catch up before the first fault',
      90_000,
    );
  }

  /** A fault begins: its messages are those produced from here to the next fault. */
  async begin(fault: string): Promise<FaultRecord> {
    const record: FaultRecord = {
      fault,
      startedAt: 0,
      endedAt: 0,
      boundary: await endOffsets(this.world.config, TOPICS.transactions),
      notes: {},
    };
    this.faults.push(record);
    return record;
  }

  /**
   * Triggers a backlog (one producer run of 8,000), so that consumer runs carry full batches of 2,000,
   * then calls `act` on the first such run that logs its PostgreSQL write (its first piece): the fault
   * lands mid-run, while the run's transaction is open and more pieces are to come (in the handler of the log line itself, so as early as we can see it).
   */
  async duringConsumerWrite(
    act: (child: Child, line: LogLine) => void,
    timeoutMs = 60_000,
  ): Promise<{ child: Child; line: LogLine; at: number }> {
    const { world, producer } = this;
    const caught = new Promise<{ child: Child; line: LogLine; at: number }>((resolve, reject) => {
      const timer = setTimeout(() => {
        off();
        reject(
          new Error(
            `no consumer run with a piece of ≥ 500 messages wrote to PostgreSQL within ${timeoutMs}ms`,
          ),
        );
      }, timeoutMs);
      const off = world.onLine((child, line) => {
        const msg = String(line.json?.msg ?? '');
        if (line.json?.schedule !== 'consumer' || !msg.startsWith('writing scored batch')) return;
        // A run streams its batch in pieces; a first piece this large belongs to a run of a full batch.
        if (Number(line.json?.piece ?? 0) < 500) return;
        off();
        clearTimeout(timer);
        const at = Date.now();
        act(child, line);
        resolve({ child, line, at });
      });
    });
    await producer.trigger(8_000, this.backlogSeed++);
    return caught;
  }

  /** Waits for the first completed consumer run due after the fault's end, and for the group to catch up. */
  async measureRecovery(record: FaultRecord): Promise<void> {
    const { world } = this;
    const end = record.endedAt;
    const ends = await waitFor(
      () => endOffsets(world.config, TOPICS.transactions),
      'Kafka to answer',
      60_000,
    );
    const firstRun = waitFor(
      async () => {
        const [row] = await world.query<{ run_id: string; finished_at: Date; attempts: number }>(
          `select run_id, finished_at, attempts from runs
          where schedule = 'consumer' and state = 'completed' and due_at > $1
          order by finished_at limit 1`,
          [new Date(end)],
        );
        return row;
      },
      `a completed consumer run due after the end of "${record.fault}"`,
      120_000,
    ).then((row) => {
      record.firstRunMs = row.finished_at.getTime() - end;
      record.notes.firstRun = row.run_id;
    });
    const catchUp = waitFor(
      () => caughtUp(world.config, GROUP, TOPICS.transactions, ends),
      `the group to commit what the topic held at the end of "${record.fault}"`,
      120_000,
    ).then(() => {
      record.caughtUpMs = Date.now() - end;
    });
    await Promise.all([firstRun, catchUp]);
  }

  attemptsOf(runId: string) {
    const { world } = this;
    return world.query<{ attempt: number; state: string; error: string | null; worker: string }>(
      `select attempt, state, error, worker from job_runs where schedule = 'consumer' and job_id = $1 order by attempt`,
      [runId],
    );
  }

  /** Failed consumer attempts that started in [from, to]: what the fault cost while it lasted. */
  async failedAttempts(from: number, to: number): Promise<number> {
    const { world } = this;
    const [row] = await world.query<{ n: number }>(
      `select count(*)::int as n from job_runs
      where schedule = 'consumer' and state = 'failed' and started_at between $1 and $2`,
      [new Date(from), new Date(to)],
    );
    return row?.n ?? 0;
  }

  /**
   * Producing stops; the consumer catches up (lag 0) and two more runs find nothing new; then the
   * verdict, written to `artifact`, and the checks every fault suite makes.
   */
  async finish(artifact: string): Promise<void> {
    const { world, producer, faults, suiteStart } = this;
    // Producing stops; the consumer catches up (lag 0), then two more runs find nothing new.
    await producer.stop();
    const connection = bullConnection(world.config);
    const producerQueue = new Queue('producer', { connection, prefix: world.config.queuePrefix });
    let pending: Record<string, number> = {};
    await waitFor(
      async () => {
        // The yearly cron's next run is delayed too: only triggered runs (and their retries) count.
        const delayed = await producerQueue.getDelayed();
        pending = {
          ...(await producerQueue.getJobCounts('waiting', 'active', 'prioritized')),
          delayed: delayed.filter((job) => String(job.id).startsWith('manual-')).length,
        };
        return Object.values(pending).every((n) => n === 0);
      },
      'the triggered producer runs to finish',
      120_000,
    ).catch((error: Error) => {
      throw new Error(`${error.message}: ${JSON.stringify(pending)}`);
    });
    await producerQueue.close();
    connection.disconnect();
    const drainedAt = await waitFor(
      async () => (await lag(world.config, GROUP, TOPICS.transactions)) === 0 && Date.now(),
      'consumer lag 0',
      120_000,
    );
    await waitFor(
      async () => {
        const [row] = await world.query<{ n: number }>(
          `select count(*)::int as n from runs where schedule = 'consumer' and state = 'completed' and due_at > $1`,
          [new Date(drainedAt)],
        );
        return (row?.n ?? 0) >= 2;
      },
      'two more completed consumer runs after lag 0',
      60_000,
    );
    expect(await lag(world.config, GROUP, TOPICS.transactions)).toBe(0);

    // What the topic holds, against PostgreSQL, the alerts topic and the DLQ.
    const [transactions, alerts, deadLetters] = await Promise.all([
      readWholeTopic(world.config, TOPICS.transactions),
      readWholeTopic(world.config, TOPICS.alerts),
      readWholeTopic(world.config, TOPICS.dlq),
    ]);
    const idOf = (message: TopicMessage): string | undefined => {
      if (!message.key || message.key.length === 0) return undefined;
      const parsed = parseTransaction(message.value);
      return parsed.ok ? parsed.transaction.transactionId : undefined;
    };
    const topicIds = new Map<string, number>();
    const invalid: TopicMessage[] = [];
    for (const message of transactions) {
      const id = idOf(message);
      if (id) topicIds.set(id, (topicIds.get(id) ?? 0) + 1);
      else invalid.push(message);
    }
    const stored = new Set(
      (await world.query<{ id: string }>('select transaction_id::text as id from transactions')).map(
        (r) => r.id,
      ),
    );
    const [counts] = await world.query<{
      transactions: number;
      predictions: number;
      prediction_ids: number;
      alerts: number;
      profiled: number;
    }>(
      `select (select count(*)::int from transactions) as transactions,
              (select count(*)::int from predictions) as predictions,
              (select count(distinct transaction_id)::int from predictions) as prediction_ids,
              (select count(*)::int from fraud_alerts) as alerts,
              (select coalesce(sum((profile->>'count')::int), 0)::int from account_profiles) as profiled`,
    );
    const doubled = new Set(
      (
        await world.query<{ id: string }>(
          `select transaction_id::text as id from predictions group by 1 having count(*) > 1
           union select transaction_id::text from fraud_alerts group by 1 having count(*) > 1`,
        )
      ).map((r) => r.id),
    );
    const predictedIds = new Set(
      (await world.query<{ id: string }>('select transaction_id::text as id from predictions')).map(
        (r) => r.id,
      ),
    );
    const alertedIds = new Set(
      (await world.query<{ id: string }>('select transaction_id::text as id from fraud_alerts')).map(
        (r) => r.id,
      ),
    );
    const alertKeys = new Map<string, number>();
    for (const message of alerts) {
      const key = message.key?.toString() ?? '';
      alertKeys.set(key, (alertKeys.get(key) ?? 0) + 1);
    }
    const deadLetterSources = new Set(
      deadLetters.map(
        (m) =>
          `${m.headers['dlq-source-partition']?.toString()}:${m.headers['dlq-source-offset']?.toString()}`,
      ),
    );

    // Per fault: the messages produced from its start to the next fault's start (the last one: to the end).
    const finalEnds = await endOffsets(world.config, TOPICS.transactions);
    const phaseOf = (message: TopicMessage): number => {
      let phase = -1;
      faults.forEach((record, i) => {
        if (message.offset >= (record.boundary.get(message.partition) ?? 0)) phase = i;
      });
      return phase;
    };
    const phases: PhaseCounts[] = [...faults, undefined].map(() => ({
      messages: 0,
      validIds: 0,
      lost: 0,
      duplicated: 0,
      topicDuplicates: 0,
      alertResends: 0,
    }));
    const counted = new Set<string>();
    for (const message of transactions) {
      const counts = phases[phaseOf(message) + 1] as PhaseCounts;
      counts.messages++;
      const id = idOf(message);
      if (!id) continue;
      if (counted.has(id)) {
        counts.topicDuplicates++;
        continue;
      }
      counted.add(id);
      counts.validIds++;
      if (!stored.has(id) || !predictedIds.has(id)) counts.lost++;
      if (doubled.has(id)) counts.duplicated++;
      if ((alertKeys.get(id) ?? 0) > 1) counts.alertResends++;
    }

    const lost = [...topicIds.keys()].filter((id) => !stored.has(id));
    const extra = [...stored].filter((id) => !topicIds.has(id));
    const missingAlerts = [...alertedIds].filter((id) => !alertKeys.has(id));
    const strayAlerts = [...alertKeys.keys()].filter((key) => !alertedIds.has(key));
    const missingDeadLetters = invalid.filter((m) => !deadLetterSources.has(`${m.partition}:${m.offset}`));
    const lostAt = ranges(
      transactions.filter((m) => {
        const id = idOf(m);
        return id !== undefined && !stored.has(id);
      }),
    );
    const deadLettersMissingAt = ranges(missingDeadLetters);
    const totals = {
      topicMessages: transactions.length,
      topicValidIds: topicIds.size,
      topicDuplicateMessages: [...topicIds.values()].reduce((sum, n) => sum + n - 1, 0),
      topicInvalid: invalid.length,
      transactions: counts?.transactions,
      predictions: counts?.predictions,
      fraudAlerts: counts?.alerts,
      profileCount: counts?.profiled,
      lost: lost.length,
      extraInPostgres: extra.length,
      duplicatedInPostgres:
        doubled.size +
        ((counts?.predictions ?? 0) - (counts?.transactions ?? 0)) +
        ((counts?.profiled ?? 0) - (counts?.transactions ?? 0)),
      alertsTopicMessages: alerts.length,
      alertsTopicKeys: alertKeys.size,
      alertsResent: alerts.length - alertKeys.size,
      alertsMissing: missingAlerts.length,
      alertsStray: strayAlerts.length,
      deadLetters: deadLetters.length,
      deadLettersDuplicated: deadLetters.length - deadLetterSources.size,
      deadLettersMissing: missingDeadLetters.length,
      ...(lostAt.length ? { lostAt } : {}),
      ...(deadLettersMissingAt.length ? { deadLettersMissingAt } : {}),
      producerTriggers: producer.triggers.length,
      producerTriggersFailed: producer.triggers.filter((t) => !t.ok).length,
      finalEnds: Object.fromEntries(finalEnds),
    };
    // Processes that died on their own (not the worker the suite killed), by the fault they died in.
    const crashes = world.crashes().map((child) => ({
      process: child.label,
      pid: child.pid,
      phase: faults.filter((record) => (child.exitedAt ?? 0) >= record.startedAt).length,
      summary: child.crashSummary(),
      output: child.crashOutput(),
    }));
    const crashesIn = (phase: number) =>
      crashes.filter((c) => c.phase === phase).map((c) => `${c.process} (pid ${c.pid}): ${c.summary}`);
    const rows = [
      { fault: 'baseline (before any fault)', ...(phases[0] as PhaseCounts), crashed: crashesIn(0) },
      ...faults.map((record, i) => ({
        fault: record.fault,
        ...(phases[i + 1] as PhaseCounts),
        crashed: crashesIn(i + 1),
        outageMs: record.endedAt - record.startedAt,
        firstRunMs: record.firstRunMs,
        caughtUpMs: record.caughtUpMs,
        notes: record.notes,
      })),
    ];
    const report = {
      finishedAt: new Date().toISOString(),
      durationMs: Date.now() - suiteStart,
      kafkaClient: world.config.kafka.client,
      services: {
        kafka: world.config.kafka.brokers[0],
        redis: world.config.redisUrl,
        postgres: world.config.databaseUrl,
      },
      faults: rows,
      totals,
      crashes,
    };
    fs.mkdirSync(path.dirname(artifact), { recursive: true });
    fs.writeFileSync(artifact, `${JSON.stringify(report, null, 2)}\n`);
    printTable(report.faults, totals, report.durationMs, report.kafkaClient);

    expect({ lost: lost.slice(0, 5), extra: extra.slice(0, 5) }).toEqual({ lost: [], extra: [] });
    // No tickflow process may die of a fault it should ride out (the supervisor restarted it meanwhile).
    expect(crashes.map((c) => `${c.process}: ${c.summary}`)).toEqual([]);
    expect(totals.lost).toBe(0);
    expect(doubled.size).toBe(0);
    expect(counts?.predictions).toBe(counts?.transactions);
    expect(counts?.prediction_ids).toBe(counts?.transactions);
    expect(counts?.transactions).toBe(topicIds.size);
    // The model's account history counted each transaction once: a redelivered batch did not add to it.
    expect(counts?.profiled).toBe(counts?.transactions);
    // Alerts may be re-sent (a redelivered transaction's alert goes out again, same key); none may be missing.
    expect(totals.alertsMissing).toBe(0);
    expect(totals.alertsStray).toBe(0);
    expect(totals.deadLettersMissing).toBe(0);
    // The checks above cover alerts and dead letters only if there were some.
    expect(totals.alertsTopicMessages).toBeGreaterThan(0);
    expect(totals.deadLetters).toBeGreaterThan(0);
    // Recovery is bounded: the first good run within a minute of each fault's end.
    for (const record of faults.filter((f) => f.endedAt !== undefined)) {
      expect(record.firstRunMs, record.fault).toBeLessThan(60_000);
      expect(record.caughtUpMs, record.fault).toBeLessThan(60_000);
    }
  }
}

function printTable(
  rows: Array<Record<string, unknown> & PhaseCounts>,
  totals: Record<string, unknown>,
  durationMs: number,
  kafkaClient: string,
): void {
  const columns: Array<[string, (row: Record<string, unknown>) => string]> = [
    ['fault', (r) => String(r.fault)],
    ['messages', (r) => String(r.messages)],
    ['lost', (r) => String(r.lost)],
    ['duplicated', (r) => String(r.duplicated)],
    ['alerts re-sent', (r) => String(r.alertResends)],
    ['crashed', (r) => String((r.crashed as string[] | undefined)?.length ?? 0)],
    ['outage ms', (r) => (r.outageMs === undefined ? '-' : String(r.outageMs))],
    ['first run ms', (r) => (r.firstRunMs === undefined ? '-' : String(r.firstRunMs))],
    ['caught up ms', (r) => (r.caughtUpMs === undefined ? '-' : String(r.caughtUpMs))],
  ];
  const cells = rows.map((row) => columns.map(([, cell]) => cell(row)));
  const widths = columns.map(([title], i) =>
    Math.max(title.length, ...cells.map((c) => (c[i] ?? '').length)),
  );
  const line = (values: string[]) =>
    values.map((v, i) => (i === 0 ? v.padEnd(widths[i] ?? 0) : v.padStart(widths[i] ?? 0))).join('  ');
  const out = [
    '',
    line(columns.map(([title]) => title)),
    ...cells.map(line),
    '',
    ...rows.flatMap((row) => [
      ...(row.notes ? [`${row.fault}: ${JSON.stringify(row.notes)}`] : []),
      ...((row.crashed as string[] | undefined) ?? []).map((crash) => `${row.fault}: CRASHED ${crash}`),
    ]),
    '',
    `totals: ${JSON.stringify(totals)}`,
    `duration: ${(durationMs / 1000).toFixed(1)} s; Kafka client: ${kafkaClient}`,
    '',
  ];
  console.log(out.join('\n'));
}

/** Messages as `partition:first-last (count)` runs of neighbouring offsets, for reading a loss. */
function ranges(messages: TopicMessage[]): string[] {
  const sorted = [...messages].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const out: string[] = [];
  let start: TopicMessage | undefined;
  let last: TopicMessage | undefined;
  let count = 0;
  const flush = () => {
    if (start && last) out.push(`${start.partition}:${start.offset}-${last.offset} (${count})`);
  };
  for (const message of sorted) {
    // Gaps of a few offsets (invalid messages between) still belong to the same run of losses.
    if (!last || last.partition !== message.partition || message.offset - last.offset > 50) {
      flush();
      start = message;
      count = 0;
    }
    last = message;
    count++;
  }
  flush();
  return out;
}
