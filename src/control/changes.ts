import { type AuditEntry, recordAudit } from '../db/audit-log';
import type { Queryable } from '../db/pool';
import { isUnreachable } from '../health/unreachable';

/**
 * Records a change made through the control plane. The change is made already (a run queued):
 * PostgreSQL being away loses its record rather than make the caller do it twice.
 */
export async function recordChange(db: Queryable, entry: AuditEntry): Promise<void> {
  await recordAudit(db, entry).catch((error: unknown) => {
    if (!isUnreachable(error)) throw error;
  });
}
