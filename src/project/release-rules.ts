// Which of a project's files the release walk (project/read.ts) takes: git's ignore rules with
// what git tracks (core/ignore-rules.ts decides, this file reads what it needs), .svcignore, and
// what never ships. The project may be a checkout, sit inside a larger one (the .gitignore files
// above it and info/exclude apply, as for git run in the project directory), or be neither.
// A nested checkout inside the project (a submodule, or a repository cloned into it) ships as its
// own git would list its files: git lists it as one entry and does not descend, so svc descends
// with that checkout's rules (its .gitignore files, .svcignore files, info/exclude and tracked
// files); the outer project's ignore files only decide whether the nested directory ships at all.
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import {
  alwaysIgnored,
  parseIgnoreFile,
  rulesAbove,
  verdictOf,
  type IgnoreLevel,
  type IgnorePattern,
} from '../core/ignore-rules.js';
import { shownText } from '../core/naming.js';
import { readGitCheckout, type GitCheckout } from './git-checkout.js';
import { lstatIfPresent, readOptionalProjectFile } from './regular-file.js';

/** What a walk takes: `decide` is asked about every entry, with the state of its directory. */
export interface WalkRules<S> {
  root: S;
  /** The state for a directory's entries, once it is entered. */
  enter(relative: string, parent: S): S;
  /** Skip it, or take it (a directory: enter it with `state`). */
  decide(relative: string, isDir: boolean, state: S): 'skip' | 'take';
}

/** The git work tree a directory belongs to; paths here are relative to the project. */
interface Checkout {
  /** Its top within the project: '' for the project's own (or enclosing) work tree. */
  root: string;
  /** Where `root` sits in its work tree: 'services/api/' for a project in a monorepo, else ''. */
  prefix: string;
  tracked: Set<string>;
  /** Every directory a tracked path is under. */
  trackedDirs: Set<string>;
  gitlinks: Set<string>;
}

/** The ignore rules that apply in a directory, and whether only tracked files ship there. */
interface IgnoreState {
  levels: IgnoreLevel[];
  /** Inside a directory git excludes: only what git tracks is there for git. */
  trackedOnly: boolean;
  checkout: Checkout;
}

function checkoutAt(root: string, git: GitCheckout | undefined): Checkout {
  const inProject = (path: string) => (root === '' ? path : `${root}/${path}`);
  const tracked = new Set([...(git?.tracked ?? [])].map(inProject));
  const trackedDirs = new Set(
    [...tracked].flatMap((path) =>
      path
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  const gitlinks = new Set([...(git?.gitlinks ?? [])].map(inProject));
  return { root, prefix: git?.prefix ?? '', tracked, trackedDirs, gitlinks };
}

/** A project path as its work tree's ignore rules see it: relative to the top of that tree. */
function inCheckout(checkout: Checkout, relative: string): string {
  const inside =
    checkout.root === ''
      ? relative
      : relative === checkout.root
        ? ''
        : relative.slice(checkout.root.length + 1);
  return inside === '' ? checkout.prefix.replace(/\/$/, '') : `${checkout.prefix}${inside}`;
}

/** A directory's own .gitignore then .svcignore; refused by name if not a regular file. */
function levelOf(dir: string, relative: string, base: string): IgnoreLevel | undefined {
  const patterns: IgnorePattern[] = [];
  for (const [name, source] of [
    ['.gitignore', 'git'],
    ['.svcignore', 'svc'],
  ] as const) {
    const shown = relative === '' ? name : `${relative}/${name}`;
    const text = readOptionalProjectFile(join(dir, relative, name), shown);
    if (text !== undefined) patterns.push(...parseIgnoreFile(text.toString('utf8'), source));
  }
  return patterns.length === 0 ? undefined : { base, patterns };
}

/** The state at the top of a work tree: its info/exclude, then its own ignore files. */
function topOf(dir: string, relative: string, checkout: Checkout, info: string): IgnoreState {
  const patterns = parseIgnoreFile(info, 'git');
  const levels: IgnoreLevel[] = patterns.length > 0 ? [{ base: '', patterns }] : [];
  const own = levelOf(dir, relative, '');
  return { levels: own ? [own, ...levels] : levels, trackedOnly: false, checkout };
}

/** A directory with a .git of its own inside the project: its own checkout, or refused. */
function nestedCheckout(
  dir: string,
  relative: string,
  parent: IgnoreState,
): IgnoreState | undefined {
  if (lstatIfPresent(join(dir, relative, '.git')) === undefined) {
    if (parent.checkout.gitlinks.has(relative))
      throw new SvcError(
        `${shownText(relative)}: a git submodule that is not checked out (no .git in it); run \`git submodule update --init\`, or list it in .svcignore`,
      );
    return undefined;
  }
  const git = readGitCheckout(join(dir, relative))!;
  if (git.prefix !== '')
    throw new SvcError(
      `${shownText(relative)}/.git: git does not take it for a checkout (it says this is ${shownText(git.prefix)} in ${shownText(git.topLevel)}); remove it, or list ${shownText(relative)} in .svcignore`,
    );
  return topOf(dir, relative, checkoutAt(relative, git), git.infoExclude);
}

/** A .gitignore above the project; refused by name (absolute) if not a regular file. */
function gitignoreAbove(topLevel: string, relative: string): IgnorePattern[] | undefined {
  const path = join(topLevel, relative, '.gitignore');
  const text = readOptionalProjectFile(path, path);
  return text === undefined ? undefined : parseIgnoreFile(text.toString('utf8'), 'git');
}

/** The release's rules for the project in `dir`. */
export function releaseRules(dir: string): WalkRules<IgnoreState> {
  const git = readGitCheckout(dir);
  const checkout = checkoutAt('', git);
  const above = git
    ? rulesAbove(git.prefix, parseIgnoreFile(git.infoExclude, 'git'), (relative) =>
        gitignoreAbove(git.topLevel, relative),
      )
    : { levels: [], excluded: false };
  return {
    root: { levels: above.levels, trackedOnly: above.excluded, checkout },
    enter(relative, parent) {
      const nested = relative === '' ? undefined : nestedCheckout(dir, relative, parent);
      if (nested !== undefined) return nested;
      const path = inCheckout(parent.checkout, relative);
      const own = levelOf(dir, relative, path);
      // The directory's own file comes first (deepest); info/exclude stays last.
      return {
        levels: own ? [own, ...parent.levels] : parent.levels,
        trackedOnly:
          parent.trackedOnly ||
          (relative !== '' && verdictOf(parent.levels, path, true) !== 'included'),
        checkout: parent.checkout,
      };
    },
    decide(relative, isDir, state) {
      if (alwaysIgnored(relative)) return 'skip';
      const { checkout } = state;
      const verdict = verdictOf(state.levels, inCheckout(checkout, relative), isDir);
      if (verdict === 'excluded by svc') return 'skip';
      if (isDir) {
        // Under a directory git excludes, only what leads to a tracked path: an untracked nested
        // checkout there is not there for git either.
        if (verdict === 'included' && !state.trackedOnly) return 'take';
        return checkout.trackedDirs.has(relative) || checkout.gitlinks.has(relative)
          ? 'take'
          : 'skip';
      }
      if (verdict === 'included' && !state.trackedOnly) return 'take';
      return checkout.tracked.has(relative) ? 'take' : 'skip';
    },
  };
}
