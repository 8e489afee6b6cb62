// Puts `svc update`'s result on disk, all or nothing, as `svc new` does (write.ts): every new text
// is first written to a temporary file beside its target and the new record to a staging
// directory; only when all of that is written are they renamed into place (and removed files
// deleted). SIGINT is held meanwhile: Ctrl-C while staging removes what was staged and leaves the
// project as it was; Ctrl-C while renaming waits for the renames, which take no time.
import {
  lstatSync,
  chmodSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { InterruptedError, SvcError } from '../core/errors.js';
import { RECORD_DIR } from '../core/scaffold-record.js';
import { PinnedProject } from '../project/pinned-dir.js';
import { lstatIfPresent } from '../project/regular-file.js';

/**
 * Refuses a path whose directories inside the project are not all real directories: a link there
 * (a cloned repository can hold one: `config/etc` -> /etc) would have svc, often root, write
 * outside the project.
 */
export function refuseLinkedParents(dir: string, path: string): void {
  const parts = path.split('/').slice(0, -1);
  for (let i = 1; i <= parts.length; i++) {
    const prefix = parts.slice(0, i).join('/');
    let isLink = false;
    try {
      isLink = lstatSync(join(dir, prefix)).isSymbolicLink();
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
      throw new SvcError(`${prefix}: ${(error as Error).message}`);
    }
    if (isLink)
      throw new SvcError(
        `${prefix}: a symbolic link; svc update reads and writes ${path} only through the project's own directories`,
      );
  }
}

export interface FileWrite {
  /** '/'-separated, relative to the project. */
  path: string;
  content: string;
  mode: number;
}

export interface UpdateWrites {
  writes: readonly FileWrite[];
  removes: readonly string[];
  /** The whole new record, paths relative to RECORD_DIR's parent's parent (the project). */
  record: readonly FileWrite[];
}

/** .svc/ holds local secrets: its directories are the user's alone (as write.ts). */
function dirMode(path: string): number {
  return path.startsWith('.svc/') ? 0o700 : 0o755;
}

function writeOne(path: string, file: FileWrite): void {
  // A temporary name is predictable: whatever is there (a leftover, a planted link) is removed,
  // and the file is created exclusively, so that no link is followed out of the project.
  rmSync(path, { force: true });
  writeFileSync(path, file.content, { mode: file.mode, flag: 'wx' });
  chmodSync(path, file.mode); // the umask may have narrowed it
}

/** A project path's directory and name ('' for the top). */
function split(path: string): [string, string] {
  const slash = path.lastIndexOf('/');
  return [path.slice(0, Math.max(slash, 0)), path.slice(slash + 1)];
}

export function writeUpdate(dir: string, update: UpdateWrites): void {
  // A rename cannot replace a directory: one at a target (FILE.rej, which svc never read) is
  // refused before anything is staged, not found half way through the renames.
  for (const file of update.writes)
    if (lstatIfPresent(join(dir, file.path))?.isDirectory())
      throw new SvcError(
        `${file.path}: a directory; svc update writes regular files only (move it away, then run it again)`,
      );
  let interrupted = false;
  const hold = () => {
    interrupted = true;
  };
  process.on('SIGINT', hold);
  // Every write, rename and removal goes through the directories as they were opened, one
  // component at a time without following a link (project/pinned-dir.ts): a directory swapped
  // for a link after svc update looked at it is refused, never written through.
  const project = new PinnedProject(dir);
  const staged: Array<{ temporary: string; target: string }> = [];
  let staging: string | undefined;
  try {
    try {
      for (const file of update.writes) {
        const [parent, name] = split(file.path);
        const target = project.at(parent, name, file.path, dirMode(file.path))!;
        const temporary = project.at(parent, `.${name}.svc-update-${process.pid}`, file.path)!;
        staged.push({ temporary, target });
        writeOne(temporary, file);
      }
      const [recordParent, recordName] = split(RECORD_DIR);
      const svcDir = project.directory(recordParent, RECORD_DIR, 0o700)!;
      staging = mkdtempSync(`${svcDir}/.${recordName}.svc-update-`);
      for (const file of update.record) {
        const inside = file.path.slice(RECORD_DIR.length + 1);
        const path = join(staging, inside);
        // Inside a directory just made, 0700: no one else has had a chance to plant anything.
        mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
        writeOne(path, file);
      }
      chmodSync(staging, 0o700);
      if (interrupted) throw new InterruptedError();
    } catch (error) {
      for (const { temporary } of staged) rmSync(temporary, { force: true });
      if (staging !== undefined) rmSync(staging, { recursive: true, force: true });
      throw error;
    }
    for (const { temporary, target } of staged) renameSync(temporary, target);
    for (const path of update.removes) {
      const [parent, name] = split(path);
      const at = project.at(parent, name, path);
      if (at !== undefined) rmSync(at, { force: true });
    }
    const [recordParent, recordName] = split(RECORD_DIR);
    const record = project.at(recordParent, recordName, RECORD_DIR)!;
    const old = `${staging}.old`;
    if (lstatIfPresent(record) !== undefined) renameSync(record, old);
    renameSync(staging, record);
    rmSync(old, { recursive: true, force: true });
  } finally {
    project.close();
    process.off('SIGINT', hold);
  }
}
