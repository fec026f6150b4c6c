import { type Logger, pino } from 'pino';

export interface RunLogger {
  log: Logger;
  /** Resolves once every line reached the job log, so that it precedes the run's end in Bull Board. */
  flush(): Promise<void>;
}

interface LogEntry {
  level: number;
  time: number;
  msg?: string;
  [field: string]: unknown;
}

/**
 * The logger a run sees: each line goes to the process log (with the run's bindings) and, as
 * one readable line, to the run's log in BullMQ, which Bull Board shows next to the run.
 */
export function createRunLogger(
  processLog: Logger,
  writeLine: (line: string) => Promise<unknown>,
): RunLogger {
  const pending = new Set<Promise<unknown>>();
  const destination = {
    write(json: string) {
      const entry = JSON.parse(json) as LogEntry;
      forward(processLog, entry);
      const written = writeLine(formatRunLogLine(entry)).catch(() => undefined);
      pending.add(written);
      void written.finally(() => pending.delete(written));
    },
  };
  // The job log keeps info lines even when the process log is quieter; forwarding still filters.
  const verbose = (pino.levels.values[processLog.level] ?? 0) < (pino.levels.values.info ?? 30);
  const log = pino({ level: verbose ? processLog.level : 'info', base: undefined }, destination);
  return {
    log,
    async flush() {
      await Promise.all(pending);
    },
  };
}

function forward(processLog: Logger, entry: LogEntry): void {
  const { level, time: _time, msg, ...fields } = entry;
  const label = pino.levels.labels[level] as pino.Level | undefined;
  if (label) processLog[label](fields, msg);
}

/** `2026-01-01T12:00:00.000Z INFO sent 50 messages {"topic":"tx"}` */
export function formatRunLogLine(entry: LogEntry): string {
  const { level, time, msg, ...fields } = entry;
  const label = (pino.levels.labels[level] ?? String(level)).toUpperCase();
  const extra = Object.keys(fields).length ? ` ${JSON.stringify(fields)}` : '';
  return `${new Date(time).toISOString()} ${label} ${msg ?? ''}${extra}`;
}
