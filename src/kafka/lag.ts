import type { Admin } from 'kafkajs';
import type { PartitionLag } from './stream-client';

export type { PartitionLag };

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
