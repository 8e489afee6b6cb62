// Reads a project from disk: svc.yaml, the config/ overlay and the files of a release. Only
// regular files are taken; a link, device or FIFO in the project is refused by name, since
// following it could ship (or overlay) something from outside the project, and reading a FIFO
// would wait forever. A name that is not UTF-8 or holds a control character is refused too: it
// would become a host path that no message, plan or script can show as it is.
import { lstatSync, readdirSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { SvcError } from '../core/errors.js';
import { MANIFEST_FILE, parseManifest } from '../core/manifest-file.js';
import type { Manifest } from '../core/manifest.js';
import { shownText } from '../core/naming.js';
import { sha256Hex, type LocalFile } from '../core/release.js';

export interface Project {
  dir: string;
  manifest: Manifest;
  /** config/** , paths relative to config/ */
  config: LocalFile[];
  /** everything else that ships, honouring .gitignore and .svcignore */
  release: LocalFile[];
}

/** Never shipped, whatever the ignore files say: VCS data, svc's local state, the overlay. */
const ALWAYS_IGNORED = ['.git/', '.svc/', 'config/'];
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

function loadIgnores(dir: string): Ignore {
  const rules = ignore().add(ALWAYS_IGNORED);
  for (const name of ['.gitignore', '.svcignore']) {
    const stat = lstatIfPresent(join(dir, name));
    if (stat !== undefined) rules.add(readRegularFile(join(dir, name), name, stat).toString());
  }
  return rules;
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

/**
 * Regular files under root, relative paths, skipping what `skip` says (dirs end in '/'). What is
 * skipped is never looked at: an ignored node_modules may hold names svc would refuse.
 */
function walk(root: string, shownAs: string, skip: (relative: string) => boolean): LocalFile[] {
  const files: LocalFile[] = [];
  const refuse = (child: string, why: string): never => {
    throw new SvcError(`${shownText(`${shownAs}${child}`)}: ${why}`);
  };
  const visit = (relative: string) => {
    for (const entry of entries(relative === '' ? root : join(root, relative))) {
      const child = relative === '' ? entry.name : `${relative}/${entry.name}`;
      const stat = lstatSync(entry.path);
      if (skip(stat.isDirectory() ? `${child}/` : child)) continue;
      if (entry.badName !== undefined) refuse(child, entry.badName);
      if (stat.isDirectory()) {
        visit(child);
      } else if (stat.isFile()) {
        const content = readFileSync(entry.path);
        files.push({ path: child, mode: stat.mode & 0o7777, content, sha256: sha256Hex(content) });
      } else {
        refuse(
          child,
          `${describeOther(entry.path.toString(), stat)}; svc ships regular files only`,
        );
      }
    }
  };
  visit('');
  return files;
}

export function readProject(dir: string): Project {
  const manifest = readManifestFile(dir);
  const rules = loadIgnores(dir);
  const release = walk(dir, '', (relative) => rules.ignores(relative));
  const configDir = join(dir, 'config');
  const stat = lstatIfPresent(configDir);
  if (stat !== undefined && !stat.isDirectory())
    throw new SvcError(`config: ${describeOther(configDir, stat)}; config/ must be a directory`);
  const config = stat === undefined ? [] : walk(configDir, 'config/', () => false);
  return { dir, manifest, config, release };
}
