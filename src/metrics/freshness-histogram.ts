import type { Registry } from '@prometheus-io/client';
import { FRESHNESS_STAGES, FreshnessCounts, type FreshnessStage, type FreshnessSummary } from './freshness';

/** Exported bucket bounds in seconds: each is a fine bound (freshness.ts), so its count is exact. */
export const FRESHNESS_BUCKETS = [
  0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000,
];

const NAME = 'tickflow_freshness_seconds';

/**
 * `tickflow_freshness_seconds{stage}`, a Prometheus histogram added to a run at a time: a completed
 * consumer run's counts by fine bucket (its result's `freshness`) go in whole, where the client's
 * Histogram would take one observe() per message. Registered as a metric object of the shape the
 * registry reads of its own histograms (`get()`: the `_bucket`, `_sum` and `_count` series).
 */
export class FreshnessHistogram {
  readonly name = NAME;
  readonly help =
    'Seconds from event time to stored (its consumer run committed) and to alert published, by stage';
  readonly type = 'histogram';
  readonly aggregator = 'sum';
  private stages = freshStages();

  constructor(registry: Registry) {
    registry.registerMetric(this as never);
  }

  add(summary: FreshnessSummary): void {
    for (const stage of FRESHNESS_STAGES) this.stages[stage].merge(summary[stage]);
  }

  reset(): void {
    this.stages = freshStages();
  }

  get() {
    const values = FRESHNESS_STAGES.flatMap((stage) => {
      const counts = this.stages[stage];
      return [
        ...FRESHNESS_BUCKETS.map((le) => ({
          metricName: `${NAME}_bucket`,
          labels: { stage, le },
          value: counts.countUpTo(le),
        })),
        { metricName: `${NAME}_bucket`, labels: { stage, le: '+Inf' }, value: counts.count },
        { metricName: `${NAME}_sum`, labels: { stage }, value: counts.sumMs / 1_000 },
        { metricName: `${NAME}_count`, labels: { stage }, value: counts.count },
      ];
    });
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }
}

const freshStages = (): Record<FreshnessStage, FreshnessCounts> => ({
  stored: new FreshnessCounts(),
  alerted: new FreshnessCounts(),
});
