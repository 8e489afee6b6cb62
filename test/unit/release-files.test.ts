// A release's recorded file list: its text form, the strict parser (every corruption alone is
// refused with its own line), the added/changed/removed diff and the secret-name rule.
import { describe, expect, it } from 'vitest';
import {
  diffReleaseFiles,
  encodeReleasePath,
  isReleasePath,
  isSecretReleasePath,
  MAX_RELEASE_FILES_BYTES,
  parseReleaseFiles,
  releaseFilesOf,
  releaseFilesText,
  type ReleaseFile,
} from '../../src/core/release-files.js';

const A = 'a'.repeat(64);
const B = 'b'.repeat(64);
const entry = (path: string, sha256 = A, size = 3, mode = 0o644): ReleaseFile => ({
  path,
  mode,
  size,
  sha256,
});
const bytes = (text: string) => new TextEncoder().encode(text);
const HEADER = 'svc-release-files\t1\n';
const GOOD = `${HEADER}file\t0644\t3\t${A}\t=a.txt\nfile\t0755\t0\t${B}\t=bin/run\n`;

describe('releaseFilesText and releaseFilesOf', () => {
  it('writes the header, then one line per file in path order, with installed modes', () => {
    const local = [
      { path: 'z.txt', mode: 0o666, content: bytes('zz'), sha256: B },
      { path: 'bin/run', mode: 0o4775, content: bytes(''), sha256: A },
      { path: 'dir with space/é', mode: 0o600, content: bytes('x'), sha256: A },
    ];
    expect(releaseFilesText(releaseFilesOf(local))).toBe(
      `${HEADER}file\t0755\t0\t${A}\t=bin/run\n` +
        `file\t0644\t1\t${A}\t${Buffer.from('dir with space/é').toString('hex')}\n` +
        `file\t0644\t2\t${B}\t=z.txt\n`,
    );
  });

  it('an empty release is the header alone', () => {
    expect(releaseFilesText([])).toBe(HEADER);
    expect(parseReleaseFiles(bytes(HEADER))).toEqual({ files: [] });
  });

  it('parses back exactly what it wrote', () => {
    const files = [entry('a b'), entry('b/c.txt', B, 12, 0o755), entry('ü/x', A, 0)];
    expect(parseReleaseFiles(bytes(releaseFilesText(files)))).toEqual({ files });
  });

  it.each([
    ['a.txt', '=a.txt'],
    ['A-z_0.9/@:+,-', '=A-z_0.9/@:+,-'],
    ['a b', '612062'],
    ['=x', '3d78'],
    ['tab\there', '7461620968657265'],
  ])('encodes %j as %j', (path, field) => {
    expect(encodeReleasePath(path)).toBe(field);
  });
});

describe('parseReleaseFiles refuses every corruption on its own', () => {
  const line = (fields: string) => `${HEADER}${fields}\n`;
  it.each([
    ['good', GOOD, undefined],
    ['no final newline', GOOD.slice(0, -1), 'cut short (no final newline)'],
    ['empty', '', 'cut short (no final newline)'],
    [
      'wrong header',
      GOOD.replace('svc-release-files\t1', 'svc-release-files\t2'),
      'line 1: not an svc release file list',
    ],
    ['no header', `file\t0644\t3\t${A}\t=a.txt\n`, 'line 1: not an svc release file list'],
    ['a control character', GOOD.replace('a.txt', 'a\rtxt'), 'not printable ASCII'],
    ['a non-ASCII byte', GOOD.replace('a.txt', 'ä.txt'), 'not printable ASCII'],
    ['four fields', line(`file\t0644\t3\t${A}`), 'line 2: 5 fields expected, got 4'],
    ['six fields', line(`file\t0644\t3\t${A}\t=a\t=b`), 'line 2: 5 fields expected, got 6'],
    ['an empty line', `${HEADER}\n`, 'line 2: 5 fields expected, got 1'],
    ['another type', line(`link\t0644\t3\t${A}\t=a`), 'line 2: unknown type "link"'],
    ['a mode of three digits', line(`file\t644\t3\t${A}\t=a`), 'line 2: bad mode'],
    ['a mode with 8', line(`file\t0648\t3\t${A}\t=a`), 'line 2: bad mode'],
    ['a mode of five digits', line(`file\t00644\t3\t${A}\t=a`), 'line 2: bad mode'],
    ['a negative size', line(`file\t0644\t-3\t${A}\t=a`), 'line 2: bad size'],
    ['a size with a leading zero', line(`file\t0644\t03\t${A}\t=a`), 'line 2: bad size'],
    ['an empty size', line(`file\t0644\t\t${A}\t=a`), 'line 2: bad size'],
    ['a 16-digit size', line(`file\t0644\t1234567890123456\t${A}\t=a`), 'line 2: bad size'],
    ['a short sha256', line(`file\t0644\t3\t${A.slice(1)}\t=a`), 'line 2: bad sha256'],
    ['an upper-case sha256', line(`file\t0644\t3\t${A.toUpperCase()}\t=a`), 'line 2: bad sha256'],
    ['an empty path', line(`file\t0644\t3\t${A}\t=`), 'line 2: bad path'],
    ['a plain path with a space', line(`file\t0644\t3\t${A}\t=a b`), 'line 2: bad path'],
    ['odd hex', line(`file\t0644\t3\t${A}\t612`), 'line 2: bad path'],
    ['upper-case hex', line(`file\t0644\t3\t${A}\t6A`), 'line 2: bad path'],
    ['hex that is not UTF-8', line(`file\t0644\t3\t${A}\tff`), 'line 2: bad path'],
    ['an absolute path', line(`file\t0644\t3\t${A}\t=/etc/shadow`), 'line 2: bad path'],
    ['a .. part', line(`file\t0644\t3\t${A}\t=a/../b`), 'line 2: bad path'],
    ['a . part', line(`file\t0644\t3\t${A}\t=./a`), 'line 2: bad path'],
    ['a trailing slash', line(`file\t0644\t3\t${A}\t=a/`), 'line 2: bad path'],
    ['a control character in hex', line(`file\t0644\t3\t${A}\t610a62`), 'line 2: bad path'],
    [
      'a path twice',
      `${HEADER}file\t0644\t3\t${A}\t=a\nfile\t0644\t3\t${A}\t=a\n`,
      'line 3: a is out of order or listed twice',
    ],
    [
      'paths out of order',
      `${HEADER}file\t0644\t3\t${A}\t=b\nfile\t0644\t3\t${A}\t=a\n`,
      'line 3: a is out of order or listed twice',
    ],
  ])('%s', (_, text, error) => {
    const parsed = parseReleaseFiles(bytes(text));
    if (error === undefined) expect(parsed).not.toHaveProperty('error');
    else expect(parsed).toEqual({ error });
  });

  it('refuses a list over the size bound, and reads one at it', () => {
    const at = bytes(HEADER + `${'x'.repeat(MAX_RELEASE_FILES_BYTES - HEADER.length - 1)}\n`);
    expect(parseReleaseFiles(at)).toEqual({ error: 'line 2: 5 fields expected, got 1' });
    const over = new Uint8Array(MAX_RELEASE_FILES_BYTES + 1);
    expect(parseReleaseFiles(over)).toEqual({ error: 'larger than 4 MiB' });
  });
});

