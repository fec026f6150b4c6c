import type { Admin } from 'kafkajs';

export interface PartitionLag {
  partition: number;
  /** Next offset the group will read (-1: nothing committed yet, it starts at the earliest). */
  committed: number;
  /** Offset of the next message to be written (the high watermark). */
  end: number;
  lag: number;
}

/** How far the group is behind on each partition of the topic. */
export async function partitionLag(admin: Admin, group: string, topic: string): Promise<PartitionLag[]> {
  const [ends, [committed]] = await Promise.all([
    admin.fetchTopicOffsets(topic),
    admin.fetchOffsets({ groupId: group, topics: [topic] }),
  ]);
  const committedBy = new Map(committed?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
  return ends
    .map(({ partition, high, low }) => {
      const position = committedBy.get(partition) ?? -1;
      const end = Number(high);
      return { partition, committed: position, end, lag: end - (position < 0 ? Number(low) : position) };
    })
    .sort((a, b) => a.partition - b.partition);
}

export async function totalLag(admin: Admin, group: string, topic: string): Promise<number> {
  return (await partitionLag(admin, group, topic)).reduce((sum, p) => sum + p.lag, 0);
}
