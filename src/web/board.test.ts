import { appRoutes } from '@bull-board/api/dist/routes.js';
import { describe, expect, it } from 'vitest';
import { BOARD_ROUTES } from './board';

/** Bull Board's API routes as its route table has them: `method path`, in its order. */
const bullBoardRoutes = appRoutes.api.flatMap((route) =>
  (Array.isArray(route.method) ? route.method : [route.method]).flatMap((method) =>
    (Array.isArray(route.route) ? route.route : [route.route]).map((path) => `${method} ${path}`),
  ),
);

describe("Bull Board's routes, each reviewed (pinned to @bull-board/api's route table)", () => {
  it('lists every route of the installed Bull Board, in its order, and no other', () => {
    // A new Bull Board version with a route not reviewed here fails this test: review the route, say
    // who may call it (or why it is refused) in BOARD_ROUTES. Until then tickflow refuses it (403).
    expect(BOARD_ROUTES.map((route) => `${route.method} ${route.path}`)).toEqual(bullBoardRoutes);
  });

  it('offers reads to viewers and every change to an operator or an admin, through tickflow where it owns the state', () => {
    for (const route of BOARD_ROUTES) {
      if ('refused' in route) {
        expect(route.refused.length, route.path).toBeGreaterThan(20);
        continue;
      }
      expect(route.role, `${route.method} ${route.path}`).toBe(
        route.method === 'get' ? 'viewer' : route.role,
      );
      if (route.method !== 'get') expect(['operator', 'admin'], route.path).toContain(route.role);
    }
    const through = Object.fromEntries(
      BOARD_ROUTES.flatMap((route) =>
        'through' in route && route.through ? [[route.path, route.through]] : [],
      ),
    );
    expect(through).toMatchObject({
      '/api/queues/pause': 'pauseAll',
      '/api/queues/:queueName/pause': 'pause',
      '/api/queues/:queueName/resume': 'resume',
      '/api/queues/:queueName/add': 'add',
      '/api/queues/:queueName/job-schedulers/:schedulerId/run': 'runNow',
    });
    const refused = BOARD_ROUTES.filter((route) => 'refused' in route).map((route) => route.path);
    expect(refused).toEqual(
      expect.arrayContaining([
        '/api/queues/:queueName/empty',
        '/api/queues/:queueName/rate-limit',
        '/api/queues/:queueName/rate-limit/release',
        '/api/queues/:queueName/obliterate',
        '/api/queues/:queueName/:jobId/update-data',
        '/api/queues/:queueName/:jobId/priority',
      ]),
    );
  });
});
