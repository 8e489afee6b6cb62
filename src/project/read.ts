// Reads a project from disk: svc.yaml, the config/ overlay and the files of a release. Only
// regular files are taken; a link, device or FIFO in the project is refused by name, since
// following it could ship (or overlay) something from outside the project, and reading a FIFO
// would wait forever. A name that is not UTF-8 or holds a control character is refused too: it
// would become a host path that no message, plan or script can show as it is.
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import {
  alwaysIgnored,
  parseIgnoreFile,
  verdictOf,
  type IgnoreLevel,
  type IgnorePattern,
} from '../core/ignore-rules.js';
import { MANIFEST_FILE, parseManifest } from '../core/manifest-file.js';
import type { Manifest } from '../core/manifest.js';
import { shownText } from '../core/naming.js';
import { sha256Hex, type LocalFile } from '../core/release.js';
import { readGitCheckout, type GitCheckout } from './git-checkout.js';

export interface Project {
  dir: string;
  manifest: Manifest;
  /** config/** , paths relative to config/ */
  config: LocalFile[];
  /** everything else that ships: what git would track (core/ignore-rules.ts), and .svcignore */
  release: LocalFile[];
}

/** Far beyond any svc.yaml (parseManifest allows 256 KiB): not worth reading to say so. */
const MAX_READ_MANIFEST_BYTES = 64 * 1024 * 1024;
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** What a non-regular file is, for the message that refuses it. */
function describeOther(path: string, stat: Stats): string {
  if (stat.isSymbolicLink()) return `a symbolic link (to ${shownText(readlinkSync(path))})`;
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** lstat, or undefined when nothing is there. */
function lstatIfPresent(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SvcError(`${path}: ${(error as Error).message}`);
  }
}

/** A regular file's bytes; `shown` names it in errors. Never follows a link, never opens a FIFO. */
function readRegularFile(path: string, shown: string, stat: Stats): Buffer {
  if (!stat.isFile())
    throw new SvcError(`${shown}: ${describeOther(path, stat)}; svc reads regular files only`);
  return readFileSync(path);
}

/** A project file that may be absent (undefined); if present, a regular file or an error. */
export function readOptionalProjectFile(path: string, shown: string): Buffer | undefined {
  const stat = lstatIfPresent(path);
  return stat === undefined ? undefined : readRegularFile(path, shown, stat);
}

export function readManifestFile(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  const stat = lstatIfPresent(file);
  if (stat === undefined)
    throw new SvcError(`no ${MANIFEST_FILE} in ${dir}: run svc in a project made by svc new`);
  if (stat.isFile() && stat.size > MAX_READ_MANIFEST_BYTES)
    throw new SvcError(`${MANIFEST_FILE}: ${stat.size} bytes; is this the right file?`);
  return parseManifest(readRegularFile(file, MANIFEST_FILE, stat), MANIFEST_FILE);
}

/** svc.yaml when the directory has one; commands such as `svc hosts` also work outside a project. */
export function readManifestIfPresent(dir: string): Manifest | undefined {
  if (lstatIfPresent(join(dir, MANIFEST_FILE)) === undefined) return undefined;
  return readManifestFile(dir);
}

interface Entry {
  name: string;
  /** The exact bytes of its path: a name that is not UTF-8 has no string of its own. */
  path: Buffer;
  /** Why svc cannot take it, if it is not ignored. */
  badName?: string;
}

/** A directory's entries, in order, each with what is wrong with its name, if anything. */
function entries(absolute: string): Entry[] {
  const strict = new TextDecoder('utf-8', { fatal: true });
  return readdirSync(absolute, { encoding: 'buffer' })
    .map((raw): Entry => {
      const path = Buffer.concat([Buffer.from(`${absolute}/`), raw]);
      try {
        const name = strict.decode(raw);
        return CONTROL.test(name)
          ? { name, path, badName: 'a file name with a control character; rename it' }
          : { name, path };
      } catch {
        const name = new TextDecoder().decode(raw);
        return { name, path, badName: 'a file name that is not valid UTF-8; rename it' };
      }
    })
    .sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a walk takes: `decide` is asked about every entry, with the state of its directory. */
interface WalkRules<S> {
  root: S;
  /** The state for a directory's entries, once it is entered. */
  enter(relative: string, parent: S): S;
  /** Skip it, or take it (a directory: enter it with `state`). */
  decide(relative: string, isDir: boolean, state: S): 'skip' | 'take';
}

const TAKE_ALL: WalkRules<null> = { root: null, enter: () => null, decide: () => 'take' };

/**
 * Regular files under root, relative paths, as `rules` decide. What is skipped is never looked
 * at: an ignored node_modules may hold names svc would refuse.
 */
function walk<S>(root: string, shownAs: string, rules: WalkRules<S>): LocalFile[] {
  const files: LocalFile[] = [];
  const refuse = (child: string, why: string): never => {
    throw new SvcError(`${shownText(`${shownAs}${child}`)}: ${why}`);
  };
  const visit = (relative: string, state: S) => {
    for (const entry of entries(relative === '' ? root : join(root, relative))) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const stat = lstatSync(entry.path);
      if (rules.decide(child, stat.isDirectory(), state) === 'skip') continue;
      if (entry.badName !== undefined) refuse(child, entry.badName);
      if (stat.isDirectory()) {
        visit(child, rules.enter(child, state));
      } else if (stat.isFile()) {
        files.push({ path: child, mode: stat.mode & 0o7777, ...readContent(entry.path, child) });
      } else {
        refuse(
          child,
          `${describeOther(entry.path.toString(), stat)}; svc ships regular files only`,
        );
      }
    }
  };
  visit('', rules.enter('', rules.root));
  return files;
}

