import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from './cli';
import { SchedulerTest } from './scheduler/support';

/** A port nothing listens on: every service there is unreachable. */
const CLOSED = '127.0.0.1:1';
const noRedis = { REDIS_URL: `redis://${CLOSED}` };
const noPostgres = { DATABASE_URL: `postgres://postgres@${CLOSED}/tickflow` };
const noKafka = { KAFKA_BROKERS: CLOSED };
/** A users file that does not exist yet: it holds no user. */
const noUsers = { WEB_USERS_FILE: '/nonexistent/tickflow-users.json' };
const NO_USER =
  /no user "ghost" in \/nonexistent\/tickflow-users\.json: add it first \(`tickflow users add ghost --role viewer`\)$/;

const KNOWN = /no schedule named "nope"; known schedules: nap$/;
const HELP = (command: string) => new RegExp(`\\(see \`tickflow ${command}--help\`\\)$`);
const REACH = (service: string, variable: string) =>
  new RegExp(
    `cannot reach ${service} at 127\\.0\\.0\\.1:1 \\(${variable}\\): .*Start it .*or fix ${variable}$`,
  );

let s: SchedulerTest;
beforeAll(async () => {
  s = new SchedulerTest('exits');
  s.writeSchedules('schedules:\n  nap:\n    job: sleep\n    every: 1h\n');
  // Set the schedule up once (a pause needs that), then leave nothing running.
  await s.stop(await s.start({ workers: false }));
});
afterAll(() => s.cleanup());

/**
 * Every command, on an unknown schedule or run, a bad argument or an unreachable service: a
 * non-zero exit and one line on stderr that says what was wrong and what to do.
 */
describe('CLI exit codes (real services; one line per failure)', () => {
  it.concurrent.each([
    // unknown schedule or run
    [['trigger', 'nope'], {}, KNOWN],
    [['pause', 'nope'], {}, KNOWN],
    [['resume', 'nope'], {}, KNOWN],
    [['runs', 'nope'], {}, KNOWN],
    [['backfill', 'cancel', 'nope', 'deadbeef'], {}, KNOWN],
    [
      ['backfill', 'cancel', 'nap', 'deadbeef'],
      {},
      /no backfill "deadbeef" of nap: no run of it has that id/,
    ],
    [['runs', 'nap', 'nope'], {}, /schedule "nap" has no run "nope" \(see `tickflow runs nap`\)$/],
    // bad arguments
    [['trigger', 'nap', '--param', 'ms=-1'], {}, /params do not fit job sleep: ms: /],
    [['trigger', 'nap', '--param', 'nonsense'], {}, /expected key=value, e\.g\. count=500/],
    [['runs', 'nap', '--limit', 'zero'], {}, /expected a whole number ≥ 1/],
    [['services', 'up', '--kafka-nodes', '0'], {}, /expected a whole number of nodes from 1 to 9, e\.g\. 3/],
    [
      ['runs', 'nap', '--state', 'done'],
      {},
      /expected states from waiting, queued, active, retrying, completed, failed, cancelled \(got done\)/,
    ],
    [['list', '--bogus'], {}, HELP('list ')],
    [['pause'], {}, /missing required argument 'schedule'/],
    [
      [
        'backfill',
        'nap',
        '--from',
        '2024-03-01T00:00:00Z',
        '--to',
        '2024-03-02T00:00:00Z',
        '--reprocess',
        'some',
      ],
      {},
      /option '--reprocess <which>' argument 'some' is invalid\. Allowed choices are failed, missing, all\. \(see `tickflow backfill --help`\)$/,
    ],
    [['backfill', 'nap', '--to', '2024-03-02T00:00:00Z'], {}, /--from <time> is required/],
    [['backfill', 'cancel', 'nap'], {}, /missing required argument 'id'/],
    [['resume', 'nap', '--colour', 'red'], {}, HELP('resume ')],
    [['lag', '--topic'], {}, /argument missing/],
    [['lag', '--topic', 'no-such-topic'], {}, /topic no-such-topic does not exist; pass --topic/],
    [['validate', 'a.yaml', 'b.yaml'], {}, /too many arguments/],
    [['validate', '/nonexistent.yaml'], {}, /nonexistent\.yaml:1:1: cannot read the file/],
    [['services', 'up', 'nosuch'], {}, /Allowed choices are redis, postgres, kafka/],
    [['migrate', '--bogus'], {}, HELP('migrate ')],
    [['eval', '--count', 'zero'], {}, /--count: /],
    [['worker', '--bogus'], {}, HELP('worker ')],
    [['scheduler', '--bogus'], {}, HELP('scheduler ')],
    [['schedulr'], {}, /unknown command 'schedulr'/],
    [
      ['users', 'add', 'x', '--role', 'root'],
      {},
      /argument 'root' is invalid\. expected one of viewer, operator, admin/,
    ],
    [['users', 'add', 'x'], {}, /required option '-r, --role <role>' not specified/],
    [['users', 'token', 'x'], {}, /WEB_USERS_FILE is not set: set it to the file that holds the users/],
    [['users', 'token', 'ghost'], noUsers, NO_USER],
    [['users', 'remove', 'ghost'], noUsers, NO_USER],
    // unreachable services
    [['list'], noRedis, REACH('Redis', 'REDIS_URL')],
    [['pause', 'nap'], noRedis, REACH('Redis', 'REDIS_URL')],
    [['trigger', 'nap'], noRedis, REACH('Redis', 'REDIS_URL')],
    [['worker'], noRedis, REACH('Redis', 'REDIS_URL')],
    [['runs', 'nap'], noPostgres, REACH('PostgreSQL', 'DATABASE_URL')],
    [['migrate'], noPostgres, REACH('PostgreSQL', 'DATABASE_URL')],
    [['eval', '--stored'], noPostgres, REACH('PostgreSQL', 'DATABASE_URL')],
    [['lag'], noKafka, REACH('Kafka', 'KAFKA_BROKERS')],
  ] as const)('%j %j', async (args, env, message) => {
    const result = await runCli([...args], { ...s.env, ...env });
    expect(result.code).toBe(1);
    const lines = result.stderr.trim().split('\n');
    expect(lines.at(-1)).toMatch(message);
    expect(lines.filter((line) => line.startsWith('error:') || /:\d+:\d+: /.test(line))).toHaveLength(1);
  });
});
