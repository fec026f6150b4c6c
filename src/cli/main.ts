import { Command } from 'commander';
import { registerEval } from './commands/eval';
import { registerLag } from './commands/lag';
import { registerList } from './commands/list';
import { registerMigrate } from './commands/migrate';
import { registerPause } from './commands/pause';
import { registerResume } from './commands/resume';
import { registerRuns } from './commands/runs';
import { registerScheduler } from './commands/scheduler';
import { registerServices } from './commands/services';
import { registerTrigger } from './commands/trigger';
import { registerValidate } from './commands/validate';
import { registerWorker } from './commands/worker';

const program = new Command('tickflow')
  .description('Scheduled job runner for short, frequent Kafka jobs')
  .showHelpAfterError();

registerScheduler(program);
registerWorker(program);
registerTrigger(program);
registerList(program);
registerPause(program);
registerResume(program);
registerRuns(program);
registerLag(program);
registerValidate(program);
registerServices(program);
registerMigrate(program);
registerEval(program);

await program.parseAsync(process.argv);
