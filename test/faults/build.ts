import { execFileSync } from 'node:child_process';
import path from 'node:path';

/**
 * vitest globalSetup of the fault suite: `bin/tickflow` runs the bundle in dist/, so build it from the
 * sources first (as `npm test`'s pretest does), or the suite would test whatever dist/ was last built from.
 */
export function setup(): void {
  execFileSync('npm', ['run', 'build'], {
    cwd: path.resolve(import.meta.dirname, '../..'),
    stdio: 'inherit',
  });
}
