import type { QueueEvents } from 'bullmq';
import { type Command, InvalidArgumentError } from 'commander';
import { redisConnectionOptions } from '../../config/redis-connection';
import type { Control } from '../../control/control';
import { parseDuration } from '../../schedules/duration';
import { action } from '../action';
import { cliUser } from '../toggle-command';

type Overrides = Record<string, unknown>;

/** `--param count=500`: the value is read as JSON when it is JSON (numbers, booleans, objects), else as text. */
function collectParam(pair: string, previous: Overrides = {}): Overrides {
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

/**
 * The run's result once it finishes; a run already finished and trimmed from Redis (`keep: 0`) is
 * read from the durable history instead. Throws with the run's error if it failed.
 */
async function outcomeOf(
  control: Control,
  name: string,
  runId: string,
  events: QueueEvents,
  timeoutMs: number,
) {
  const job = await control.queues.get(name).getJob(runId);
  if (job) return job.waitUntilFinished(events, timeoutMs);
  const { getRun } = await import('../../control/runs');
  const run = await getRun(control, name, runId);
  if (run.state === 'failed') throw new Error(run.error ?? 'failed');
  return run.result;
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
          const [{ QueueEvents }, { withControl }, { triggerRun }, { defaultJobs }] = await Promise.all([
            import('bullmq'),
            import('../../control/control'),
            import('../../control/trigger'),
            import('../../app/jobs'),
          ]);
          return withControl(config, defaultJobs, async (control) => {
            // Listen before adding, so a run that finishes at once is not missed.
            const events = options.wait
              ? new QueueEvents(name, {
                  connection: redisConnectionOptions(config),
                  prefix: config.queuePrefix,
                })
              : undefined;
            try {
              await events?.waitUntilReady();
              const run = await triggerRun(control, name, { params: options.param ?? {}, by: cliUser() });
              console.log(`triggered ${name} as run ${run.runId} with ${JSON.stringify(run.params)}`);
              if (run.waitsForResume)
                console.log(`note: ${name} is paused; the run waits until it is resumed`);
              if (!events) return 0;
              try {
                const result = await outcomeOf(control, name, run.runId, events, options.waitTimeout);
                console.log(JSON.stringify(result, null, 2));
                return 0;
              } catch (error) {
                process.stderr.write(`error: run ${run.runId} failed: ${(error as Error).message}\n`);
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
