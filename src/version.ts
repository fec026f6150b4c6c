import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import { projectPath } from './paths';

/**
 * `git describe --always --dirty` of the tree `npm run build` bundled (esbuild's --define); absent
 * when the code runs unbundled (tsx: development, tests), and empty when the build had no git
 * repository (the Docker image's build stage).
 */
declare const TICKFLOW_GIT_DESCRIBE: string | undefined;

let memo: string | undefined;

/**
 * The version of the running code, which every run records: the package version and, when known,
 * `git describe` at build (`0.1.0+4d8e060-dirty`). Unbundled, `git describe` is asked of the
 * working tree once, at the first call.
 */
export function codeVersion(): string {
  memo ??= withDescribe(packageVersion(), builtDescribe() ?? workingTreeDescribe());
  return memo;
}

const withDescribe = (version: string, describe: string | undefined) =>
  describe ? `${version}+${describe}` : version;

function builtDescribe(): string | undefined {
  return typeof TICKFLOW_GIT_DESCRIBE === 'string' ? TICKFLOW_GIT_DESCRIBE.trim() || '' : undefined;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(fs.readFileSync(projectPath('package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}

function workingTreeDescribe(): string | undefined {
  try {
    return (
      execFileSync('git', ['describe', '--always', '--dirty'], {
        cwd: projectPath(),
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'ignore'],
        timeout: 2_000,
      }).trim() || undefined
    );
  } catch {
    return undefined;
  }
}
