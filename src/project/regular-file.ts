// Project files are read as regular files only: a link could reach outside the project, and
// reading a FIFO would wait forever. Each refusal names the file.
import { lstatSync, readFileSync, readlinkSync, type Stats } from 'node:fs';
import { SvcError } from '../core/errors.js';
import { shownText } from '../core/naming.js';

/** What a non-regular file is, for the message that refuses it. */
export function describeOther(path: string, stat: Stats): string {
  if (stat.isSymbolicLink()) return `a symbolic link (to ${shownText(readlinkSync(path))})`;
  if (stat.isDirectory()) return 'a directory';
  return 'not a regular file';
}

/** lstat, or undefined when nothing is there. */
export function lstatIfPresent(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SvcError(`${path}: ${(error as Error).message}`);
  }
}

/** A regular file's bytes; `shown` names it in errors. Never follows a link, never opens a FIFO. */
export function readRegularFile(path: string, shown: string, stat: Stats): Buffer {
  if (!stat.isFile())
    throw new SvcError(`${shown}: ${describeOther(path, stat)}; svc reads regular files only`);
  return readFileSync(path);
}

/** A project file that may be absent (undefined); if present, a regular file or an error. */
export function readOptionalProjectFile(path: string, shown: string): Buffer | undefined {
  const stat = lstatIfPresent(path);
  return stat === undefined ? undefined : readRegularFile(path, shown, stat);
}

const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * A file's bytes as text for a merge, refused unless they are UTF-8: decoding other bytes would
 * put U+FFFD in their place, and a merge would write that back over the user's own bytes.
 */
export function utf8Text(bytes: Buffer, shown: string): string {
  try {
    return UTF8.decode(bytes);
  } catch {
    throw new SvcError(
      `${shown}: not UTF-8 text; svc update merges text only (convert it to UTF-8, commit, and run it again)`,
    );
  }
}
