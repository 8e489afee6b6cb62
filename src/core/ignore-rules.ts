// What ships in a release: git's ignore rules, as git applies them (dir.c), plus .svcignore.
// Pure: the ignore files arrive as text, the walk (project/release-rules.ts) asks about one path
// at a time. Paths and bases here are relative to the top of the work tree the rules belong to
// (the project's own directory when it is not a git checkout).
//
// git's precedence, which this follows: the .gitignore files of the path's directories, deepest
// first, then .git/info/exclude; the first file with a matching pattern decides, and within a
// file the last matching pattern does. A directory that is excluded is not entered, so nothing
// under it can be re-included. svc adds .svcignore: read like a .gitignore of its directory and
// placed after that directory's .gitignore (so a .svcignore can exclude, or re-include, what the
// .gitignore beside it says). A file git tracks ships whatever .gitignore says (git keeps
// tracking it), unless a .svcignore pattern is what excludes it.
import { wildmatch } from './wildmatch.js';

export type IgnoreSource = 'git' | 'svc';

export interface IgnorePattern {
  /** Without the leading '!' and the trailing '/'. */
  pattern: string;
  negative: boolean;
  /** Trailing '/': matches directories only. */
  dirOnly: boolean;
  /** No '/' in it (but the trailing one): matched against the last path component. */
  basename: boolean;
  source: IgnoreSource;
}

export interface IgnoreLevel {
  /** The directory the file sits in, relative to the top of the work tree: '' or 'a/b'. */
  base: string;
  /** This directory's .gitignore patterns, then its .svcignore ones. */
  patterns: IgnorePattern[];
}

/** git's trim_trailing_spaces: trailing spaces go, unless the last one is quoted with '\'. */
function trimTrailingSpaces(line: string): string {
  let lastSpace = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === ' ') {
      if (lastSpace === -1) lastSpace = i;
    } else if (c === '\\') {
      i++;
      if (i >= line.length) return line;
      lastSpace = -1;
    } else {
      lastSpace = -1;
    }
  }
  return lastSpace === -1 ? line : line.slice(0, lastSpace);
}

/** One ignore file's patterns, as git reads a .gitignore (comments, blank lines, CRLF, BOM). */
export function parseIgnoreFile(text: string, source: IgnoreSource): IgnorePattern[] {
  const patterns: IgnorePattern[] = [];
  const body = text.startsWith('\uFEFF') ? text.slice(1) : text;
  for (const raw of body.split('\n')) {
    if (raw === '' || raw.startsWith('#')) continue;
    let line = trimTrailingSpaces(raw.endsWith('\r') ? raw.slice(0, -1) : raw);
    const negative = line.startsWith('!');
    if (negative) line = line.slice(1);
    const dirOnly = line.endsWith('/');
    if (dirOnly) line = line.slice(0, -1);
    if (line === '') continue;
    patterns.push({ pattern: line, negative, dirOnly, basename: !line.includes('/'), source });
  }
  return patterns;
}

/** git's match_pathname / match_basename for one pattern of a file in `base`. */
function matches(rule: IgnorePattern, base: string, path: string, isDir: boolean): boolean {
  if (rule.dirOnly && !isDir) return false;
  if (rule.basename) return wildmatch(rule.pattern, path.slice(path.lastIndexOf('/') + 1), false);
  if (base !== '' && !path.startsWith(`${base}/`)) return false;
  const name = base === '' ? path : path.slice(base.length + 1);
  const pattern = rule.pattern.startsWith('/') ? rule.pattern.slice(1) : rule.pattern;
  // dir.c's match_pathname compares the text before the first wildcard as text and wildmatches
  // only the rest, where a `**` that followed that text stands at the start: git's `a**/c`
  // matches `ab/x/c`, as the whole pattern would not.
  const wild = pattern.search(/[*?[\\]/);
  const prefix = wild === -1 ? pattern.length : wild;
  if (name.slice(0, prefix) !== pattern.slice(0, prefix)) return false;
  return wildmatch(pattern.slice(prefix), name.slice(prefix), true);
}

/** The pattern that decides for `path`, if any: the last match in the first level that has one. */
function deciding(
  levels: readonly IgnoreLevel[],
  path: string,
  isDir: boolean,
): IgnorePattern | undefined {
  for (const level of levels) {
    for (let i = level.patterns.length - 1; i >= 0; i--) {
      const rule = level.patterns[i]!;
      if (matches(rule, level.base, path, isDir)) return rule;
    }
  }
  return undefined;
}

export type Verdict = 'included' | 'excluded by git' | 'excluded by svc';

/**
 * Whether `path` is excluded. `levels` are the ignore files that apply: those of the path's own
 * directories, deepest first, then .git/info/exclude (with base '').
 */
export function verdictOf(levels: readonly IgnoreLevel[], path: string, isDir: boolean): Verdict {
  const rule = deciding(levels, path, isDir);
  if (rule === undefined || rule.negative) return 'included';
  return rule.source === 'svc' ? 'excluded by svc' : 'excluded by git';
}

/**
 * The rules in force at a project that sits `prefix` below the top of its work tree (like
 * 'services/api/'), as git builds them when run there (dir.c prep_exclude): info/exclude, then
 * the .gitignore of each directory from the top down to the project's parent, each read only if
 * the directory itself is not excluded by the rules above it. Once one is (or the project
 * directory itself is), nothing untracked below it is there for git: `excluded`. `gitignoreOf`
 * gives a directory's .gitignore patterns. A .svcignore above the project is not asked for: it
 * belongs to another project, or to none.
 */
export function rulesAbove(
  prefix: string,
  infoExclude: IgnorePattern[],
  gitignoreOf: (dir: string) => IgnorePattern[] | undefined,
): { levels: IgnoreLevel[]; excluded: boolean } {
  let levels: IgnoreLevel[] = infoExclude.length > 0 ? [{ base: '', patterns: infoExclude }] : [];
  const parts = prefix.split('/').filter((part) => part !== '');
  for (let depth = 0; depth <= parts.length; depth++) {
    const dir = parts.slice(0, depth).join('/');
    if (dir !== '' && verdictOf(levels, dir, true) !== 'included')
      return { levels, excluded: true };
    // The project's own .gitignore is the walk's to read, with its .svcignore.
    if (depth === parts.length) break;
    const own = gitignoreOf(dir);
    if (own !== undefined && own.length > 0) levels = [{ base: dir, patterns: own }, ...levels];
  }
  return { levels, excluded: false };
}

/** Never shipped, whatever the ignore files say: git's own data, svc's local state, the overlay. */
export function alwaysIgnored(path: string): boolean {
  return path === '.svc' || path === 'config' || path === '.git' || path.endsWith('/.git');
}
