// A release is the project's files (without config/, which is laid over / separately). Its ID
// comes from the content, so the same content deployed twice is the same release.
import { createHash } from 'node:crypto';

export interface LocalFile {
  /** Relative to the project root, '/'-separated. */
  path: string;
  mode: number;
  content: Uint8Array;
  sha256: string;
}

export function sha256Hex(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/** 12 hex digits of a hash over every file's path, executable bit and content. */
export function releaseId(files: readonly LocalFile[]): string {
  const hash = createHash('sha256');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${file.mode & 0o111 ? 'x' : '-'}\0${file.sha256}\n`);
  }
  return hash.digest('hex').slice(0, 12);
}
