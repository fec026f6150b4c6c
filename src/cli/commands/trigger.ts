import { randomUUID } from 'node:crypto';
import { QueueEvents } from 'bullmq';
import { type Command, InvalidArgumentError } from 'commander';
import { JobParamsError, resolveJob } from '../../../jobs/index';
import { schedulerSpecOf } from '../../scheduler/scheduler-spec';
import { parseDuration } from '../../schedules/duration';
import { loadSchedulesFile } from '../../schedules/load';
import type { Schedule } from '../../schedules/schedule';
import { action } from '../action';
import { withScheduleStore } from '../schedule-store';

type Overrides = Record<string, unknown>;

/** `--param count=500`: the value is read as JSON when it is JSON (numbers, booleans, objects), else as text. */
export function collectParam(pair: string, previous: Overrides = {}): Overrides {
  const at = pair.indexOf('=');
  if (at < 1) throw new InvalidArgumentError(`expected key=value, e.g. count=500 (got "${pair}")`);
  const raw = pair.slice(at + 1);
  let value: unknown = raw;
  try {
    value = JSON.parse(raw);
  } catch {
    // plain text, e.g. topic=my-topic
  }
  return { ...previous, [pair.slice(0, at)]: value };
}

function durationOption(value: string): number {
  const ms = parseDuration(value);
  if (ms === undefined) throw new InvalidArgumentError('expected a duration such as 30s or 5m');
  return ms;
}

/** The schedule's params with the overrides on top, checked by the job's own schema. */
function paramsFor(schedule: Schedule, overrides: Overrides): Record<string, unknown> {
  try {
    return resolveJob(schedule.job, { ...schedule.params, ...overrides }).params;
  } catch (error) {
    if (error instanceof JobParamsError)
      throw new Error(`--param does not fit job ${error.job}: ${error.details}`);
    throw error;
  }
}

export function registerTrigger(program: Command): void {
  program
    .command('trigger')
    .description("run a schedule's job now, with overridden params (like `airflow dags trigger --conf`)")
    .argument('<schedule>', 'schedule name from the schedules file')
    .option(
      '-p, --param <key=value>',
      'override one param (repeatable); values are JSON or text',
      collectParam,
    )
    .option('-w, --wait', 'wait for the run to finish and print its result (exit 1 if it fails)')
    .option('--wait-timeout <duration>', 'give up waiting after this long', durationOption, 600_000)
    .action(
      action(
        async (
          { config },
          name: string,
          options: { param?: Overrides; wait?: boolean; waitTimeout: number },
        ) => {
          const file = await loadSchedulesFile(config.schedulesFile);
          const schedule = file.schedules.find((s) => s.name === name);
          if (!schedule) {
            const known = file.schedules.map((s) => s.name).join(', ') || 'none';
            throw new Error(`no schedule named "${name}" in ${file.file}; known schedules: ${known}`);
          }
          const params = paramsFor(schedule, options.param ?? {});
          const { template } = schedulerSpecOf(schedule);
          return withScheduleStore(config, async ({ queues }) => {
            const queue = queues.get(schedule.name);
            // Listen before adding, so a run that finishes at once is not missed.
            const events = options.wait
              ? new QueueEvents(schedule.name, {
                  connection: { url: config.redisUrl },
                  prefix: config.queuePrefix,
                })
              : undefined;
            try {
              await events?.waitUntilReady();
              const job = await queue.add(template.name, params, {
                ...template.opts,
                jobId: `manual-${randomUUID()}`,
              });
              console.log(
                `triggered ${schedule.name} (${schedule.job}) as run ${job.id} with ${JSON.stringify(params)}`,
              );
              if (await queue.isPaused())
                console.log(`note: ${schedule.name} is paused; the run waits until it is resumed`);
              if (!events) return 0;
              try {
                console.log(
                  JSON.stringify(await job.waitUntilFinished(events, options.waitTimeout), null, 2),
                );
                return 0;
              } catch (error) {
                process.stderr.write(`error: run ${job.id} failed: ${(error as Error).message}\n`);
                return 1;
              }
            } finally {
              await events?.close();
            }
          });
        },
      ),
    );
}
