import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const script = path.join(import.meta.dirname, 'consumer-worker.ts');

export interface RunLine {
  event: 'run';
  pid: number;
  result: Record<string, unknown>;
  partitions: number[];
}

/** A consumer-worker child process, with its output as parsed JSON lines. */
export class WorkerProcess {
  readonly child: ChildProcess;
  readonly runs: RunLine[] = [];
  readonly logs: Array<Record<string, unknown>> = [];
  private readonly exited: Promise<number | null>;
  private waiters: Array<() => void> = [];
  stderr = '';

  constructor(params: Record<string, unknown>, env: NodeJS.ProcessEnv) {
    this.child = spawn(process.execPath, ['--import', 'tsx', script, JSON.stringify(params)], {
      env: { ...env, LOG_LEVEL: 'info' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.child.stderr?.on('data', (chunk) => {
      this.stderr += chunk;
    });
    readline.createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      const parsed = safeJson(line);
      if (parsed?.event === 'run') this.runs.push(parsed as unknown as RunLine);
      else if (parsed) this.logs.push(parsed);
      for (const wake of this.waiters.splice(0)) wake();
    });
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  get consumed(): number {
    return this.runs.reduce((sum, run) => sum + (run.result.consumed as number), 0);
  }

  /** Resolves once `condition` holds, re-checked at every line of output. */
  async until(condition: () => boolean, timeoutMs = 60_000, what = 'condition'): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!condition()) {
      if (this.child.exitCode !== null)
        throw new Error(`worker exited (${this.child.exitCode}): ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}; stderr: ${this.stderr}`);
      await new Promise<void>((resolve) => {
        this.waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
  }

  kill(signal: NodeJS.Signals): Promise<number | null> {
    this.child.kill(signal);
    return this.exited;
  }
}

function safeJson(line: string): Record<string, unknown> | undefined {
  try {
    return JSON.parse(line);
  } catch {
    return undefined;
  }
}
