// When the project sits in a git work tree (its own .git, or one in a directory above it: a
// monorepo, a worktree, a submodule), git's answer decides what ships besides the ignore files:
// the files git tracks (they ship even when a .gitignore lists them, as git keeps tracking them),
// .git/info/exclude, and where the project sits in the work tree (the .gitignore files above it
// apply too). All of it is asked of git itself: the index format is git's business, and a
// worktree's or submodule's .git is a file pointing elsewhere.
import { execFileSync } from 'node:child_process';
import { lstatSync, readFileSync, realpathSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { SvcError } from '../core/errors.js';

export interface GitCheckout {
  /** The top of the work tree, as git names it (links resolved). */
  topLevel: string;
  /** Where the directory sits in the work tree: '' at the top, else like 'services/api/'. */
  prefix: string;
  /** Paths relative to the directory, as `git ls-files --cached` run there lists them. */
  tracked: Set<string>;
  /** Those of them that are gitlinks (submodules, or repositories added as one entry). */
  gitlinks: Set<string>;
  /** The text of info/exclude ('' when there is none). */
  infoExclude: string;
}

/**
 * svc's environment without any GIT_* variable: they would point git at another repository (svc
 * run from a hook), at other configuration, or stop its search for the work tree.
 */
export function gitEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('GIT_')) env[name] = value;
  env.GIT_OPTIONAL_LOCKS = '0';
  return env;
}

function git(dir: string, gitAt: string, args: string[]): string {
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
      `${join(gitAt, '.git')}: a git checkout, but \`git ${args.join(' ')}\` failed (${why}); svc asks git which files it tracks`,
    );
  }
}

/** The nearest directory, `dir` or above it, that has a .git (directory or file). */
function enclosingGitDir(dir: string): string | undefined {
  for (let at = realpathSync(dir); ; at = dirname(at)) {
    try {
      lstatSync(join(at, '.git'));
      return at;
    } catch {
      // not here: look one directory up
    }
    if (dirname(at) === at) return undefined;
  }
}

/** undefined when neither `dir` nor a directory above it has a .git: a plain directory. */
export function readGitCheckout(dir: string): GitCheckout | undefined {
  const gitAt = enclosingGitDir(dir);
  if (gitAt === undefined) return undefined;
  const [topLevel, prefix, excludePath] = git(dir, gitAt, [
    'rev-parse',
    '--show-toplevel',
    '--show-prefix',
    '--git-path',
    'info/exclude',
  ]).split('\n');
  const tracked = new Set<string>();
  const gitlinks = new Set<string>();
  // `-s`: "<mode> <object> <stage>\t<path>"; mode 160000 is a gitlink. A conflicted path is
  // listed once per stage; the set keeps one.
  for (const line of git(dir, gitAt, ['ls-files', '-z', '--cached', '-s']).split('\0')) {
    const tab = line.indexOf('\t');
    if (tab === -1) continue;
    const path = line.slice(tab + 1);
    tracked.add(path);
    if (line.startsWith('160000 ')) gitlinks.add(path);
  }
  const absolute = isAbsolute(excludePath!) ? excludePath! : join(dir, excludePath!);
  let infoExclude = '';
  try {
    if (lstatSync(absolute).isFile()) infoExclude = readFileSync(absolute, 'utf8');
  } catch {
    // no info/exclude: nothing to add
  }
  return { topLevel: topLevel!, prefix: prefix!, tracked, gitlinks, infoExclude };
}
