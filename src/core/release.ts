// A release is the project's files (without config/, which is laid over / separately). Its ID
// comes from what is installed, so the same content deployed twice is the same release, and a
// file whose installed mode changes makes a new one.
import { createHash } from 'node:crypto';
import type { TarEntry } from './tar.js';

export interface LocalFile {
  /** Relative to the project root, '/'-separated. */
  path: string;
  /** As found on disk (setuid and all): installedMode() says what the host gets. */
  mode: number;
  content: Uint8Array;
  sha256: string;
}

export function sha256Hex(content: Uint8Array | string): string {
  return createHash('sha256').update(content).digest('hex');
}

/**
 * The mode a project file is installed with: 0755 when any execute bit is set, else 0644. What
 * a checkout or an unzip left behind (0666, 0777, a setuid bit) never reaches a host; a file
 * that must be something else says so in svc.yaml `files:` (overlay files only).
 */
export function installedMode(mode: number): number {
  return mode & 0o111 ? 0o755 : 0o644;
}

/**
 * 12 hex digits of a hash over every file's path, installed mode and content. "release 2" is
 * the shape of what is hashed: releases svc made before modes were normalised hashed only the
 * executable bit, and a host may hold one of those with the modes its files had; the same
 * content now is a new release, installed with normal modes.
 */
export function releaseId(files: readonly LocalFile[]): string {
  const hash = createHash('sha256').update('svc release 2\n');
  for (const file of [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0))) {
    hash.update(`${file.path}\0${installedMode(file.mode).toString(8)}\0${file.sha256}\n`);
  }
  return hash.digest('hex').slice(0, 12);
}

/** What the release's files travel as: installed modes, whatever the disk said. */
export function releaseEntries(files: readonly LocalFile[]): TarEntry[] {
  return files.map((file) => ({
    path: file.path,
    mode: installedMode(file.mode),
    content: file.content,
  }));
}
