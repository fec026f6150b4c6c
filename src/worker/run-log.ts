import { type Logger, pino } from 'pino';

export interface RunLogger {
  log: Logger;
  /** Resolves once every line reached the job log, so that it precedes the run's end in Bull Board. */
  flush(): Promise<void>;
  /** The lines logged so far (the last MAX_KEPT_LINES), for the durable copy in job_runs. */
  lines(): string[];
  /** A line for the run's own log only (its start and end), not the process log. */
  note(text: string): void;
}

/** A run's lines kept for job_runs: enough to read what happened, bounded for a chatty job. */
export const MAX_KEPT_LINES = 500;

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
  const kept: string[] = [];
  const keepAndWrite = (line: string) => {
    kept.push(line);
    // Trimmed in halves, not per line: a chatty job must not pay a shift of 500 lines per line.
    if (kept.length >= 2 * MAX_KEPT_LINES) kept.splice(0, kept.length - MAX_KEPT_LINES);
    const written = writeLine(line).catch(() => undefined);
    pending.add(written);
    void written.finally(() => pending.delete(written));
  };
  const destination = {
    write(json: string) {
      const entry = JSON.parse(json) as LogEntry;
      forward(processLog, entry);
      keepAndWrite(formatRunLogLine(entry));
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
    lines: () => kept.slice(-MAX_KEPT_LINES),
    note: keepAndWrite,
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