/** A file's bytes; one that Node cannot hold (over 2 GiB) is refused by name, at plan time. */
function readContent(path: Buffer, shown: string): { content: Buffer; sha256: string } {
  try {
    const content = readFileSync(path);
    return { content, sha256: sha256Hex(content) };
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ERR_FS_FILE_TOO_LARGE')
      throw new SvcError(`${shownText(shown)}: over 2 GiB; svc ships files it can hold in memory`);
    throw new SvcError(`${shownText(shown)}: ${(error as Error).message}`);
  }
}

/** The ignore rules that apply in a directory, and whether only tracked files ship there. */
interface IgnoreState {
  levels: IgnoreLevel[];
  /** Inside a directory git excludes: only what git tracks is there for git. */
  trackedOnly: boolean;
}

/** A directory's own .gitignore then .svcignore; refused by name if not a regular file. */
function levelOf(dir: string, relative: string): IgnoreLevel | undefined {
  const patterns: IgnorePattern[] = [];
  for (const [name, source] of [
    ['.gitignore', 'git'],
    ['.svcignore', 'svc'],
  ] as const) {
    const shown = relative === '' ? name : `${relative}/${name}`;
    const text = readOptionalProjectFile(join(dir, relative, name), shown);
    if (text !== undefined) patterns.push(...parseIgnoreFile(text.toString('utf8'), source));
  }
  return patterns.length === 0 ? undefined : { base: relative, patterns };
}

/** The release's rules: git's (with what it tracks), .svcignore, and what never ships. */
function releaseRules(dir: string, git: GitCheckout | undefined): WalkRules<IgnoreState> {
  const infoExclude: IgnoreLevel[] = git
    ? [{ base: '', patterns: parseIgnoreFile(git.infoExclude, 'git') }]
    : [];
  const tracked = git?.tracked ?? new Set<string>();
  const trackedDirs = new Set(
    [...tracked].flatMap((path) =>
      path
        .split('/')
        .slice(0, -1)
        .map((_, i, parts) => parts.slice(0, i + 1).join('/')),
    ),
  );
  return {
    root: { levels: infoExclude, trackedOnly: false },
    enter(relative, parent) {
      const own = levelOf(dir, relative);
      // The directory's own file comes first (deepest); info/exclude stays last.
      return {
        levels: own ? [own, ...parent.levels] : parent.levels,
        trackedOnly:
          parent.trackedOnly ||
          (relative !== '' && verdictOf(parent.levels, relative, true) !== 'included'),
      };
    },
    decide(relative, isDir, state) {
      if (alwaysIgnored(relative)) return 'skip';
      const verdict = verdictOf(state.levels, relative, isDir);
      if (verdict === 'excluded by svc') return 'skip';
      if (isDir) {
        if (verdict === 'included') return 'take';
        return trackedDirs.has(relative) ? 'take' : 'skip';
      }
      if (verdict === 'included' && !state.trackedOnly) return 'take';
      return tracked.has(relative) ? 'take' : 'skip';
    },
  };
}

export function readProject(dir: string): Project {
  const manifest = readManifestFile(dir);
  const release = walk(dir, '', releaseRules(dir, readGitCheckout(dir)));
  const configDir = join(dir, 'config');
  const stat = lstatIfPresent(configDir);
  if (stat !== undefined && !stat.isDirectory())
    throw new SvcError(`config: ${describeOther(configDir, stat)}; config/ must be a directory`);
  const config = stat === undefined ? [] : walk(configDir, 'config/', TAKE_ALL);
  return { dir, manifest, config, release };
}
