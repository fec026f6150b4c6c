import type { Redis } from 'ioredis';

/** The last pause or resume a person made (UI or CLI), with their note. */
export interface Toggle {
  paused: boolean;
  note?: string;
  at: string;
}

/**
 * What the reconciler remembers in Redis between runs, next to the queues it manages: which
 * schedules it manages, each one's last `enabled:` value from the file (so that only a *change*
 * of that value overrides a person's pause or resume), and the last toggle with its note.
 * Lives under `<prefix>:_tickflow:`; the leading `_` cannot start a schedule name.
 */
export class ScheduleMemory {
  private readonly enabledKey: string;
  private readonly togglesKey: string;

  constructor(
    private readonly redis: Redis,
    prefix: string,
  ) {
    this.enabledKey = `${prefix}:_tickflow:file-enabled`;
    this.togglesKey = `${prefix}:_tickflow:toggles`;
  }

  /** Every schedule the reconciler has set up (and not removed). */
  names(): Promise<string[]> {
    return this.redis.hkeys(this.enabledKey);
  }

  async fileEnabled(name: string): Promise<boolean | undefined> {
    const value = await this.redis.hget(this.enabledKey, name);
    return value === null ? undefined : value === '1';
  }

  async rememberFileEnabled(name: string, enabled: boolean): Promise<void> {
    await this.redis.hset(this.enabledKey, name, enabled ? '1' : '0');
  }

  async recordToggle(name: string, toggle: Toggle): Promise<void> {
    await this.redis.hset(this.togglesKey, name, JSON.stringify(toggle));
  }

  async lastToggle(name: string): Promise<Toggle | undefined> {
    const value = await this.redis.hget(this.togglesKey, name);
    return value === null ? undefined : (JSON.parse(value) as Toggle);
  }

  async forget(name: string): Promise<void> {
    await this.redis.multi().hdel(this.enabledKey, name).hdel(this.togglesKey, name).exec();
  }
}
