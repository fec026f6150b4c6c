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

  async closeAll(): Promise<void> {
    for (let close = this.stack.pop(); close; close = this.stack.pop()) await close();
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
