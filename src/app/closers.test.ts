import { describe, expect, it } from 'vitest';
import { Closers } from './closers';

describe('Closers', () => {
  it('closes in reverse order and goes on past a failure, then reports it', async () => {
    const closed: string[] = [];
    const closers = new Closers();
    closers.add(() => {
      closed.push('pool');
    });
    closers.add(() => {
      throw new Error('workers would not stop');
    });
    closers.add(async () => {
      closed.push('web');
    });
    await expect(closers.closeAll()).rejects.toThrow('workers would not stop');
    expect(closed).toEqual(['web', 'pool']);
  });

  it('a failed start closes what it had opened and rethrows the start error', async () => {
    const closed: string[] = [];
    const closers = new Closers();
    const start = closers.starting(async () => {
      closers.add(() => {
        closed.push('redis');
      });
      throw new Error('bad schedules file');
    });
    await expect(start).rejects.toThrow('bad schedules file');
    expect(closed).toEqual(['redis']);
  });
});
