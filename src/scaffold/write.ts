// Puts a rendered project on disk, all or nothing. A new or empty target is built in a staging
// directory beside it and renamed into place in one step; with --force into a non-empty target,
// each file is written to a temporary name in its own directory and renamed over the old one.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { InterruptedError, SvcError } from '../core/errors.js';
import type { RenderedFile } from './render.js';

export type TargetState = 'absent' | 'empty' | 'non-empty';

export function targetState(dir: string): TargetState {
  let entries: string[];
  try {
    if (!statSync(dir).isDirectory()) throw new SvcError(`${dir}: exists and is not a directory`);
    entries = readdirSync(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'absent';
    if (error instanceof SvcError) throw error;
    throw new SvcError(`${dir}: ${(error as Error).message}`);
  }
  return entries.length === 0 ? 'empty' : 'non-empty';
}

export function checkTarget(dir: string, force: boolean): TargetState {
  const state = targetState(dir);
  if (state === 'non-empty' && !force) {
    throw new SvcError(`${dir}: directory is not empty; pass --force to write into it`);
  }
  return state;
}

/** .svc/ holds local secrets: its directories are the user's alone. */
function dirMode(path: string): number {
  return path.startsWith('.svc/') ? 0o700 : 0o755;
}

function writeFiles(root: string, files: readonly RenderedFile[]): void {
  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: dirMode(file.path) });
    writeFileSync(path, file.content, { mode: file.mode });
    chmodSync(path, file.mode); // the umask may have narrowed it
  }
}

function writeInPlace(root: string, files: readonly RenderedFile[]): void {
  for (const file of files) {
    const path = join(root, file.path);
    mkdirSync(dirname(path), { recursive: true, mode: dirMode(file.path) });
    const temporary = join(dirname(path), `.${basename(path)}.svc-new-${process.pid}`);
    writeFileSync(temporary, file.content, { mode: file.mode });
    chmodSync(temporary, file.mode);
    renameSync(temporary, path);
  }
}

/**
 * Writes every file under dir. SIGINT while writing is held until the files are staged, then
 * the staging directory is removed and InterruptedError thrown: never a half-made project.
 */
export function writeProject(
  dir: string,
  files: readonly RenderedFile[],
  state: TargetState,
): void {
  let interrupted = false;
  const hold = () => {
    interrupted = true;
  };
  process.on('SIGINT', hold);
  try {
    if (state === 'non-empty') {
      writeInPlace(dir, files);
      return;
    }
    mkdirSync(dirname(dir), { recursive: true });
    const staging = mkdtempSync(join(dirname(dir), `.${basename(dir)}.svc-new-`));
    try {
      writeFiles(staging, files);
      chmodSync(staging, 0o755);
      if (interrupted) throw new InterruptedError();
      renameSync(staging, dir); // replaces an empty directory atomically
    } catch (error) {
      rmSync(staging, { recursive: true, force: true });
      throw error;
    }
  } finally {
    process.off('SIGINT', hold);
  }
}
