/**
 * What a schedule's `enabled:` in the file asks of its queue. The file only speaks when the schedule
 * is new to Redis (nothing remembered) or when its `enabled:` value changed since the last
 * reconcile; otherwise a pause or resume a person made in the UI or CLI stands.
 */
export function fileToggle(
  fileEnabled: boolean,
  remembered: boolean | undefined,
): 'pause' | 'resume' | undefined {
  if (remembered === fileEnabled) return undefined;
  return fileEnabled ? 'resume' : 'pause';
}
