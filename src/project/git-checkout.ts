// When the project directory is a git checkout (it has a .git directory or file), two things
// decide what ships besides the ignore files: the files git tracks (they ship even when a
// .gitignore lists them, as git keeps tracking them) and .git/info/exclude. Both are git's
// answer, asked of git itself: the index format is git's business, and a worktree's .git is a
// file pointing elsewhere.
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync } from 'node:fs';
import { isAbsolute, join } from 'node:path';
import { SvcError } from '../core/errors.js';

export interface GitCheckout {
  /** Paths relative to the project, as `git ls-files --cached` lists them. */
  tracked: Set<string>;
  /** The text of info/exclude ('' when there is none). */
  infoExclude: string;
}

/** svc's environment, without what would point git at another repository (svc run from a hook). */
function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, GIT_OPTIONAL_LOCKS: '0' };
  for (const name of ['GIT_DIR', 'GIT_WORK_TREE', 'GIT_INDEX_FILE', 'GIT_COMMON_DIR'])
    delete env[name];
  return env;
}

function git(dir: string, args: string[]): string {
  try {
    // A project you were handed may carry a .git/config: core.fsmonitor there would be a command
    // that git runs, so it is switched off (ls-files and rev-parse run nothing else).
    return execFileSync('git', ['-c', 'core.fsmonitor=false', '-C', dir, ...args], {
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      maxBuffer: 256 * 1024 * 1024,
      env: gitEnv(),
    });
  } catch (error) {
    const failure = error as NodeJS.ErrnoException & { stderr?: string };
    const why =
      failure.code === 'ENOENT'
        ? 'git is not installed'
        : (failure.stderr ?? failure.message).trim().split('\n')[0];
    throw new SvcError(
      `${join(dir, '.git')}: a git checkout, but \`git ${args.join(' ')}\` failed (${why}); svc asks git which files it tracks`,
    );
  }
}

/** undefined when `dir` has no .git of its own (a project that is not a checkout). */
export function readGitCheckout(dir: string): GitCheckout | undefined {
  try {
    lstatSync(join(dir, '.git'));
  } catch {
    return undefined;
  }
  const tracked = new Set(
    git(dir, ['ls-files', '-z', '--cached'])
      .split('\0')
      .filter((path) => path !== ''),
  );
  const excludePath = git(dir, ['rev-parse', '--git-path', 'info/exclude']).trim();
  const absolute = isAbsolute(excludePath) ? excludePath : join(dir, excludePath);
  let infoExclude = '';
  try {
    if (lstatSync(absolute).isFile()) infoExclude = readFileSync(absolute, 'utf8');
  } catch {
    // no info/exclude: nothing to add
  }
  return { tracked, infoExclude };
}
