import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { RunDetail, TriggeredRun } from '../../src/control/views';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { launchChromium, openPage, screenshot } from './browser';

/** Screenshots of each step, kept as test artifacts (git-ignored). */

/** nap runs for a minute unless cancelled; broken always fails. Neither runs by itself in the test. */
const SCHEDULES = `schedules:
  nap:
    job: sleep
    cron: "0 0 1 1 *"
    params: { ms: 60000 }
  broken:
    job: sleep
    cron: "0 0 1 1 *"
    params: { failAttempts: 99 }
`;

let browser: Browser;
let s: SchedulerTest;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
afterEach(() => s.cleanup());

const shot = (page: Page, name: string) => screenshot(page, `run-actions-${name}`);

describe('run actions in the grid, in a real Chromium (real Redis and PostgreSQL)', () => {
  it('cancels a running run and re-runs a failed one from the run panel; marks and notes it', async () => {
    s = new SchedulerTest('gridact');
    s.writeSchedules(SCHEDULES);
    const app = await s.start({ web: true });
    const api = async <T>(route: string, body?: unknown): Promise<T> => {
      const response = await fetch(`${app.web?.url}/api/v1${route}`, {
        method: body === undefined ? 'GET' : 'POST',
        ...(body === undefined
          ? {}
          : { headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }),
      });
      return (await response.json()) as T;
    };
    const runOf = (schedule: string, runId: string) => api<RunDetail>(`/schedules/${schedule}/runs/${runId}`);

    const running = (await api<TriggeredRun>('/schedules/nap/runs', { params: {} })).runId;
    await waitFor(async () => (await runOf('nap', running)).state === 'active', 'the nap run to start');
    const { page, consoleErrors, external } = await openPage(
      browser,
      `${app.web?.url}/schedules?window=5m#run=nap/${running}`,
    );

    // Cancel: the button asks for a confirmation, then the run ends cancelled, by the grid's user.
    const panel = page.locator('#run-detail');
    await panel.locator('.state-badge', { hasText: 'active' }).waitFor();
    await panel.locator('button.cancel-run').click();
    await panel.locator('button.cancel-run', { hasText: 'Confirm cancel' }).waitFor();
    await shot(page, '1-confirm-cancel');
    const clicked = Date.now();
    await panel.locator('button.cancel-run').click();
    await panel.locator('.state-badge', { hasText: 'cancelled' }).waitFor({ timeout: 5_000 });
    expect(Date.now() - clicked).toBeLessThan(2_000);
    await panel.locator('.cancelled-by', { hasText: 'cancelled by api:local' }).waitFor();
    expect(await panel.locator('button.cancel-run').count()).toBe(0);
    expect(await runOf('nap', running)).toMatchObject({ state: 'cancelled', cancelledBy: 'api:local' });
    await shot(page, '2-cancelled');

    // Re-run a failed run: the panel opens the new run, linked to the old one, for the same window.
    const failed = (await api<TriggeredRun>('/schedules/broken/runs', { params: { ms: 1 } })).runId;
    const failedRun = await waitFor(async () => {
      const run = await runOf('broken', failed);
      return run.state === 'failed' && run;
    }, 'the broken run to fail');
    await page.goto(`${app.web?.url}/schedules?window=5m#run=broken/${failed}`);
    await panel.locator('.state-badge', { hasText: 'failed' }).waitFor();
    await panel.locator('button.rerun-button').click();
    await panel.locator('.rerun-of', { hasText: `re-runs ${failed}` }).waitFor();
    const rerunId = decodeURIComponent(new URL(page.url()).hash.split('/')[1] ?? '');
    expect(rerunId).toMatch(/^rerun-\d+-\d+-[0-9a-f]{8}$/);
    const rerun = await runOf('broken', rerunId);
    expect(rerun).toMatchObject({
      trigger: 'rerun',
      triggeredBy: 'api:local',
      rerunOf: failed,
      window: failedRun.window,
      params: failedRun.params,
    });
    await shot(page, '3-rerun');

    // Back on the failed run: mark it completed and leave a note, both shown with who did it.
    await panel.locator(`.rerun-of button[data-open-run="${failed}"]`).click();
    await panel.locator('.reruns', { hasText: rerunId }).waitFor();
    await panel.locator('button.mark-button', { hasText: 'Mark completed' }).click();
    await panel.locator('.state-badge', { hasText: 'completed' }).waitFor();
    await panel.locator('.marked', { hasText: 'marked completed by api:local' }).waitFor();
    await panel.locator('button.note-button').click();
    await panel.locator('textarea.note-text').fill('fixed by hand: the predictor was down');
    await panel.locator('button.save-note').click();
    await panel
      .locator('.run-note .note-body', { hasText: 'fixed by hand: the predictor was down' })
      .waitFor();
    await panel.locator('.run-note footer', { hasText: 'api:local' }).waitFor();
    expect(await runOf('broken', failed)).toMatchObject({
      state: 'completed',
      marked: { from: 'failed', by: 'api:local' },
      note: { text: 'fixed by hand: the predictor was down', by: 'api:local' },
    });
    await shot(page, '4-marked-noted');

    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  });
});
