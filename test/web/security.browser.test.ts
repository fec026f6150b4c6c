import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import { runCli } from '../cli';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { launchChromium, screenshot } from './browser';

/** Screenshots, kept as test artifacts (git-ignored). */

const SCHEDULES = `schedules:
  nap:
    job: sleep
    description: runs only when triggered
    cron: "0 0 * * *"
    params: { ms: 5 }
  fixed:
    job: sleep
    cron: "0 0 * * *"
    overridable: []
`;

let browser: Browser;
let s: SchedulerTest;
let dir: string;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
afterEach(async () => {
  await s.cleanup();
  if (dir) fs.rmSync(dir, { recursive: true, force: true });
});

/** A page for a user (HTTP basic, as a browser saves it), recording console errors and failed requests. */
async function pageAs(app: SchedulerApp, pathname: string, user?: { name: string; password: string }) {
  const context = await browser.newContext({
    viewport: { width: 1400, height: 900 },
    ...(user ? { httpCredentials: { username: user.name, password: user.password } } : {}),
  });
  const page = await context.newPage();
  const consoleErrors: string[] = [];
  page.on('console', (message) => {
    if (message.type() === 'error') consoleErrors.push(message.text());
  });
  page.on('pageerror', (error) => consoleErrors.push(error.message));
  await page.goto(`${app.web?.url}${pathname}`);
  return { page, consoleErrors };
}

const shot = (page: Page, name: string) => screenshot(page, `security-${name}`);

describe('security headers in a real Chromium', () => {
  it('the pages work under the CSP, and another site cannot frame them', async () => {
    s = new SchedulerTest('csp');
    s.writeSchedules(SCHEDULES);
    const app = await s.start({ web: true });
    for (const pathname of ['/schedules', '/ops', '/ui']) {
      const { page, consoleErrors } = await pageAs(app, pathname);
      // Drawn by their scripts: the CSP let them run.
      if (pathname === '/schedules') await page.locator('tr.schedule-row[data-schedule="nap"]').waitFor();
      if (pathname === '/ui') await page.getByText('nap', { exact: true }).first().waitFor();
      if (pathname === '/ops')
        await page
          .locator('#live-text')
          .filter({ hasText: /live|disconnected/ })
          .waitFor();
      await page.waitForTimeout(300);
      expect(
        consoleErrors.filter((text) => /Content Security Policy|Refused to/.test(text)),
        pathname,
      ).toEqual([]);
      await page.context().close();
    }

    // A page of another origin (another port) that frames the grid: the browser refuses the frame.
    const framing = http.createServer((_req, res) => {
      res.setHeader('content-type', 'text/html');
      res.end(`<!doctype html><title>other</title><iframe id="f" src="${app.web?.url}/schedules"></iframe>`);
    });
    await new Promise<void>((resolve) => framing.listen(0, '127.0.0.1', resolve));
    try {
      const port = (framing.address() as { port: number }).port;
      const page = await browser.newPage();
      const messages: string[] = [];
      page.on('console', (message) => messages.push(message.text()));
      await page.goto(`http://127.0.0.1:${port}/`);
      await waitFor(
        async () => messages.some((text) => /frame-ancestors 'none'/.test(text)),
        'the refused frame',
      );
      const frame = page.frames().find((f) => f !== page.mainFrame());
      expect(await frame?.locator('tr.schedule-row').count()).toBe(0);
      await page.close();
    } finally {
      framing.close();
    }
  });
});

describe('the grid shows only what the role may do (real Chromium, users in WEB_USERS_FILE)', () => {
  it('a viewer sees switches it cannot move and no trigger; an operator toggles and triggers the overridable params', async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tickflow-users-'));
    s = new SchedulerTest('gridroles', { WEB_USERS_FILE: path.join(dir, 'users.json') });
    for (const [name, role] of [
      ['vera', 'viewer'],
      ['olive', 'operator'],
    ]) {
      const added = await runCli(
        ['users', 'add', name as string, '--role', role as string],
        s.env,
        `${name}-password\n`,
      );
      expect(added.code, added.stderr).toBe(0);
    }
    s.writeSchedules(SCHEDULES);
    const app = await s.start({ web: true });

    const viewer = await pageAs(app, '/schedules', { name: 'vera', password: 'vera-password' });
    const row = viewer.page.locator('tr.schedule-row[data-schedule="nap"]');
    await row.waitFor();
    await viewer.page.locator('#who', { hasText: 'vera · viewer' }).waitFor();
    await waitFor(async () => await row.locator('input.switch').isDisabled(), "the viewer's switch disabled");
    expect(await row.locator('input.switch').getAttribute('title')).toMatch(/vera is a viewer/);
    expect(await viewer.page.locator('.trigger-button:visible').count()).toBe(0);
    await shot(viewer.page, 'viewer-grid');
    expect(viewer.consoleErrors).toEqual([]);
    await viewer.page.context().close();

    const operator = await pageAs(app, '/schedules', { name: 'olive', password: 'olive-password' });
    const opRow = operator.page.locator('tr.schedule-row[data-schedule="nap"]');
    await opRow.waitFor();
    await operator.page.locator('#who', { hasText: 'olive · operator' }).waitFor();
    await waitFor(
      async () => !(await opRow.locator('input.switch').isDisabled()),
      "the operator's switch enabled",
    );
    // The trigger form holds the params a trigger may change, with the file's values.
    await opRow.locator('.trigger-button').click();
    const form = operator.page.locator('#trigger-form');
    await form.waitFor();
    expect(JSON.parse(await form.locator('textarea').inputValue())).toEqual({ ms: 5, failAttempts: 0 });
    expect(await form.locator('.trigger-overridable').textContent()).toBe(
      'may override: ms, failAttempts, permanent',
    );
    await form.locator('textarea').fill('{ "ms": 7 }');
    await form.locator('button[type=submit]').click();
    await form.locator('.form-ok', { hasText: 'triggered run' }).waitFor();
    await shot(operator.page, 'operator-trigger');
    await form.locator('.close-trigger').click();
    // A schedule whose file lists nothing overridable says so.
    await operator.page.locator('tr.schedule-row[data-schedule="fixed"] .trigger-button').click();
    expect(await operator.page.locator('#trigger-form .trigger-overridable').textContent()).toBe(
      'nothing may be overridden (schedules.yaml: overridable)',
    );
    expect(JSON.parse(await operator.page.locator('#trigger-form textarea').inputValue())).toEqual({});
    expect(operator.consoleErrors).toEqual([]);
    await operator.page.context().close();

    const { rows } = await s.db.query<{ triggered_by: string; params: { ms: number } }>(
      "select triggered_by, params from runs where schedule = 'nap' and trigger = 'manual'",
    );
    expect(rows).toEqual([{ triggered_by: 'api:olive', params: { ms: 7, failAttempts: 0 } }]);
  });
});
