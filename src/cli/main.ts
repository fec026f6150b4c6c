import { Command } from 'commander';
import { registerList } from './commands/list';
import { registerMigrate } from './commands/migrate';
import { registerPause } from './commands/pause';
import { registerResume } from './commands/resume';
import { registerScheduler } from './commands/scheduler';
import { registerServices } from './commands/services';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';

const program = new Command('tickflow')
  .description('Scheduled job runner for short, frequent Kafka jobs')
  .showHelpAfterError();

registerScheduler(program);
registerWorker(program);
registerList(program);
registerPause(program);
registerResume(program);
registerValidate(program);
registerServices(program);
registerMigrate(program);

await program.parseAsync(process.argv);
