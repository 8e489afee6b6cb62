// A release's file list: what svc shipped in it (path, type, mode, size, sha256 per file). The
// apply script records it on the host in svc's root-only state (/var/lib/svc/NAME/releases/ID)
// when it makes the release, and the fact script sends back the live release's list, so a plan
// can say what a new release adds, changes and removes. It is display data: parsed strictly all
// the same, and a list that does not parse reads as "contents unknown", never as a guess.
import type { LocalFile } from './release.js';
import { installedMode } from './release.js';
import { CONTROL } from './visible.js';

export interface ReleaseFile {
  /** Relative to the release root, '/'-separated. */
  path: string;
  mode: number;
  size: number;
  sha256: string;
}

/** The first line of a recorded list: what it is and the format's version. */
export const RELEASE_FILES_HEADER = 'svc-release-files\t1';
/** A list larger than this is not read (4 MiB: some 30 000 files). */
export const MAX_RELEASE_FILES_BYTES = 4 * 1024 * 1024;

/** The fact script's `enc` rule: `=path` when plain, else the UTF-8 bytes in hex. */
const PLAIN = /^[A-Za-z0-9._/@:+,-]+$/;
const HEX = /^(?:[0-9a-f]{2})+$/;
const SHA256 = /^[0-9a-f]{64}$/;
const DECIMAL = /^(?:0|[1-9]\d{0,14})$/;
const MODE = /^0[0-7]{3}$/;

/** One path as a field of the list: no tab or newline can reach it, and awk compares it as is. */
export function encodeReleasePath(path: string): string {
  return PLAIN.test(path) ? `=${path}` : Buffer.from(path, 'utf8').toString('hex');
}

function decodeReleasePath(field: string): string | undefined {
  if (field.startsWith('=')) return PLAIN.test(field.slice(1)) ? field.slice(1) : undefined;
  if (!HEX.test(field)) return undefined;
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(field, 'hex'));
  } catch {
    return undefined;
  }
}

/**
 * A release path as svc ships one: relative, no empty, `.` or `..` part, no control character (C0,
 * DEL or C1: the names project/read.ts refuses).
 */
export function isReleasePath(path: string): boolean {
  if (path === '' || CONTROL.test(path)) return false;
  return path.split('/').every((part) => part !== '' && part !== '.' && part !== '..');
}

const byPath = (a: { path: string }, b: { path: string }) =>
  a.path < b.path ? -1 : a.path > b.path ? 1 : 0;

/** The list of a release made from these project files, in path order, with installed modes. */
export function releaseFilesOf(files: readonly LocalFile[]): ReleaseFile[] {
  return files
    .map((file) => ({
      path: file.path,
      mode: installedMode(file.mode),
      size: file.content.length,
      sha256: file.sha256,
    }))
    .sort(byPath);
}

/** A mode as the list and the plan write it: four octal digits (0644). */
export const octal = (mode: number) => mode.toString(8).padStart(4, '0');

/** The recorded form: the header, then `file TAB mode TAB size TAB sha256 TAB path` per file. */
export function releaseFilesText(files: readonly ReleaseFile[]): string {
  const lines = [...files]
    .sort(byPath)
    .map(
      (file) =>
        `file\t${octal(file.mode)}\t${file.size}\t${file.sha256}\t${encodeReleasePath(file.path)}`,
    );
  return `${[RELEASE_FILES_HEADER, ...lines].join('\n')}\n`;
}

export type ParsedReleaseFiles = { files: ReleaseFile[] } | { error: string };

/**
 * The recorded list, strictly: the header, five fields a line, every field in its shape, paths
 * in strictly ascending order (so no path twice), a final newline (else it was cut short).
 */
export function parseReleaseFiles(bytes: Uint8Array): ParsedReleaseFiles {
  if (bytes.length > MAX_RELEASE_FILES_BYTES)
    return { error: `larger than ${MAX_RELEASE_FILES_BYTES / 1024 / 1024} MiB` };
  const text = new TextDecoder('latin1').decode(bytes);
  if (/[^\t\n\u0020-\u007e]/.test(text)) return { error: 'not printable ASCII' };
  if (!text.endsWith('\n')) return { error: 'cut short (no final newline)' };
  const lines = text.slice(0, -1).split('\n');
  if (lines[0] !== RELEASE_FILES_HEADER) return { error: 'line 1: not an svc release file list' };
  const files: ReleaseFile[] = [];
  for (let index = 1; index < lines.length; index++) {
    const fail = (why: string) => ({ error: `line ${index + 1}: ${why}` });
    const fields = lines[index]!.split('\t');
    if (fields.length !== 5) return fail(`5 fields expected, got ${fields.length}`);
    const [type, mode, size, sha256, pathField] = fields as [string, ...string[]];
    if (type !== 'file') return fail(`unknown type ${JSON.stringify(type)}`);
    if (!MODE.test(mode!)) return fail('bad mode');
    if (!DECIMAL.test(size!)) return fail('bad size');
    if (!SHA256.test(sha256!)) return fail('bad sha256');
    const path = decodeReleasePath(pathField!);
    if (path === undefined || !isReleasePath(path)) return fail('bad path');
    const previous = files.at(-1);
    if (previous !== undefined && !(previous.path < path))
      return fail(`${path} is out of order or listed twice`);
    files.push({ path, mode: parseInt(mode!, 8), size: Number(size), sha256: sha256! });
  }
  return { files };
}

/**
 * Release files whose content a plan never shows, whatever the flags: the names that by wide
 * convention hold credentials (dotenv files, private keys and keystores, netrc-style files).
 * Their changes are listed by path and size only.
 */
const SECRET_NAMES = [
  /^\.env(?:\..+)?$/,
  /^\.(?:npmrc|netrc|pgpass|htpasswd|git-credentials|pypirc)$/,
  /^id_(?:rsa|dsa|ecdsa|ed25519)(?:_sk)?$/,
  /\.(?:pem|key|p12|pfx|jks|keystore|kdbx)$/,
  /^(?:credentials|secrets?)(?:\..+)?$/,
];

export function isSecretReleasePath(path: string): boolean {
  const name = path.slice(path.lastIndexOf('/') + 1).toLowerCase();
  return SECRET_NAMES.some((pattern) => pattern.test(name));
}

export interface ReleaseFileDiff {
  added: ReleaseFile[];
  /** Same path, other content or mode. */
  changed: { before: ReleaseFile; after: ReleaseFile }[];
  removed: ReleaseFile[];
}

/** What `next` adds, changes and removes relative to `live`; each list in path order. */
export function diffReleaseFiles(
  live: readonly ReleaseFile[],
  next: readonly ReleaseFile[],
): ReleaseFileDiff {
  const before = new Map(live.map((file) => [file.path, file]));
  const after = new Map(next.map((file) => [file.path, file]));
  const diff: ReleaseFileDiff = { added: [], changed: [], removed: [] };
  for (const file of [...after.values()].sort(byPath)) {
    const old = before.get(file.path);
    if (old === undefined) diff.added.push(file);
    else if (old.sha256 !== file.sha256 || old.mode !== file.mode)
      diff.changed.push({ before: old, after: file });
  }
  for (const file of [...before.values()].sort(byPath))
    if (!after.has(file.path)) diff.removed.push(file);
  return diff;
}
