import { pino } from 'pino';
import { describe, expect, it } from 'vitest';
import { createRunLogger, formatRunLogLine } from './run-log';

describe('run logger', () => {
  it('writes each line to the job log and to the process log', async () => {
    const processLines: Record<string, unknown>[] = [];
    const processLog = pino(
      { level: 'warn', base: { schedule: 'tick' } },
      {
        write: (line: string) => processLines.push(JSON.parse(line)),
      },
    );
    const jobLines: string[] = [];
    const { log, flush } = createRunLogger(processLog, async (line) => jobLines.push(line));
    log.info({ sent: 50 }, 'sent the batch');
    log.child({ step: 'commit' }).warn('slow commit');
    await flush();
    // The job log keeps info even though the process log is at warn.
    expect(jobLines).toEqual([
      expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d:.]+Z INFO sent the batch {"sent":50}$/),
      expect.stringMatching(/ WARN slow commit {"step":"commit"}$/),
    ]);
    expect(processLines).toEqual([
      expect.objectContaining({ schedule: 'tick', step: 'commit', msg: 'slow commit' }),
    ]);
  });

  it('formats a line without fields', () => {
    expect(formatRunLogLine({ level: 50, time: 0, msg: 'failed' })).toBe(
      '1970-01-01T00:00:00.000Z ERROR failed',
    );
  });
});
