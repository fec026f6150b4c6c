import { describe, expect, it } from 'vitest';
import { parseConsumerPerformance, parseProducerPerformance } from './kafka-perf';

/** Output as Kafka 3.9.1's tools print it (captured from a run on the development broker). */
const PRODUCER_OUTPUT = `9558 records sent, 1910.5 records/sec (0.69 MB/sec), 855.5 ms avg latency, 2274.0 ms max latency.
20000 records sent, 3484.927688 records/sec (1.25 MB/sec), 1142.57 ms avg latency, 2274.00 ms max latency, 1287 ms 50th, 1584 ms 95th, 1666 ms 99th, 1675 ms 99.9th.
`;

const CONSUMER_OUTPUT = `start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec
2026-12-01 02:04:05:960, 2026-12-01 02:04:09:351, 7.1716, 2.1149, 20000, 5897.9652, 2862, 529, 13.5570, 37807.1834
`;

describe('Kafka performance tool output', () => {
  it('takes the summary line of ProducerPerformance, not a progress line', () => {
    expect(parseProducerPerformance(PRODUCER_OUTPUT)).toEqual({
      messages: 20_000,
      perSecond: 3484.927688,
      mbPerSecond: 1.25,
    });
  });

  it('takes the fetch rate of ConsumerPerformance, which leaves out the group join', () => {
    expect(parseConsumerPerformance(CONSUMER_OUTPUT)).toEqual({
      messages: 20_000,
      perSecond: 37807.1834,
      mbPerSecond: 13.557,
    });
  });

  it('says which line was missing and shows the output when a tool printed no summary', () => {
    const progressOnly = PRODUCER_OUTPUT.split('\n')[0] as string;
    expect(() => parseProducerPerformance(progressOnly)).toThrow(/no summary line.*\n9558 records sent/);
    expect(() => parseConsumerPerformance('WARN something\n')).toThrow(/fetch\.nMsg\.sec:\nWARN something/);
  });
});
