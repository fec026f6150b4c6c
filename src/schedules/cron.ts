import { CronExpressionParser } from 'cron-parser';

export const CRON_HINT =
  '5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first, e.g. "*/10 * * * * *"';

export function isTimeZone(name: string): boolean {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}

/**
 * Why a cron expression cannot be scheduled, or undefined when it can. Uses cron-parser, the parser
 * BullMQ's job schedulers compute fire times with, so the file and the runtime always agree; asking
 * for the next fire time catches expressions that parse but never fire (30 February).
 */
export function cronProblem(expression: string, timezone: string): string | undefined {
  const fields = expression.trim().split(/\s+/);
  if (!expression.trim().startsWith('@') && fields.length !== 5 && fields.length !== 6) {
    return `cron "${expression}" has ${fields.length} field(s); expected ${CRON_HINT}`;
  }
  try {
    cronFrom({ cron: expression, timezone }, new Date()).next();
    return undefined;
  } catch (error) {
    return `cron "${expression}" is invalid or never fires (${(error as Error).message}); expected ${CRON_HINT}`;
  }
}

/**
 * A cron's fire times, read in its time zone, stepping from `currentDate` (next() and prev() are
 * strictly after and before it). BullMQ computes the same fire times with the same parser.
 */
export function cronFrom(trigger: { cron: string; timezone: string }, currentDate: Date) {
  return CronExpressionParser.parse(trigger.cron, { currentDate, tz: trigger.timezone });
}
