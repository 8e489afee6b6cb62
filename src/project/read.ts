// Reads a project from disk: svc.yaml, the config/ overlay and the files of a release. Only
// regular files are taken; a link, device or FIFO in the project is refused by name, since
// following it could ship (or overlay) something from outside the project, and reading a FIFO
// would wait forever. A name that is not UTF-8 or holds a control character is refused too: it
// would become a host path that no message, plan or script can show as it is.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import { MANIFEST_FILE, parseManifest } from '../core/manifest-file.js';
import type { Manifest } from '../core/manifest.js';
import { shownText } from '../core/naming.js';
import { sha256Hex, type LocalFile } from '../core/release.js';
import { CONTROL } from '../core/visible.js';
import { releaseRules, type WalkRules } from './release-rules.js';
import { describeOther, lstatIfPresent, readRegularFile } from './regular-file.js';

export { readOptionalProjectFile } from './regular-file.js';

export interface Project {
  dir: string;
  manifest: Manifest;
  /** config/** , paths relative to config/ */
  config: LocalFile[];
  /** everything else that ships: what git would track, less .svcignore (project/release-rules.ts) */
  release: LocalFile[];
}

/** Far beyond any svc.yaml (parseManifest allows 256 KiB): not worth reading to say so. */
const MAX_READ_MANIFEST_BYTES = 64 * 1024 * 1024;

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

export function readProject(dir: string): Project {
  const manifest = readManifestFile(dir);
  const release = walk(dir, '', releaseRules(dir));
  const configDir = join(dir, 'config');
  const stat = lstatIfPresent(configDir);
  if (stat !== undefined && !stat.isDirectory())
    throw new SvcError(`config: ${describeOther(configDir, stat)}; config/ must be a directory`);
  const config = stat === undefined ? [] : walk(configDir, 'config/', TAKE_ALL);
  return { dir, manifest, config, release };
}
