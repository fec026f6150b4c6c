import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';

/**
 * The Prometheus side of ops/, through promtool (Debian's `prometheus` package; .ci/run installs it).
 * Without promtool these tests are skipped on a developer's machine and fail in CI.
 */
const root = path.resolve(import.meta.dirname, '../..');
const prometheusDir = path.join(root, 'ops/prometheus');
const hasPromtool = spawnSync('promtool', ['--version']).status === 0;
if (!hasPromtool && process.env.CI === 'true') {
  throw new Error(
    'promtool is missing: src/services/system-packages.sh installs it (apt-get install prometheus)',
  );
}

const scratch = mkdtempSync(path.join(os.tmpdir(), 'tickflow-ops-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync('promtool', args, { encoding: 'utf8' });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe.skipIf(!hasPromtool)('ops/prometheus with promtool', () => {
  it('the alert rules are valid', () => {
    const { status, output } = promtool('check', 'rules', path.join(prometheusDir, 'alerts.yml'));
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('each alert fires when it should and only then (alerts.test.yml)', () => {
    const { status, output } = promtool('test', 'rules', path.join(prometheusDir, 'alerts.test.yml'));
    expect(output).toContain('SUCCESS');
    expect(status).toBe(0);
  });

  it('the example scrape configuration is valid', () => {
    // credentials_file must exist for promtool: point it at a scratch token.
    const token = path.join(scratch, 'token');
    writeFileSync(token, 'x'.repeat(24));
    const config = readFileSync(path.join(prometheusDir, 'prometheus.yml'), 'utf8').replaceAll(
      '/etc/prometheus/tickflow-api-token',
      token,
    );
    writeFileSync(path.join(scratch, 'prometheus.yml'), config);
    writeFileSync(path.join(scratch, 'alerts.yml'), readFileSync(path.join(prometheusDir, 'alerts.yml')));
    const { status, output } = promtool('check', 'config', path.join(scratch, 'prometheus.yml'));
    expect(output).toContain('is valid prometheus config file');
    expect(status).toBe(0);
  });

  it('every query of the Grafana dashboard is valid PromQL', () => {
    const dashboard = JSON.parse(
      readFileSync(path.join(root, 'ops/grafana/tickflow-dashboard.json'), 'utf8'),
    );
    const rules = panelsOf(dashboard).flatMap((panel) =>
      (panel.targets ?? []).map((target) => ({
        record: `dashboard:panel_${panel.id}_${target.refId}`,
        // Grafana's variables, as Grafana would fill them in.
        expr: target.expr.replaceAll('$__rate_interval', '1m').replaceAll('$schedule', '.*'),
      })),
    );
    expect(rules.length).toBeGreaterThan(10);
    const file = path.join(scratch, 'dashboard-queries.yml');
    writeFileSync(file, stringify({ groups: [{ name: 'dashboard', rules }] }));
    const { status, output } = promtool('check', 'rules', file);
    expect(output).toContain(`SUCCESS: ${rules.length} rules found`);
    expect(status).toBe(0);
  });
});

interface Panel {
  id: number;
  type: string;
  targets?: { refId: string; expr: string }[];
  panels?: Panel[];
}

function panelsOf(dashboard: { panels: Panel[] }): Panel[] {
  return dashboard.panels.flatMap((panel) => [panel, ...(panel.panels ?? [])]);
}
