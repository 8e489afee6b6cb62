// A minimal POSIX tar writer: regular files only, owned by root, with their modes. Enough to
// ship a release and the overlay as one stream, built in memory and fully deterministic (fixed
// mtime, fixed names), so the same content always makes the same bytes. A path that ustar's
// name/prefix fields cannot hold gets a POSIX.1-2001 (pax) extended header with a `path=`
// record before its own header, which GNU tar, busybox tar and bsdtar all read: any length.

export interface TarEntry {
  path: string;
  mode: number;
  content: Uint8Array;
}

const BLOCK = 512;
const encoder = new TextEncoder();

function octalField(value: number, width: number): string {
  return value.toString(8).padStart(width - 1, '0') + '\0';
}

const bytes = (text: string) => encoder.encode(text).length;

/**
 * ustar splits a long path into a prefix (<=155 bytes) and a name (<=100 bytes) at a '/';
 * undefined when no '/' allows that (the path then needs a pax header).
 */
function splitPath(path: string): { name: string; prefix: string } | undefined {
  if (bytes(path) <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (bytes(prefix) <= 155 && bytes(name) <= 100) return { name, prefix };
  }
  return undefined;
}

/** The longest start of `text` that fits in `limit` bytes, never cutting a character in two. */
function truncated(text: string, limit: number): string {
  let out = '';
  for (const char of text) {
    if (bytes(out + char) > limit) break;
    out += char;
  }
  return out;
}

/** One pax record, `LEN key=value\n`, where LEN counts the whole record, its own digits too. */
function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = bytes(body) + 1;
  while (String(length).length + bytes(body) !== length)
    length = String(length).length + bytes(body);
  return `${length}${body}`;
}

function header(
  path: { name: string; prefix: string },
  mode: number,
  size: number,
  type: '0' | 'x',
): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (text: string, offset: number) => block.set(encoder.encode(text), offset);
  put(path.name, 0);
  put(octalField(mode & 0o7777, 8), 100);
  put(octalField(0, 8), 108); // uid root
  put(octalField(0, 8), 116); // gid root
  put(octalField(size, 12), 124);
  put(octalField(0, 12), 136); // mtime: fixed, so archives are reproducible
  put('        ', 148); // checksum counts as spaces while it is computed
  put(type, 156); // a regular file, or the pax header that names the next one
  put('ustar\0', 257);
  put('00', 263);
  put('root', 265);
  put('root', 297);
  put(path.prefix, 345);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  put(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

const padded = (length: number) => Math.ceil(length / BLOCK) * BLOCK;

/** An entry's blocks: (pax header and its records,) header, content. */
function entryBlocks(entry: TarEntry): Uint8Array[] {
  const split = splitPath(entry.path);
  if (split !== undefined)
    return [header(split, entry.mode, entry.content.length, '0'), entry.content];
  const records = encoder.encode(paxRecord('path', entry.path));
  // Readers without pax support see the start of the path; every reader svc meets has it.
  const fallback = { name: truncated(entry.path, 100), prefix: '' };
  return [
    header({ name: 'PaxHeader', prefix: '' }, 0o644, records.length, 'x'),
    records,
    header(fallback, entry.mode, entry.content.length, '0'),
    entry.content,
  ];
}

export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  // Headers are one block each; content (and pax records) are padded to whole blocks.
  const parts = entries.flatMap(entryBlocks);
  const size = parts.reduce((sum, part) => sum + padded(part.length), 0) + 2 * BLOCK;
  const archive = new Uint8Array(size);
  let offset = 0;
  for (const part of parts) {
    archive.set(part, offset);
    offset += padded(part.length);
  }
  return archive; // the two zero blocks that end an archive are already zero
}
