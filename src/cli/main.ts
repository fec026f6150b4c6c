import { Command } from 'commander';
import { registerAudit } from './commands/audit';
import { registerBackfill } from './commands/backfill';
import { registerCancel } from './commands/cancel';
import { registerEval } from './commands/eval';
import { registerLag } from './commands/lag';
import { registerList } from './commands/list';
import { registerMark } from './commands/mark';
import { registerMigrate } from './commands/migrate';
import { registerNote } from './commands/note';
import { registerPause } from './commands/pause';
import { registerRerun } from './commands/rerun';
import { registerResume } from './commands/resume';
import { registerRuns } from './commands/runs';
import { registerScheduler } from './commands/scheduler';
import { registerServices } from './commands/services';
import { registerTrigger } from './commands/trigger';
import { registerUsers } from './commands/users';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';

const program = new Command('tickflow')
  .description('Scheduled job runner for short, frequent Kafka jobs')
  // One line per mistake, saying where help is (subcommands inherit this).
  .configureOutput({
    outputError: (text, write) =>
      write(`${text.trim().replace(/\s*\n\s*/g, ' ')} (see \`tickflow ${commandOf(process.argv)}--help\`)\n`),
  });

/** The sub-command named on the command line, for the help hint: `pause ` or nothing. */
function commandOf(argv: string[]): string {
  const name = argv.slice(2).find((arg) => !arg.startsWith('-'));
  return name && program.commands.some((command) => command.name() === name) ? `${name} ` : '';
}

registerScheduler(program);
registerWorker(program);
registerTrigger(program);
registerBackfill(program);
registerList(program);
registerPause(program);
registerResume(program);
registerRuns(program);
registerAudit(program);
registerCancel(program);
registerRerun(program);
registerMark(program);
registerNote(program);
registerLag(program);
registerValidate(program);
registerServices(program);
registerMigrate(program);
registerEval(program);
registerUsers(program);

await program.parseAsync(process.argv);
