import type { RunRecord } from '../db/run-history';
import type { ScheduleStatus } from '../scheduler/status';
import { escapeHtml } from './html';

const colours: Record<RunRecord['state'], string> = {
  completed: '#2e7d32',
  failed: '#c62828',
  active: '#1565c0',
};

function cell(run: RunRecord): string {
  const seconds = run.finishedAt
    ? ((run.finishedAt.getTime() - run.startedAt.getTime()) / 1000).toFixed(2)
    : '…';
  const title = [
    `run ${run.jobId}, attempt ${run.attempt}: ${run.state}`,
    `started ${run.startedAt.toISOString()}`,
    `took ${seconds}s`,
    run.error ? `error: ${run.error}` : '',
  ]
    .filter(Boolean)
    .join('\n');
  return `<td class="run" style="background:${colours[run.state]}" title="${escapeHtml(title)}"></td>`;
}

/** Airflow's grid view: schedules as rows, recent runs as coloured cells (newest on the left). */
export function renderGrid(
  schedules: ScheduleStatus[],
  runs: RunRecord[],
  loadError: string | undefined,
  boardPath: string,
): string {
  const bySchedule = new Map<string, RunRecord[]>();
  for (const run of runs) {
    const row = bySchedule.get(run.schedule);
    if (row) row.push(run);
    else bySchedule.set(run.schedule, [run]);
  }
  const widest = Math.max(1, ...[...bySchedule.values()].map((row) => row.length));
  const rows = schedules.map((s) => {
    const cells = (bySchedule.get(s.name) ?? []).map(cell).join('');
    const state = s.paused ? '<span class="paused">paused</span>' : '<span class="on">on</span>';
    const link = `${boardPath}/queue/${encodeURIComponent(s.name)}`;
    return `<tr><th><a href="${escapeHtml(link)}">${escapeHtml(s.name)}</a></th><td>${escapeHtml(s.job ?? '-')}</td>
      <td>${escapeHtml(s.trigger ?? 'not scheduled')}</td><td>${state}</td>${cells}</tr>`;
  });
  const error = loadError ? `<pre class="error">${escapeHtml(loadError)}</pre>` : '';
  return `<!doctype html><html><head><meta charset="utf-8"><meta http-equiv="refresh" content="5">
<title>tickflow schedules</title><style>
body{font-family:system-ui,sans-serif;margin:1.5rem}table{border-collapse:separate;border-spacing:3px}
th{text-align:left;padding-right:1rem}td{padding:0 .6rem 0 0}td.run{width:14px;height:18px;padding:0;border-radius:3px}
.paused{color:#b26a00;font-weight:600}.on{color:#2e7d32}.error{background:#fdecea;color:#611a15;padding:1rem;white-space:pre-wrap}
</style></head><body><h1>tickflow schedules</h1>
<p><a href="${escapeHtml(boardPath)}">Bull Board</a> (pause a queue there to switch its schedule off) · refreshed every 5 s ·
<span style="color:${colours.completed}">■</span> completed <span style="color:${colours.failed}">■</span> failed
<span style="color:${colours.active}">■</span> running</p>${error}
<table><tr><th>schedule</th><td>job</td><td>cadence</td><td>state</td><td colspan="${widest}">recent runs, newest first →</td></tr>${rows.join('\n')}</table>
</body></html>`;
}
