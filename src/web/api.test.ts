import { describe, expect, it } from 'vitest';
import type { Control } from '../control/control';
import { createLogger } from '../log/logger';
import { apiRouter } from './api';

interface Layer {
  route?: { path: string; methods: Record<string, boolean>; stack: { handle: { neededRole?: string } }[] };
}

describe('the REST API: every write checks the role', () => {
  it('each route that changes state needs the operator role before anything else runs', () => {
    const router = apiRouter({} as Control, createLogger('silent'));
    const routes = (router.stack as Layer[]).flatMap((layer) => (layer.route ? [layer.route] : []));
    const writes = routes.filter((route) => Object.keys(route.methods).some((method) => method !== 'get'));
    expect(writes.map((route) => route.path)).toEqual(
      expect.arrayContaining([
        '/schedules/:name/pause',
        '/schedules/:name/resume',
        '/schedules/:name/runs',
        '/schedules/:name/backfill',
        '/schedules/:name/backfills/:id',
      ]),
    );
    for (const route of writes) expect(route.stack[0]?.handle.neededRole, route.path).toBe('operator');
    for (const route of routes.filter((r) => !writes.includes(r)))
      expect(route.stack[0]?.handle.neededRole, route.path).toBeUndefined();
  });
});
