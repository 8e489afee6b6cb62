// Reads a project from disk: svc.yaml, the config/ overlay and the files of a release. Only
// regular files are taken; a link, device or FIFO in the project is refused by name, since
// following it could ship (or overlay) something from outside the project.
import { lstatSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import ignore, { type Ignore } from 'ignore';
import { SvcError } from '../core/errors.js';
import { MANIFEST_FILE, parseManifest } from '../core/manifest-file.js';
import type { Manifest } from '../core/manifest.js';
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

export function readManifestFile(dir: string): Manifest {
  const file = join(dir, MANIFEST_FILE);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new SvcError(`no ${MANIFEST_FILE} in ${dir}: run svc in a project made by svc new`);
    }
    throw new SvcError(`${file}: ${(error as Error).message}`);
  }
  return parseManifest(bytes, MANIFEST_FILE);
}

/** svc.yaml when the directory has one; commands such as `svc hosts` also work outside a project. */
export function readManifestIfPresent(dir: string): Manifest | undefined {
  try {
    lstatSync(join(dir, MANIFEST_FILE));
  } catch {
    return undefined;
  }
  return readManifestFile(dir);
}

function loadIgnores(dir: string): Ignore {
  const rules = ignore().add(ALWAYS_IGNORED);
  for (const name of ['.gitignore', '.svcignore']) {
    try {
      rules.add(readFileSync(join(dir, name), 'utf8'));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return rules;
}

/** Regular files under root, relative paths, skipping what `skip` says (dirs end in '/'). */
function walk(root: string, shownAs: string, skip: (relative: string) => boolean): LocalFile[] {
  const files: LocalFile[] = [];
  const visit = (relative: string) => {
    const absolute = relative === '' ? root : join(root, relative);
    for (const name of readdirSync(absolute).sort()) {
      const child = relative === '' ? name : `${relative}/${name}`;
      const stat = lstatSync(join(root, child));
      if (stat.isDirectory()) {
        if (!skip(`${child}/`)) visit(child);
      } else if (skip(child)) {
        continue;
      } else if (stat.isFile()) {
        const content = readFileSync(join(root, child));
        files.push({ path: child, mode: stat.mode & 0o7777, content, sha256: sha256Hex(content) });
      } else {
        const what = stat.isSymbolicLink() ? 'a symbolic link' : 'not a regular file';
        throw new SvcError(`${shownAs}${child}: ${what}; svc ships regular files only`);
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
  let config: LocalFile[] = [];
  const configDir = join(dir, 'config');
  try {
    if (lstatSync(configDir).isDirectory()) config = walk(configDir, 'config/', () => false);
    else throw new SvcError('config: not a directory');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  return { dir, manifest, config, release };
}
