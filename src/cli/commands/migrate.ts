import type { Command } from 'commander';
import { action } from '../action';

export function registerMigrate(program: Command): void {
  program
    .command('migrate')
    .description('apply pending SQL migrations from migrations/ (creates the database if needed)')
    .action(
      action(async ({ config, log }) => {
        const { migrate } = await import('../../db/migrate');
        const result = await migrate(config, log);
        console.log(
          result.applied.length
            ? `applied ${result.applied.length} migration(s): ${result.applied.join(', ')}`
            : `up to date (${result.alreadyApplied.length} migration(s) already applied)`,
        );
        return 0;
      }),
    );
}
