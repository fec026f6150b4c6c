import { type Command, InvalidArgumentError } from 'commander';
import type { AuditEntryView } from '../../control/audit-views';
import { action } from '../action';

function positiveInt(value: string): number {
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < 1 || parsed > 500)
    throw new InvalidArgumentError('expected a whole number from 1 to 500');
  return parsed;
}

/** `2024-03-01T10:00:00.000Z  schedules.yaml  schedule-changed  fraud  params.threshold 0.5 → 0.6` */
function line(entry: AuditEntryView): string {
  const what = entry.runId ? `${entry.schedule}/${entry.runId}` : (entry.schedule ?? '-');
  return [entry.at, entry.by.padEnd(18), entry.action.padEnd(17), what.padEnd(16), entry.what]
    .join('  ')
    .trimEnd();
}

export function registerAudit(program: Command): void {
  program
    .command('audit')
    .description(
      'the audit log, newest first: who changed what and when (pauses, triggers, backfills, run actions, Bull Board actions, schedules.yaml edits with their diff)',
    )
    .argument('[schedule]', "only this schedule's entries")
    .option('--since <when>', 'entries from this time on: ISO 8601 with a zone, or how far back (e.g. 24h)')
    .option('-n, --limit <count>', 'how many entries to show (at most 500)', positiveInt, 50)
    .option('--json', 'print JSON lines (as the API returns each entry)')
    .action(
      action(
        async (
          { config },
          schedule: string | undefined,
          options: { since?: string; limit: number; json?: boolean },
        ) => {
          const [{ withControl }, { listAudit, sinceOf, SINCE_HINT }, { defaultJobs }] = await Promise.all([
            import('../../control/control'),
            import('../../control/audit'),
            import('../../app/jobs'),
          ]);
          const since = options.since === undefined ? undefined : sinceOf(options.since);
          if (options.since !== undefined && since === undefined)
            throw new Error(`--since "${options.since}": ${SINCE_HINT}`);
          const page = await withControl(config, defaultJobs, (control) =>
            listAudit(control, {
              limit: options.limit,
              ...(schedule ? { schedule } : {}),
              ...(since ? { since } : {}),
            }),
          );
          if (page.entries.length === 0)
            console.log(`no changes recorded${schedule ? ` for '${schedule}'` : ''}`);
          for (const entry of page.entries) console.log(options.json ? JSON.stringify(entry) : line(entry));
          return 0;
        },
      ),
    );
}
