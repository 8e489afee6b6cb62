// A minimal POSIX ustar writer: regular files only, owned by root, with their modes. Enough to
// ship a release and the overlay as one stream, built in memory and fully deterministic (fixed
// mtime), so the same content always makes the same bytes.

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

/** ustar splits a long path into a prefix (<=155 bytes) and a name (<=100 bytes) at a '/'. */
function splitPath(path: string): { name: string; prefix: string } {
  if (encoder.encode(path).length <= 100) return { name: path, prefix: '' };
  for (let cut = path.indexOf('/'); cut !== -1; cut = path.indexOf('/', cut + 1)) {
    const prefix = path.slice(0, cut);
    const name = path.slice(cut + 1);
    if (encoder.encode(prefix).length <= 155 && encoder.encode(name).length <= 100)
      return { name, prefix };
  }
  throw new Error(`${path}: path too long for a tar archive`);
}

function header(entry: TarEntry): Uint8Array {
  const block = new Uint8Array(BLOCK);
  const put = (text: string, offset: number) => block.set(encoder.encode(text), offset);
  const { name, prefix } = splitPath(entry.path);
  put(name, 0);
  put(octalField(entry.mode & 0o7777, 8), 100);
  put(octalField(0, 8), 108); // uid root
  put(octalField(0, 8), 116); // gid root
  put(octalField(entry.content.length, 12), 124);
  put(octalField(0, 12), 136); // mtime: fixed, so archives are reproducible
  put('        ', 148); // checksum counts as spaces while it is computed
  put('0', 156); // regular file
  put('ustar\0', 257);
  put('00', 263);
  put('root', 265);
  put('root', 297);
  put(prefix, 345);
  const checksum = block.reduce((sum, byte) => sum + byte, 0);
  put(`${checksum.toString(8).padStart(6, '0')}\0 `, 148);
  return block;
}

export function tarArchive(entries: readonly TarEntry[]): Uint8Array {
  const size =
    entries.reduce(
      (sum, entry) => sum + BLOCK + Math.ceil(entry.content.length / BLOCK) * BLOCK,
      0,
    ) +
    2 * BLOCK;
  const archive = new Uint8Array(size);
  let offset = 0;
  for (const entry of entries) {
    archive.set(header(entry), offset);
    offset += BLOCK;
    archive.set(entry.content, offset);
    offset += Math.ceil(entry.content.length / BLOCK) * BLOCK;
  }
  return archive; // the two zero blocks that end an archive are already zero
}
