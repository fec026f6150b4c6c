import { EventEmitter } from 'node:events';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { Change } from './reconcile';
import { Scheduler, type SchedulerOptions } from './scheduler';

const reconcile = vi.hoisted(() => vi.fn<() => Promise<Change[]>>());
vi.mock('./reconcile', () => ({ reconcile }));

/** A Scheduler on a fake file (an emitter of `change`) and a mocked reconcile, on a fake clock. */
function scheduler() {
  const source = Object.assign(new EventEmitter(), { current: { schedules: [{ name: 'tick' }] } });
  const log = { error: vi.fn(), warn: vi.fn(), info: vi.fn(), debug: vi.fn() };
  const queues = { get: (name: string) => ({ name }) };
  const options = { source, queues, log, checkEveryMs: 1_000 } as unknown as SchedulerOptions;
  const passes: Change[][] = [];
  const instance = new Scheduler(options);
  instance.on('reconciled', (changes) => passes.push(changes));
  return { instance, source, log, passes };
}

const changed = (kind: Change['kind']): Change[] => [{ schedule: 'tick', kind }];

describe('Scheduler (fake clock, reconcile mocked)', () => {
  beforeEach(() => {
    vi.useFakeTimers();
    reconcile.mockReset();
    reconcile.mockResolvedValue([]);
  });
  afterEach(async () => {
    vi.useRealTimers();
  });

  it('reconciles at start and at every check, emitting `reconciled` with each pass’s changes', async () => {
    const { instance, passes } = scheduler();
    reconcile.mockResolvedValueOnce(changed('created'));
    await instance.start();
    expect(passes).toEqual([changed('created')]);
    reconcile.mockResolvedValueOnce(changed('restored'));
    await vi.advanceTimersByTimeAsync(999);
    expect(passes).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(passes).toEqual([changed('created'), changed('restored')]);
    await vi.advanceTimersByTimeAsync(2_000);
    expect(passes).toEqual([changed('created'), changed('restored'), [], []]);
    await instance.stop();
    await vi.advanceTimersByTimeAsync(5_000);
    expect(passes).toHaveLength(4);
    expect(reconcile).toHaveBeenCalledTimes(4);
  });

  it('edits during a pass make one more pass after it, not one each', async () => {
    const { instance, source, passes } = scheduler();
    await instance.start();
    let finish: (changes: Change[]) => void = () => {};
    reconcile.mockImplementationOnce(
      () =>
        new Promise((resolve) => {
          finish = resolve;
        }),
    );
    source.emit('change');
    source.emit('change');
    source.emit('change');
    await vi.advanceTimersByTimeAsync(0);
    expect(reconcile).toHaveBeenCalledTimes(2);
    reconcile.mockResolvedValueOnce(changed('updated'));
    finish(changed('paused'));
    await vi.advanceTimersByTimeAsync(0);
    expect(passes).toEqual([[], changed('paused'), changed('updated')]);
    expect(reconcile).toHaveBeenCalledTimes(3);
    await instance.stop();
  });

  it('a failed pass is logged and emits nothing; the next check tries again', async () => {
    const { instance, log, passes } = scheduler();
    reconcile.mockRejectedValueOnce(new Error('redis away'));
    await instance.start();
    expect(passes).toEqual([]);
    expect(log.error).toHaveBeenCalledWith(
      { err: expect.objectContaining({ message: 'redis away' }) },
      'reconcile failed; retrying at the next check',
    );
    reconcile.mockResolvedValueOnce(changed('restored'));
    await vi.advanceTimersByTimeAsync(1_000);
    expect(passes).toEqual([changed('restored')]);
    await instance.stop();
  });

  it('a `reconciled` listener that throws is logged, and the passes go on', async () => {
    const { instance, log, passes } = scheduler();
    instance.on('reconciled', () => {
      throw new Error('listener broke');
    });
    await instance.start();
    await vi.advanceTimersByTimeAsync(1_000);
    expect(passes).toHaveLength(2);
    expect(log.warn).toHaveBeenCalledTimes(2);
    expect(log.error).not.toHaveBeenCalled();
    await instance.stop();
  });
});
