import type { JobRegistry } from '../runtime/job-registry';
import type { ProblemList } from './problems';
import type { Schedule } from './schedule';

/**
 * What one schedule of the file needs of the others: `after:` names a schedule to run after,
 * `watermark.of` a consumer schedule whose watermark it waits for. Each must exist, a watermark must
 * be a consumer's, and no schedule may wait for itself through a chain of them.
 */
export function checkDependencies(schedules: Schedule[], jobs: JobRegistry, problems: ProblemList): void {
  const byName = new Map(schedules.map((schedule) => [schedule.name, schedule]));
  const known = () => [...byName.keys()].join(', ');
  for (const schedule of schedules) {
    const at = ['schedules', schedule.name];
    const { trigger, watermark } = schedule;
    if ('after' in trigger && !byName.has(trigger.after)) {
      problems.add(
        [...at, 'after'],
        `names no schedule of this file ("${trigger.after}"); schedules: ${known()}`,
      );
    }
    if (!watermark) continue;
    const upstream = byName.get(watermark.of);
    if (!upstream) {
      problems.add(
        [...at, 'watermark', 'of'],
        `names no schedule of this file ("${watermark.of}"); schedules: ${known()}`,
      );
    } else if (!jobs.get(upstream.job)?.recordsWatermark) {
      const consumers = schedules.filter((s) => jobs.get(s.job)?.recordsWatermark).map((s) => s.name);
      problems.add(
        [...at, 'watermark', 'of'],
        `"${watermark.of}" runs ${upstream.job}, which records no watermark; name a consumer schedule (${consumers.join(', ') || 'none in this file'})`,
      );
    }
  }
  const cycle = findCycle(schedules);
  if (cycle) {
    const [first] = cycle;
    problems.add(
      ['schedules', first as string],
      `schedules ${cycle.join(' → ')} wait for each other in a cycle, so none would ever run; remove after: or watermark: from one of them`,
      'key',
    );
  }
}

/** The schedules a schedule waits for: the one it runs after, the one whose watermark it waits for. */
export function upstreamsOf(schedule: Schedule): string[] {
  const upstreams: string[] = [];
  if ('after' in schedule.trigger) upstreams.push(schedule.trigger.after);
  if (schedule.watermark) upstreams.push(schedule.watermark.of);
  return upstreams;
}

/** A cycle of schedules waiting for each other, as names with the first repeated at the end; undefined if none. */
export function findCycle(schedules: Schedule[]): string[] | undefined {
  const byName = new Map(schedules.map((schedule) => [schedule.name, schedule]));
  const done = new Set<string>();
  const visit = (name: string, path: string[]): string[] | undefined => {
    const seenAt = path.indexOf(name);
    if (seenAt >= 0) return [...path.slice(seenAt), name];
    const schedule = byName.get(name);
    if (done.has(name) || !schedule) return undefined;
    for (const upstream of upstreamsOf(schedule)) {
      const cycle = visit(upstream, [...path, name]);
      if (cycle) return cycle;
    }
    done.add(name);
    return undefined;
  };
  for (const schedule of schedules) {
    const cycle = visit(schedule.name, []);
    if (cycle) return cycle;
  }
  return undefined;
}
