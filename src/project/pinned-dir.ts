// A project's directories held open while svc update reads and writes them, so that a directory
// checked once is the directory written to, even if someone swaps it for a link in between (a
// project in a directory another user can write, or one a script is still changing). Node has no
// openat/renameat, but on Linux /proc/self/fd/N/NAME names NAME inside the directory fd N holds:
// the kernel resolves it from that open directory, never from the path it was opened by. Each
// directory is opened one component at a time with O_NOFOLLOW, so a link anywhere on the way is
// refused when it is met. Where /proc/self/fd is missing (not Linux) paths are used as they are.
import {
  closeSync,
  constants,
  existsSync,
  fstatSync,
  lstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
} from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import { shownText } from '../core/naming.js';

const { O_RDONLY, O_DIRECTORY, O_NOFOLLOW, O_NONBLOCK } = constants;
const FD_DIR = '/proc/self/fd';

const code = (error: unknown) => (error as NodeJS.ErrnoException).code;

/** The refusal of a link on the way to `path` (the same words as refuseLinkedParents). */
export const linkedParent = (prefix: string, path: string) =>
  new SvcError(
    `${prefix}: a symbolic link; svc update reads and writes ${path} only through the project's own directories`,
  );

/** What svc update says of a file it would merge that is a link: what it is, and what to do. */
export function linkedFile(shown: string, target: string): SvcError {
  return new SvcError(
    `${shown}: a symbolic link (to ${shownText(target)}); svc update merges regular files only, never through a link: replace it with a copy of what it points to (cp --remove-destination -- "$(readlink -f ${shown})" ${shown}) or delete it (it then stays deleted), commit, and run svc update again`,
  );
}

export class PinnedProject {
  private readonly pinned = existsSync(FD_DIR);
  private readonly fds = new Map<string, number>();

  constructor(private readonly root: string) {}

  /**
   * The name through which `name` inside the project directory `rel` ('' for the top, '/'-
   * separated) is reached: /proc/self/fd/N/NAME. Undefined when a directory on the way is absent
   * and `make` (the mode of those svc makes) is not given. `path` names the file it is for in
   * the refusal of a link.
   */
  at(rel: string, name: string, path: string, make?: number): string | undefined {
    const dir = this.directory(rel, path, make);
    return dir === undefined ? undefined : `${dir}/${name}`;
  }

  /**
   * A file's bytes, read through the pinned directory with O_NOFOLLOW (a link is refused with
   * linkedFile, whenever it became one) and O_NONBLOCK (a FIFO is not waited on); undefined when
   * the file or its directory is absent.
   */
  read(path: string): Buffer | undefined {
    const slash = path.lastIndexOf('/');
    const at = this.at(path.slice(0, Math.max(slash, 0)), path.slice(slash + 1), path);
    if (at === undefined) return undefined;
    let fd: number;
    try {
      fd = openSync(at, O_RDONLY | O_NOFOLLOW | O_NONBLOCK);
    } catch (error) {
      if (code(error) === 'ENOENT') return undefined;
      if (code(error) === 'ELOOP') throw linkedFile(shownText(path), readlinkOf(at));
      throw new SvcError(`${shownText(path)}: ${(error as Error).message}`);
    }
    try {
      const stat = fstatSync(fd);
      if (!stat.isFile())
        throw new SvcError(
          `${shownText(path)}: ${stat.isDirectory() ? 'a directory' : 'not a regular file'}; svc reads regular files only`,
        );
      return readFileSync(fd);
    } finally {
      closeSync(fd);
    }
  }

  /** Lets go of every directory held. */
  close(): void {
    for (const fd of this.fds.values()) closeSync(fd);
    this.fds.clear();
  }

  /** The directory `rel` itself, as at() reaches it (/proc/self/fd/N). */
  directory(rel: string, path: string, make?: number): string | undefined {
    if (!this.pinned) {
      const full = join(this.root, rel);
      if (make !== undefined) mkdirSync(full, { recursive: true, mode: make });
      return existsSync(full) ? full : undefined;
    }
    const held = this.fds.get(rel);
    if (held !== undefined) return `${FD_DIR}/${held}`;
    let fd: number;
    if (rel === '') {
      try {
        fd = openSync(this.root, O_RDONLY | O_DIRECTORY);
      } catch (error) {
        if (code(error) === 'ENOENT' || code(error) === 'ENOTDIR') return undefined;
        throw new SvcError(`${this.root}: ${(error as Error).message}`);
      }
    } else {
      const slash = rel.lastIndexOf('/');
      const parent = this.directory(rel.slice(0, Math.max(slash, 0)), path, make);
      if (parent === undefined) return undefined;
      const opened = openDir(`${parent}/${rel.slice(slash + 1)}`, rel, path, make);
      if (opened === undefined) return undefined;
      fd = opened;
    }
    this.fds.set(rel, fd);
    return `${FD_DIR}/${fd}`;
  }
}

function readlinkOf(at: string): string {
  try {
    return readlinkSync(at);
  } catch {
    return '?';
  }
}

/** One directory, never through a link; made (with `make`) when absent. */
function openDir(at: string, rel: string, path: string, make?: number): number | undefined {
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      return openSync(at, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
    } catch (error) {
      if (code(error) === 'ELOOP') throw linkedParent(rel, path);
      if (code(error) === 'ENOTDIR') {
        if (lstatSync(at).isSymbolicLink()) throw linkedParent(rel, path);
        throw new SvcError(`${rel}: not a directory; svc update cannot write ${path} below it`);
      }
      if (code(error) !== 'ENOENT') throw new SvcError(`${rel}: ${(error as Error).message}`);
      if (make === undefined) return undefined;
      try {
        mkdirSync(at, { mode: make });
      } catch (made) {
        // Made meanwhile by someone else: opened (and checked) as found, on the next turn.
        if (code(made) !== 'EEXIST') throw new SvcError(`${rel}: ${(made as Error).message}`);
      }
    }
  }
  throw new SvcError(`${rel}: changed while svc update made it; run svc update again`);
}