describe('isReleasePath', () => {
  it.each([
    ['a', true],
    ['a/b c/d', true],
    ['.env', true],
    ['..a', true],
    ['', false],
    ['/a', false],
    ['a//b', false],
    ['a/./b', false],
    ['a/..', false],
    ['a\u0000b', false],
    ['a\u007fb', false],
    // C1: U+009B is a one-character CSI to a terminal; the names project/read.ts refuses.
    ['a\u009b31mb', false],
    ['a\u0085b', false],
    ['a\u00a0b', true],
    ['a\u001fb', false],
  ])('%j: %s', (path, ok) => {
    expect(isReleasePath(path)).toBe(ok);
  });
});

describe('diffReleaseFiles', () => {
  it('says what the new list adds, changes (content or mode) and removes, in path order', () => {
    const live = [entry('same'), entry('content'), entry('mode'), entry('gone'), entry('b-gone')];
    const next = [
      entry('z-new', B, 9),
      entry('same'),
      entry('mode', A, 3, 0o755),
      entry('content', B, 4),
      entry('a-new'),
    ];
    expect(diffReleaseFiles(live, next)).toEqual({
      added: [entry('a-new'), entry('z-new', B, 9)],
      changed: [
        { before: entry('content'), after: entry('content', B, 4) },
        { before: entry('mode'), after: entry('mode', A, 3, 0o755) },
      ],
      removed: [entry('b-gone'), entry('gone')],
    });
  });

  it('the same lists: nothing', () => {
    expect(diffReleaseFiles([entry('a')], [entry('a')])).toEqual({
      added: [],
      changed: [],
      removed: [],
    });
  });

  it('a size alone is no change (the hash says whether the content is the same)', () => {
    expect(diffReleaseFiles([entry('a', A, 3)], [entry('a', A, 4)]).changed).toEqual([]);
  });
});

describe('isSecretReleasePath', () => {
  it.each([
    ['.env', true],
    ['config/.env.production', true],
    ['.ENV', true],
    ['.npmrc', true],
    ['.netrc', true],
    ['.pgpass', true],
    ['.htpasswd', true],
    ['.git-credentials', true],
    ['.pypirc', true],
    ['keys/id_rsa', true],
    ['id_ed25519', true],
    ['id_ecdsa_sk', true],
    ['tls/server.pem', true],
    ['tls/server.key', true],
    ['a.p12', true],
    ['a.pfx', true],
    ['a.jks', true],
    ['a.keystore', true],
    ['db.kdbx', true],
    ['credentials', true],
    ['credentials.json', true],
    ['secret', true],
    ['secrets.yaml', true],
    ['.env.example.txt', true],
    ['.envrc', false],
    ['env', false],
    ['server.js', false],
    ['id_rsa.pub', false],
    ['keyboard.js', false],
    ['secretary.txt', false],
    ['my-credentials.txt', false],
    ['.env/readme', false],
  ])('%j: %s', (path, secret) => {
    expect(isSecretReleasePath(path)).toBe(secret);
  });
});
