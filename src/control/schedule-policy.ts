import type { z } from 'zod';
import { formatDuration } from '../schedules/duration';
import { notifyUrlOf, type Schedule } from '../schedules/schedule';
import { specVersionOf } from '../schedules/spec-diff';
import type { schedulePolicyFields } from './audit-views';

type PolicyFields = { [K in keyof typeof schedulePolicyFields]: z.infer<(typeof schedulePolicyFields)[K]> };

/** What a schedule's view tells of its failure policy and its spec's version (null when not in the file). */
export function schedulePolicyOf(definition: Schedule | undefined): PolicyFields {
  const notify = definition?.notify;
  return {
    notify: notify
      ? {
          after: notify.after,
          onFailure: notifyUrlOf(notify, 'run_failed') ?? null,
          onRecovery: notifyUrlOf(notify, 'run_recovered') ?? null,
          onDeadline: notifyUrlOf(notify, 'run_deadline_missed') ?? null,
          onPause: notifyUrlOf(notify, 'schedule_paused') ?? null,
        }
      : null,
    pauseAfter: definition?.pauseAfter ?? null,
    deadline: definition?.deadline === undefined ? null : formatDuration(definition.deadline),
    specVersion: definition ? specVersionOf(definition) : null,
  };
}
