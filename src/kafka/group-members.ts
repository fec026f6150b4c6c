/** What a process's long-lived group member must say and do, whichever Kafka client it runs on. */
export interface GroupMember {
  /** False once the client gave up on it: the next run gets a new member. */
  readonly healthy: boolean;
  stop(): Promise<void>;
}

/**
 * This process's members, one per group and topic: joined on first use and kept, so runs do not pay
 * a group rejoin; a member the client gave up on is stopped and replaced, and one that failed to
 * join is forgotten so the next run tries again.
 */
export class GroupMembers<M extends GroupMember> {
  private readonly members = new Map<string, Promise<M>>();

  async get(topic: string, group: string, join: () => Promise<M>): Promise<M> {
    const key = `${group}\u0000${topic}`;
    const current = this.members.get(key);
    if (current) {
      const member = await current.catch(() => undefined);
      if (member?.healthy) return member;
      if (this.members.get(key) === current) {
        this.members.delete(key);
        await member?.stop().catch(() => {});
      }
      return this.get(topic, group, join);
    }
    const started = join();
    this.members.set(key, started);
    started.catch(() => {
      if (this.members.get(key) === started) this.members.delete(key);
    });
    return started;
  }

  /** Stops every member: leaving the group lets the other members take over their partitions now. */
  async stopAll(): Promise<void> {
    const members = await Promise.all([...this.members.values()].map((m) => m.catch(() => undefined)));
    await Promise.all(members.map((member) => member?.stop().catch(() => {})));
    this.members.clear();
  }
}
