import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { SchedulerApp } from '../../src/app/scheduler-app';
import { recordStoredProgress } from '../../src/db/watermarks';
import { SchedulerTest, sleep, waitFor } from '../scheduler/support';
import { launchChromium, openPage as openBrowserPage, screenshot } from './browser';

/** Screenshots of each step, kept as test artifacts (git-ignored). */

const SCHEDULES = `schedules:
  tick:
    job: sleep
    description: ticks every 400 ms
    every: 400ms
    params: { ms: 30 }
  broken:
    job: sleep
    description: always fails
    every: 700ms
    params: { failAttempts: 99 }
  nap:
    job: sleep
    description: runs only when triggered
    cron: "0 0 * * *"
    params: { ms: 5 }
`;

let browser: Browser;
let s: SchedulerTest;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
afterEach(() => s.cleanup());

const openPage = (app: SchedulerApp, pathname: string) =>
  openBrowserPage(browser, `${app.web?.url}${pathname}`);

const shot = (page: Page, name: string) => screenshot(page, `grid-${name}`);
const bars = (page: Page, schedule: string, state = '') =>
  page.locator(`.strip button.bar${state ? `.state-${state}` : ''}[data-schedule="${schedule}"]`);
const completedRuns = async (schedule: string) =>
  (await s.runs(schedule)).filter((run) => run.state === 'completed').length;

describe('the schedules grid in a real Chromium (real Redis and PostgreSQL)', () => {
  it('shows runs live, toggles a schedule off and on, triggers with params, opens a failed run', async () => {
    s = new SchedulerTest('grid');
    s.writeSchedules(SCHEDULES);
    const app = await s.start({ web: true });
    const { page, consoleErrors, external } = await openPage(app, '/schedules?window=1m');

    // Runs appear without reloading the page.
    await page.locator('tr.schedule-row[data-schedule="tick"]').waitFor();
    await waitFor(
      async () => (await bars(page, 'tick', 'completed').count()) >= 3,
      'three tick bars',
      20_000,
    );
    await shot(page, '1-live');

    // Off: the switch asks for a note, then no run for three intervals.
    await page.locator('input.switch[aria-label="toggle tick"]').click();
    await page.locator('form.pause-form input[name=note]').fill('quiet please');
    await page.locator('form.pause-form button[type=submit]').click();
    await page
      .locator('tr.schedule-row[data-schedule="tick"] .col-note', { hasText: 'quiet please' })
      .waitFor();
    // Let a run that had already started finish, then count.
    await waitFor(
      async () => !(await s.runs('tick')).some((r) => r.state === 'active'),
      'no tick run active',
    );
    const atPause = (await s.runs('tick')).length;
    await sleep(3 * 400 + 200);
    expect((await s.runs('tick')).length).toBe(atPause);
    expect(await page.locator('input.switch[aria-label="toggle tick"]').isChecked()).toBe(false);
    await shot(page, '2-paused');

    // On again: runs resume.
    await page.locator('input.switch[aria-label="toggle tick"]').click();
    await waitFor(async () => (await s.runs('tick')).length >= atPause + 2, 'tick running again', 10_000);

    // Trigger with params: a bad one is shown inline by name, a good one runs and shows its result.
    await page.locator('button.trigger-button[aria-label="Trigger nap"]').click();
    const form = page.locator('#trigger-form');
    await form.locator('textarea[name=params]').fill('{ "ms": "long" }');
    await form.locator('button[type=submit]').click();
    await form.locator('li.field-error', { hasText: 'ms' }).waitFor();
    await shot(page, '3-trigger-error');
    await form.locator('textarea[name=params]').fill('{ "ms": 42 }');
    await form.locator('button[type=submit]').click();
    await form.locator('.form-ok', { hasText: 'triggered run' }).waitFor();
    await waitFor(async () => (await completedRuns('nap')) === 1, 'the triggered nap run');
    await bars(page, 'nap', 'completed').first().waitFor();
    await bars(page, 'nap', 'completed').first().click();
    const detail = page.locator('#run-detail');
    await detail.locator('.part-result', { hasText: 'sleptMs' }).waitFor();
    await expect(detail.locator('.part-params').textContent()).resolves.toContain('42');
    await shot(page, '4-triggered-run');

    // A failed run: its error, from the bar (after closing the open run).
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await bars(page, 'broken', 'failed').first().click();
    await detail.locator('.run-error', { hasText: 'failing attempt 1 on purpose' }).waitFor();
    expect(page.url()).toMatch(/#run=broken\//);
    await shot(page, '5-failed-run');

    // A schedule's duration chart: a point per finished run, coloured by state; a click opens that run.
    await page.keyboard.press('Escape');
    await detail.waitFor({ state: 'hidden' });
    await page.locator('button.name-link[data-schedule="tick"]').click();
    const points = page.locator('#schedule-panel svg.chart-svg circle.point.state-completed[data-open-run]');
    await points.first().waitFor();
    await page.locator('#schedule-panel svg.chart-svg polyline.chart-line').waitFor({ state: 'attached' });
    await shot(page, '6-duration-chart');
    const runId = await points.first().getAttribute('data-open-run');
    await points.first().click();
    await detail.locator('.part-result', { hasText: 'sleptMs' }).waitFor();
    expect(decodeURIComponent(page.url())).toContain(`#run=tick/${runId}`);

    // Only the 400 of the bad trigger may show as a console error; nothing left the machine.
    expect(consoleErrors.filter((text) => !/status of 400/.test(text))).toEqual([]);
    expect(external).toEqual([]);

    // Bull Board loads offline too (its Google Fonts link is removed).
    const board = await openPage(app, '/ui');
    await board.page.getByText('tick').first().waitFor();
    await shot(board.page, '7-bull-board');
    expect(board.external).toEqual([]);
    expect(board.consoleErrors).toEqual([]);
  }, 90_000);

  it("shows a consumer's event-time watermark on its row, and none on the others", async () => {
    s = new SchedulerTest('gridwm');
    const topic = `${s.t.id}.tx`;
    // Off, so it never runs: its watermark is what PostgreSQL holds, written below as its runs would.
    s.writeSchedules(`schedules:
  consumer:
    job: consumer-batch
    every: 1s
    enabled: false
    params: { topic: ${topic}, group: ${s.t.id}-group }
  nap:
    job: sleep
    cron: "0 0 * * *"
`);
    const app = await s.start({ web: true });
    const { page, consoleErrors } = await openPage(app, '/schedules');
    const cell = page.locator('tr.schedule-row[data-schedule="consumer"] .col-watermark');
    await cell.filter({ hasText: 'no watermark yet' }).waitFor();
    expect(await page.locator('tr.schedule-row[data-schedule="nap"] .col-watermark').isHidden()).toBe(true);

    const consumer = { schedule: 'consumer', topic };
    await recordStoredProgress(s.db, consumer, [
      { partition: 0, nextOffset: '3', newestEventAt: new Date(Date.now() - 125_000) },
    ]);
    await cell.filter({ hasText: /^watermark .+ · 2m behind$/ }).waitFor();
    expect(await cell.evaluate((el) => el.classList.contains('is-behind'))).toBe(true);
    await shot(page, '8-watermark');
    expect(consoleErrors).toEqual([]);
  });
});
