import { describe, expect, it } from 'vitest';
import { type GroupMember, GroupMembers } from './group-members';

class Member implements GroupMember {
  healthy = true;
  stopped = false;
  async stop(): Promise<void> {
    this.stopped = true;
  }
}

describe('GroupMembers', () => {
  it('keeps one member per group and topic, and replaces (stopping it) one the client gave up on', async () => {
    const members = new GroupMembers<Member>();
    let joins = 0;
    const join = async () => {
      joins++;
      return new Member();
    };
    const first = await members.get('t', 'g', join);
    expect(await members.get('t', 'g', join)).toBe(first);
    expect(await members.get('t', 'other', join)).not.toBe(first);
    expect(joins).toBe(2);
    first.healthy = false;
    const second = await members.get('t', 'g', join);
    expect(second).not.toBe(first);
    expect(first.stopped).toBe(true);
    expect(joins).toBe(3);
  });

  it('forgets a join that failed, so the next run tries again; stopAll stops every member', async () => {
    const members = new GroupMembers<Member>();
    await expect(members.get('t', 'g', async () => Promise.reject(new Error('no broker')))).rejects.toThrow(
      'no broker',
    );
    const member = await members.get('t', 'g', async () => new Member());
    await members.stopAll();
    expect(member.stopped).toBe(true);
    expect(await members.get('t', 'g', async () => new Member())).not.toBe(member);
  });
});
