import fs from 'node:fs';
import path from 'node:path';
import openapiTS, { astToString, type OpenAPI3 } from 'openapi-typescript';
import ts from 'typescript';
import { afterEach, describe, expect, it } from 'vitest';
import { SchedulerTest } from '../scheduler/support';

const root = path.resolve(import.meta.dirname, '../..');

let s: SchedulerTest | undefined;
let dir: string | undefined;
afterEach(async () => {
  await s?.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A client as a user of the API writes one: openapi-fetch typed by the generated `paths`. */
const CLIENT = `import createClient from 'openapi-fetch';
import type { operations, paths } from './api';

/** A generated client's method names come from the document's operationIds. */
export type SchedulesAnswer = operations['listSchedules']['responses']['200']['content']['application/json'];

export async function scheduleSwitches(baseUrl: string): Promise<{ name: string; paused: boolean }[]> {
  const api = createClient<paths>({ baseUrl });
  const { data, error, response } = await api.GET('/schedules', { params: { query: { window: '5m' } } });
  if (!data) throw new Error(\`GET /schedules answered \${response.status}: \${JSON.stringify(error)}\`);
  const answer: SchedulesAnswer = data;
  return answer.schedules.map((schedule) => ({ name: schedule.name, paused: schedule.paused }));
}
`;

/** A client that reads a field the answer does not have: the type-check must refuse it. */
const MISTAKE = `import createClient from 'openapi-fetch';
import type { paths } from './api';

export const wrong = async (baseUrl: string) =>
  (await createClient<paths>({ baseUrl }).GET('/schedules')).data?.schedules.map((schedule) => schedule.nmae);
`;

/** tsc's errors for one file, with the project's compiler options (strict). */
function typeErrors(file: string): string[] {
  const { config } = ts.readConfigFile(path.join(root, 'tsconfig.json'), ts.sys.readFile);
  const { options } = ts.parseJsonConfigFileContent(config, ts.sys, root);
  const program = ts.createProgram([file], { ...options, noEmit: true });
  return ts
    .getPreEmitDiagnostics(program)
    .map((d) => `${d.file?.fileName ?? ''}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`);
}

describe('a client generated from /api/v1/openapi.json (real Redis and PostgreSQL)', () => {
  it('type-checks, and lists the schedules through the served API', async () => {
    const test = new SchedulerTest('openapi_client');
    s = test;
    test.writeSchedules(`schedules:
  nap:
    job: sleep
    cron: "0 0 * * *"
    params: { ms: 5 }
  beat:
    job: sleep
    every: 1h
    enabled: false
`);
    const app = await test.start({ web: true, workers: false });
    const baseUrl = `${app.web?.url}/api/v1`;

    // Inside the project, so the client's imports resolve from its node_modules.
    fs.mkdirSync(path.join(root, 'test-artifacts'), { recursive: true });
    const folder = fs.mkdtempSync(path.join(root, 'test-artifacts', 'openapi-client-'));
    dir = folder;
    const document = (await (await fetch(`${baseUrl}/openapi.json`)).json()) as OpenAPI3;
    fs.writeFileSync(path.join(folder, 'api.d.ts'), astToString(await openapiTS(document, { silent: true })));
    const client = path.join(folder, 'client.ts');
    fs.writeFileSync(client, CLIENT);
    const mistake = path.join(folder, 'mistake.ts');
    fs.writeFileSync(mistake, MISTAKE);

    expect(typeErrors(client)).toEqual([]);
    expect(typeErrors(mistake).join('\n')).toMatch(/mistake\.ts: Property 'nmae' does not exist/);

    const { scheduleSwitches } = (await import(client)) as {
      scheduleSwitches(baseUrl: string): Promise<{ name: string; paused: boolean }[]>;
    };
    expect(await scheduleSwitches(baseUrl)).toEqual([
      { name: 'nap', paused: false },
      { name: 'beat', paused: true },
    ]);
  });
});
