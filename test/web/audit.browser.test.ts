import type { Browser } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { SchedulerTest, waitFor } from '../scheduler/support';
import { launchChromium, openPage, screenshot } from './browser';

/** Screenshots, kept as test artifacts (git-ignored). */

const schedules = (ms: number) => `schedules:
  slow:
    job: sleep
    description: outruns its cadence and its deadline
    every: 300ms
    params: { ms: 900 }
    deadline: 200ms
  nap:
    job: sleep
    cron: "0 0 1 1 *"
    params: { ms: ${ms} }
    pauseAfter: 3
`;

let browser: Browser;
let s: SchedulerTest;

beforeAll(async () => {
  browser = await launchChromium();
});
afterAll(() => browser?.close());
afterEach(() => s.cleanup());

describe('the grid shows the failure policy and the audit log (Chromium, real services)', () => {
  it('flags late runs and skipped slots, shows a run’s versions, and lists a schedules.yaml edit in the audit panel and the schedule’s changes', async () => {
    s = new SchedulerTest('audit_grid');
    s.writeSchedules(schedules(5));
    const app = await s.start({ web: true });
    const { page, consoleErrors, external } = await openPage(browser, `${app.web?.url}/schedules`);

    const nap = page.locator('tr.schedule-row[data-schedule="nap"]');
    await nap.locator('.badge', { hasText: 'pauses after 3' }).waitFor();
    await page
      .locator('tr.schedule-row[data-schedule="slow"] .badge', { hasText: 'deadline 200ms' })
      .waitFor();
    // A 900 ms run on a 300 ms cadence with a 200 ms deadline: flagged, and the next one skips slots.
    const late = page.locator('.strip button.bar.deadline-missed[data-schedule="slow"]');
    await late.first().waitFor({ timeout: 15_000 });
    await page
      .locator('.strip button.bar[data-skipped][data-schedule="slow"]')
      .first()
      .waitFor({ timeout: 15_000 });
    await screenshot(page, 'audit-grid-flags');

    // Bars of a 300 ms cadence overlap on a 5 minute strip: the click goes to this one.
    await late.first().dispatchEvent('click');
    const detail = page.locator('#run-detail');
    await detail.locator('[data-fact="deadline"]', { hasText: 'missed' }).waitFor();
    await expect(detail.locator('[data-fact="spec"]').textContent()).resolves.toMatch(
      /^[0-9a-f]{16} · set by schedules\.yaml at .+: added: sleep, every 300ms$/,
    );
    await expect(detail.locator('[data-fact="code"]').textContent()).resolves.toMatch(/^0\.1\.0/);
    await page.keyboard.press('Escape');

    s.writeSchedules(schedules(9));
    await waitFor(async () => {
      const { rows } = await s.db.query("select 1 from audit_log where action = 'schedule-changed'");
      return rows.length > 0;
    }, 'the edit in the audit log');
    await page.locator('#audit-link').click();
    const audit = page.locator('#audit-panel');
    await audit.locator('.audit-entry', { hasText: 'params.ms 5 → 9' }).waitFor();
    await page.locator('#audit-schedule').selectOption('nap');
    await expect.poll(() => audit.locator('.audit-entry').count()).toBe(2);
    await expect(audit.locator('.audit-entry').nth(1).textContent()).resolves.toContain('added: sleep, cron');
    await screenshot(page, 'audit-panel');
    await page.keyboard.press('Escape');

    await nap.locator('.name-link').click();
    const changes = page.locator('#schedule-panel .changes-list');
    await changes.locator('.audit-entry', { hasText: 'params.ms 5 → 9' }).waitFor();
    expect(await changes.locator('.audit-entry').count()).toBe(2);

    expect(consoleErrors).toEqual([]);
    expect(external).toEqual([]);
  });
});
