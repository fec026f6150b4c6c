/**
 * Transaction ids (canonical lower-case UUIDs) in arrival order, 16 bytes each in one buffer outside
 * the JavaScript heap: what a run publishes after its commit, read back from PostgreSQL page by page.
 * As prediction records the same run held ~350 bytes a message on the heap (a 200,000-message run
 * published with predictions peaked at ~450 MB).
 */
export class IdLog {
  private bytes = Buffer.alloc(16 * 1_024);
  private count = 0;

  get size(): number {
    return this.count;
  }

  add(id: string): void {
    if ((this.count + 1) * 16 > this.bytes.length) {
      const larger = Buffer.alloc(this.bytes.length * 2);
      this.bytes.copy(larger);
      this.bytes = larger;
    }
    this.bytes.write(id.replaceAll('-', ''), this.count * 16, 16, 'hex');
    this.count++;
  }

  /** The ids in order, `size` at a time. */
  *pages(size: number): Generator<string[]> {
    for (let start = 0; start < this.count; start += size) {
      const page: string[] = [];
      for (let i = start; i < Math.min(start + size, this.count); i++) page.push(this.at(i));
      yield page;
    }
  }

  private at(index: number): string {
    const hex = this.bytes.toString('hex', index * 16, index * 16 + 16);
    return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
  }
}
