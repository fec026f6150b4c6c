import { loadConfig } from '../src/config/config';
import { createLogger } from '../src/log/logger';
import type { ServiceName } from '../src/services/local-service';
import { servicesDown, servicesUp } from '../src/services/services';

let startedHere: ServiceName[] = [];

export async function setup(): Promise<void> {
  const config = loadConfig();
  const log = createLogger(process.env.LOG_LEVEL ?? 'warn', 'test-services');
  const statuses = await servicesUp(config, log);
  startedHere = statuses.filter((s) => s.startedNow).map((s) => s.name);
}

/** A developer's already-running services are left running; only what this run started stops. */
export async function teardown(): Promise<void> {
  if (startedHere.length === 0) return;
  const config = loadConfig();
  await servicesDown(config, createLogger('warn', 'test-services'), startedHere);
}
