import { appliedSpec, recordAudit, recordSpecVersion, setAppliedSpec, storedSpec } from '../db/audit-log';
import type { LockedState } from '../db/schedule-states';
import { describeTrigger, type FileVersion, type Schedule } from '../schedules/schedule';
import { describeChanges, diffSpecs, specVersionOf, specView } from '../schedules/spec-diff';

/** Who an applied schedules.yaml edit (and a switch flipped by its `enabled:`) is attributed to. */
export const FILE_AUTHOR = 'schedules.yaml';

/**
 * Records an applied schedules.yaml edit of one schedule in the audit log, with its field-level
 * diff, under the schedule's row lock (in the reconcile pass's transaction: the record commits with
 * what was applied). Once per edit however many schedulers apply it: the first one, under the lock,
 * sets schedule_state.spec_version, and the others find it set; a scheduler that has not read the
 * newer file yet (an older modification time than the applied one's) records nothing, so it never
 * records the edit undone; the entry's key (the file's hash and time) makes a second record a no-op.
 * The spec itself is kept by version (spec_versions), linked to the entry, for the runs it makes.
 */
export async function recordSpecEdit(
  schedule: Schedule,
  state: LockedState,
  file: FileVersion | undefined,
): Promise<void> {
  const { db } = state;
  const version = specVersionOf(schedule);
  const applied = await appliedSpec(db, schedule.name);
  if (applied?.version === version) return;
  if (file && applied?.fileAt && file.modifiedAt < applied.fileAt) return;
  const view = specView(schedule);
  const previous = applied?.version ? await storedSpec(db, schedule.name, applied.version) : undefined;
  const added = !state.row || state.row.removedAt !== null;
  const changes = previous ? diffSpecs(previous, view) : [];
  const action = added ? 'schedule-created' : 'schedule-changed';
  const what = previous
    ? describeChanges(changes)
    : added
      ? `added: ${schedule.job}, ${describeTrigger(schedule.trigger)}`
      : 'version recorded (no earlier version to compare: applied before the audit log)';
  const auditId = await recordAudit(db, {
    by: FILE_AUTHOR,
    action,
    schedule: schedule.name,
    what,
    detail: {
      version,
      from: applied?.version ?? null,
      changes,
      ...(previous ? {} : { spec: view }),
      ...(file ? { file: file.hash } : {}),
    },
    key: editKey(schedule.name, version, file),
  });
  await recordSpecVersion(db, { schedule: schedule.name, version, spec: view, auditId });
  await setAppliedSpec(db, schedule.name, { version, fileAt: file?.modifiedAt ?? null });
}

/** Records that a schedule left the file (under its row lock, as it is removed). */
export async function recordSpecRemoval(
  name: string,
  state: LockedState,
  file: FileVersion | undefined,
): Promise<void> {
  const { db } = state;
  const applied = await appliedSpec(db, name);
  if (file && applied?.fileAt && file.modifiedAt < applied.fileAt) return;
  await recordAudit(db, {
    by: FILE_AUTHOR,
    action: 'schedule-removed',
    schedule: name,
    what: 'removed from schedules.yaml',
    detail: { from: applied?.version ?? null, ...(file ? { file: file.hash } : {}) },
    key: editKey(name, 'removed', file),
  });
  await setAppliedSpec(db, name, { version: null, fileAt: file?.modifiedAt ?? null });
}

/** One applied edit of one schedule: the version it set, in which version of the file. */
const editKey = (schedule: string, version: string, file: FileVersion | undefined) =>
  file ? `spec:${schedule}:${version}:${file.hash}:${file.modifiedAt.getTime()}` : undefined;
