/**
 * What a process opened, closed in the reverse order: the last thing started is the first stopped
 * (the web server before the scheduler, the workers before their connections). A start that fails
 * half-way closes what it had opened.
 */
export class Closers {
  private readonly stack: (() => Promise<void> | void)[] = [];

  add(close: () => Promise<void> | void): void {
    this.stack.push(close);
  }

  /** Closes everything, even past a closer that fails; the failures are thrown together at the end. */
  async closeAll(): Promise<void> {
    const failures: unknown[] = [];
    for (let close = this.stack.pop(); close; close = this.stack.pop()) {
      try {
        await close();
      } catch (error) {
        failures.push(error);
      }
    }
    if (failures.length === 1) throw failures[0];
    if (failures.length > 1) throw new AggregateError(failures, `${failures.length} parts failed to stop`);
  }

  /** Runs a start-up; if it throws, closes everything opened so far and rethrows. */
  async starting<T>(start: () => Promise<T>): Promise<T> {
    try {
      return await start();
    } catch (error) {
      await this.closeAll().catch(() => undefined);
      throw error;
    }
  }
}
