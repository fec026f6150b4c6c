/**
 * Failed logins per client address: after `limit` failures within `windowMs`, that address gets 429
 * (with how long to wait) until the oldest of them is `windowMs` old, right password or not (else
 * the throttle would still tell a guess that is right). Bounded: at most `maxAddresses` are kept.
 */
export class LoginThrottle {
  private readonly failures = new Map<string, number[]>();

  constructor(
    private readonly limit = 10,
    private readonly windowMs = 60_000,
    private readonly maxAddresses = 10_000,
  ) {}

  /** Seconds the address must wait before it may try again, or undefined when it may now. */
  retryAfter(address: string, now = Date.now()): number | undefined {
    const times = this.recent(address, now);
    if (times.length < this.limit) return undefined;
    const oldest = times[times.length - this.limit] ?? now;
    return Math.max(1, Math.ceil((oldest + this.windowMs - now) / 1000));
  }

  failed(address: string, now = Date.now()): void {
    const times = this.recent(address, now);
    times.push(now);
    // Only the last `limit` count; older ones could never block again.
    if (times.length > this.limit) times.splice(0, times.length - this.limit);
    this.failures.delete(address);
    this.failures.set(address, times);
    if (this.failures.size > this.maxAddresses) {
      // The least recently failed address goes first (a Map iterates in insertion order).
      const first = this.failures.keys().next().value;
      if (first !== undefined) this.failures.delete(first);
    }
  }

  private recent(address: string, now: number): number[] {
    const times = (this.failures.get(address) ?? []).filter((at) => now - at < this.windowMs);
    if (times.length === 0) this.failures.delete(address);
    return times;
  }
}
