import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';

const execFileAsync = promisify(execFile);

/** A service that cannot be started here; the message says what is missing and the ways out. */
export class ServiceUnavailableError extends Error {
  override name = 'ServiceUnavailableError';
}

export function missingTool(service: string, tool: string, install: string): ServiceUnavailableError {
  return new ServiceUnavailableError(
    `Cannot start ${service}: '${tool}' was not found. Either install it (${install}) ` +
      `or run the services in Docker with 'docker compose up -d'.`,
  );
}

/** Finds an executable on PATH or in the extra folders given (e.g. /usr/lib/postgresql/15/bin). */
export function findExecutable(name: string, extraDirs: string[] = []): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter), ...extraDirs];
  for (const dir of dirs) {
    const candidate = path.join(dir, name);
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not here; keep looking
    }
  }
  return undefined;
}

/** Starts a long-running server detached from this process, its output appended to `logFile`. */
export function spawnDetached(command: string, args: string[], logFile: string, cwd?: string): number {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const out = fs.openSync(logFile, 'a');
  const child = spawn(command, args, { detached: true, stdio: ['ignore', out, out], cwd });
  fs.closeSync(out);
  child.unref();
  if (child.pid === undefined) throw new ServiceUnavailableError(`Could not spawn ${command}`);
  return child.pid;
}

/** Runs a command to completion without blocking the event loop; throws with its output when it fails. */
export async function runChecked(command: string, args: string[], what: string): Promise<string> {
  try {
    const { stdout } = await execFileAsync(command, args, { encoding: 'utf8', maxBuffer: 16 * 1024 * 1024 });
    return stdout;
  } catch (error) {
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    const output = `${stdout}${stderr}`.trim().split('\n').slice(-15).join('\n');
    throw new ServiceUnavailableError(`${what} failed (${command} ${args.join(' ')}):\n${output}`);
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Whether `pid` is still the server we started: after a reboot the recorded pid may belong to
 * another program, which `services down` must never signal. Without /proc, liveness must do.
 */
export function isRunning(pid: number, commandMarker: string): boolean {
  if (!isAlive(pid)) return false;
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(commandMarker);
  } catch {
    return process.platform !== 'linux';
  }
}

/** SIGTERM, then SIGKILL if the process has not gone after `graceMs`. */
export async function terminate(pid: number, graceMs = 30_000): Promise<void> {
  if (!isAlive(pid)) return;
  process.kill(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (isAlive(pid) && Date.now() < deadline) await sleep(100);
  if (isAlive(pid)) process.kill(pid, 'SIGKILL');
}

/** Polls `check` until it resolves true; fails with `describe()` after `timeoutMs`. */
async function waitUntil(
  check: () => Promise<boolean>,
  timeoutMs: number,
  describe: () => string,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new ServiceUnavailableError(describe());
    await sleep(200);
  }
}

function tailFile(file: string, lines = 20): string {
  try {
    return fs.readFileSync(file, 'utf8').trim().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

/** Waits for a server we spawned to answer; fails early with its log if the process dies. */
export async function waitForServer(
  pid: number | undefined,
  ready: () => Promise<boolean>,
  what: string,
  logFile: string,
  timeoutMs = 60_000,
): Promise<void> {
  const died = () => pid !== undefined && !isAlive(pid);
  await waitUntil(
    async () => died() || (await ready()),
    timeoutMs,
    () =>
      `${what} did not become ready within ${timeoutMs / 1000}s. Last lines of ${logFile}:\n${tailFile(logFile)}`,
  );
  if (died())
    throw new ServiceUnavailableError(
      `${what} exited at start. Last lines of ${logFile}:\n${tailFile(logFile)}`,
    );
}
