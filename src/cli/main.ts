import { Command } from 'commander';
import { registerMigrate } from './commands/migrate';
import { registerServices } from './commands/services';

const program = new Command('tickflow')
  .description('Scheduled job runner for short, frequent Kafka jobs')
  .showHelpAfterError();

registerServices(program);
registerMigrate(program);

await program.parseAsync(process.argv);
