import path from 'node:path';
import express from 'express';
import type { Control } from '../control/control';
import type { Logger } from '../log/logger';
import { projectPath } from '../paths';
import { apiRouter } from './api';
import { API_PATH } from './api-inputs';
import { BOARD_PATH, type Board } from './board';

const STATIC_DIR = projectPath('src/web/static');

/**
 * What the scheduler serves behind the credentials: the schedules grid and the operations page
 * (static pages that draw themselves from the API), the REST API and Bull Board.
 */
export function mountSchedulerUi(control: Control, board: Board, log: Logger) {
  return (app: express.Express) => {
    app.get('/', (_req, res) => res.redirect('/schedules'));
    app.get('/schedules', (_req, res) => res.sendFile(path.join(STATIC_DIR, 'grid.html')));
    app.get('/ops', (_req, res) => res.sendFile(path.join(STATIC_DIR, 'ops.html')));
    app.use('/static', express.static(STATIC_DIR, { index: false, maxAge: '1m' }));
    app.use(API_PATH, apiRouter(control, log));
    app.use(BOARD_PATH, board.router);
  };
}
