import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

/** The Grafana dashboard's shape: importable anywhere, no panel hidden under another. */
const root = path.resolve(import.meta.dirname, '../..');
const dashboard = JSON.parse(readFileSync(path.join(root, 'ops/grafana/tickflow-dashboard.json'), 'utf8'));

interface Panel {
  id: number;
  type: string;
  title: string;
  datasource?: { type: string; uid: string };
  gridPos: { x: number; y: number; w: number; h: number };
  targets?: { refId: string; expr: string; datasource?: { uid: string } }[];
}
const panels = dashboard.panels as Panel[];
/** Grafana's reference to the dashboard's `datasource` variable. */
// biome-ignore lint/suspicious/noTemplateCurlyInString: Grafana's syntax, not a template string
const DATASOURCE = '${datasource}';
const queried = panels.filter((panel) => panel.type !== 'row');

describe('ops/grafana/tickflow-dashboard.json', () => {
  it('asks for its Prometheus on import instead of naming one', () => {
    const variables = dashboard.templating.list as { name: string; type: string; query: unknown }[];
    expect(variables.find((v) => v.name === 'datasource')).toMatchObject({
      type: 'datasource',
      query: 'prometheus',
    });
    for (const panel of queried) {
      expect(panel.datasource, panel.title).toEqual({ type: 'prometheus', uid: DATASOURCE });
      for (const target of panel.targets ?? []) expect(target.datasource?.uid, panel.title).toBe(DATASOURCE);
    }
  });

  it('has a unique id per panel and a query per refId', () => {
    expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
    for (const panel of queried) {
      const refIds = (panel.targets ?? []).map((t) => t.refId);
      expect(refIds.length, panel.title).toBeGreaterThan(0);
      expect(new Set(refIds).size, panel.title).toBe(refIds.length);
      for (const target of panel.targets ?? []) expect(target.expr.trim(), panel.title).not.toBe('');
    }
  });

  it('covers runs, durations, start delay, failures, lag, throughput and fraud rate', () => {
    const exprs = queried.flatMap((panel) => (panel.targets ?? []).map((t) => t.expr)).join('\n');
    for (const metric of [
      'tickflow_runs_total',
      'tickflow_run_duration_seconds_bucket',
      'tickflow_run_start_delay_seconds_bucket',
      'state="failed"',
      'tickflow_consumer_lag',
      'kind=~"produced|consumed"',
      'kind="flagged"',
    ])
      expect(exprs).toContain(metric);
  });

  it('lays panels out on the 24-column grid without overlaps', () => {
    const cells = new Map<string, string>();
    for (const panel of panels) {
      const { x, y, w, h } = panel.gridPos;
      expect(x + w, panel.title).toBeLessThanOrEqual(24);
      for (let col = x; col < x + w; col++)
        for (let row = y; row < y + h; row++) {
          const key = `${col},${row}`;
          expect(cells.get(key), `${panel.title} overlaps`).toBeUndefined();
          cells.set(key, panel.title);
        }
    }
  });
});
