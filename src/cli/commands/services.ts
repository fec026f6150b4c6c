import { Argument, type Command } from 'commander';
import type { ServiceName } from '../../services/local-service';
import type { ServiceStatus } from '../../services/services';
import { action } from '../action';

const names: ServiceName[] = ['redis', 'postgres', 'kafka'];

function printTable(statuses: ServiceStatus[]): void {
  for (const s of statuses) {
    const state = s.ready ? 'ready' : 'down';
    const owner =
      s.owner === 'started' ? `started by tickflow (pid ${s.pid})` : s.owner === 'external' ? 'external' : '';
    console.log(`${s.name.padEnd(9)} ${s.address.padEnd(16)} ${state.padEnd(6)} ${owner}`);
  }
}

export function registerServices(program: Command): void {
  program
    .command('services')
    .description('start, stop or show the local Kafka, Redis and PostgreSQL')
    .addArgument(new Argument('<action>', 'what to do').choices(['up', 'down', 'status']))
    .addArgument(new Argument('[service...]', 'only these services').choices(names))
    .action(
      action(async ({ config, log }, verb: 'up' | 'down' | 'status', only: ServiceName[]) => {
        const { servicesDown, servicesStatus, servicesUp } = await import('../../services/services');
        const selected = only.length ? only : undefined;
        if (verb === 'up') printTable(await servicesUp(config, log, selected));
        if (verb === 'down') {
          const stopped = await servicesDown(config, log, selected);
          console.log(
            stopped.length
              ? `stopped: ${stopped.join(', ')}`
              : 'nothing to stop (tickflow started no service)',
          );
        }
        if (verb === 'status') {
          const statuses = await servicesStatus(config, selected);
          printTable(statuses);
          return statuses.every((s) => s.ready) ? 0 : 1;
        }
        return 0;
      }),
    );
}
