import { auditEntries, specSetBy } from '../db/audit-log';
import type { Queryable } from '../db/pool';
import { parseDuration } from '../schedules/duration';
import type { AuditEntryView, AuditPage, RunSpecView } from './audit-views';
import type { Control } from './control';
import { InvalidInputError } from './errors';
import { requireSchedule } from './schedules';
import type { RunSummary } from './views';

export interface AuditQuery {
  /** One schedule's entries (one removed from the file too). */
  schedule?: string;
  since?: Date;
  limit: number;
  /** The `next` of the previous page. */
  before?: string;
}

/** A page of the audit log, newest first: `GET /audit`, `tickflow audit` and the grid's panel. */
export async function listAudit(control: Control, query: AuditQuery): Promise<AuditPage> {
  if (query.schedule !== undefined) await requireSchedule(control, query.schedule, { removedToo: true });
  const before = query.before === undefined ? undefined : decodeCursor(query.before);
  const rows = await auditEntries(control.db, {
    limit: query.limit + 1,
    ...(query.schedule === undefined ? {} : { schedule: query.schedule }),
    ...(query.since ? { since: query.since } : {}),
    ...(before ? { before } : {}),
  });
  const entries: AuditEntryView[] = rows
    .slice(0, query.limit)
    .map((row) => ({ ...row, at: row.at.toISOString() }));
  const last = rows.length > query.limit ? rows[query.limit - 1] : undefined;
  return { entries, next: last ? encodeCursor(last.at, last.id) : null };
}

/** The spec version a run ran with and the schedules.yaml edit that set it; null when not recorded. */
export async function runSpecOf(db: Queryable, run: RunSummary): Promise<RunSpecView | null> {
  if (!run.specVersion) return null;
  const at = new Date(run.startedAt ?? run.dueAt);
  const set = await specSetBy(db, run.schedule, run.specVersion, at);
  return { ...set, at: set.at?.toISOString() ?? null };
}

const encodeCursor = (at: Date, id: number) =>
  Buffer.from(JSON.stringify([at.toISOString(), id])).toString('base64url');

function decodeCursor(cursor: string): { at: Date; id: number } {
  try {
    const [at, id] = JSON.parse(Buffer.from(cursor, 'base64url').toString()) as [string, number];
    const date = new Date(at);
    if (!Number.isInteger(id) || Number.isNaN(date.getTime())) throw new Error('bad cursor');
    return { at: date, id };
  } catch {
    throw new InvalidInputError('bad page cursor', [
      { field: 'before', message: 'expected the `next` value of a previous page' },
    ]);
  }
}

export const SINCE_HINT =
  'expected a time with its zone (e.g. 2024-03-01T10:00:00Z) or how far back (e.g. 30m, 24h, 7d)';

/** `--since` and `?since=`: an ISO 8601 time with a zone, or a duration back from `now`; undefined when neither. */
export function sinceOf(text: string, now = new Date()): Date | undefined {
  const back = parseDuration(text);
  if (back !== undefined) return new Date(now.getTime() - back);
  if (!/^\d{4}-\d{2}-\d{2}T[\d:.]+(Z|[+-]\d{2}:?\d{2})$/i.test(text.trim())) return undefined;
  const at = new Date(text.trim());
  return Number.isNaN(at.getTime()) ? undefined : at;
}
