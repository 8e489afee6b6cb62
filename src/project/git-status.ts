// What git says about a project before and after `svc update`: whether anything in it is not
// committed (an update on a clean tree leaves `git diff` showing exactly what it did), and whether
// git would ignore a path (the record must be committed to be of use).
import { execFileSync } from 'node:child_process';
import { SvcError } from '../core/errors.js';
import { gitEnv, readGitCheckout } from './git-checkout.js';

function git(dir: string, args: string[], okCodes: number[] = [0]): { code: number; out: string } {
  try {
    const out = execFileSync('git', ['-c', 'core.fsmonitor=false', '-C', dir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 64 * 1024 * 1024,
      env: gitEnv(),
    });
    return { code: 0, out };
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { status?: number; stderr?: string };
    if (typeof failure.status === 'number' && okCodes.includes(failure.status))
      return { code: failure.status, out: '' };
    const why =
      failure.code === 'ENOENT'
        ? 'git is not installed'
        : (failure.stderr ?? failure.message).trim().split('\n')[0];
    throw new SvcError(`${dir}: \`git ${args.join(' ')}\` failed (${why})`);
  }
}

/**
 * The project's paths git reports as changed or untracked (relative to the work tree's top),
 * or undefined when the project is not in a git work tree.
 */
export function uncommittedPaths(dir: string): string[] | undefined {
  if (readGitCheckout(dir) === undefined) return undefined;
  const { out } = git(dir, ['status', '--porcelain=v1', '-z', '--untracked-files=all', '--', '.']);
  // Each entry is `XY path`; a rename or copy (R or C in X or Y) is followed by its source path
  // as an entry of its own, without the status.
  const entries = out.split('\0').filter((entry) => entry !== '');
  const paths: string[] = [];
  for (let i = 0; i < entries.length; i++) {
    const entry = entries[i]!;
    paths.push(entry.slice(3));
    if (/[RC]/.test(entry.slice(0, 2)) && i + 1 < entries.length) paths.push(entries[++i]!);
  }
  return paths;
}

/** Whether git would ignore `path` (relative to dir); false outside a work tree. */
export function gitIgnores(dir: string, path: string): boolean {
  if (readGitCheckout(dir) === undefined) return false;
  return git(dir, ['check-ignore', '-q', '--no-index', '--', path], [0, 1]).code === 0;
}
