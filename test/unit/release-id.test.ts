// releaseId pinned to its exact bytes: the expected ids were computed with coreutils' sha256sum
// over the documented shape ("svc release 2\n", then per file, by path: path NUL mode-in-octal
// NUL sha256 LF), so a change to the header, the order, the separators or the mode's base makes
// a different id, and the hosts' existing releases would no longer be recognised.
//   printf 'svc release 2\n' | sha256sum
//   printf 'svc release 2\n%s\000%s\000%s\n%s\000%s\000%s\n%s\000%s\000%s\n' \
//     a.txt 644 "$shaA" bin/run 755 "$shaB" z/b 644 "$shaC" | sha256sum
import { describe, expect, it } from 'vitest';
import { releaseEntries, releaseId, sha256Hex, type LocalFile } from '../../src/core/release.js';

const local = (path: string, content: string, mode: number): LocalFile => {
  const bytes = new TextEncoder().encode(content);
  return { path, mode, content: bytes, sha256: sha256Hex(bytes) };
};

describe('sha256Hex', () => {
  it.each([
    ['abc', 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
    ['A', '559aead08264d5795d3909718cdd05abd49572e84fe55590eef31a88a08fdffd'],
  ])('%s (as sha256sum says)', (text, hex) => {
    expect(sha256Hex(text)).toBe(hex);
    expect(sha256Hex(new TextEncoder().encode(text))).toBe(hex);
  });
});

// Built inside each test (not when the file loads): a throw in release.ts fails the tests.
const a = () => local('a.txt', 'A', 0o666);
const run = () => local('bin/run', 'B', 0o4711);
const b = () => local('z/b', 'C', 0o600);

describe('releaseId', () => {
  it('of no files is the hash of the header alone', () => {
    expect(releaseId([])).toBe('ff1c2588aabc');
  });

  it.each([
    ['sorted', [a, run, b]],
    ['reversed', [b, run, a]],
    ['middle first', [run, b, a]],
    ['last first', [b, a, run]],
    ['first last', [run, a, b]],
  ])('hashes the files by path whatever their order (%s)', (_order, files) => {
    expect(releaseId(files.map((file) => file()))).toBe('1eef0204f6a2');
  });

  it('does not reorder the list it is given', () => {
    const files = [b(), run(), a()];
    releaseId(files);
    expect(files.map((file) => file.path)).toEqual(['z/b', 'bin/run', 'a.txt']);
  });

  it.each([
    ['a mode with no execute bit', () => local('z/b', 'C', 0o644), true],
    ['another mode with no execute bit', () => local('z/b', 'C', 0o640), true],
    ['an execute bit', () => local('z/b', 'C', 0o700), false],
    ['other content', () => local('z/b', 'D', 0o600), false],
    ['another path', () => local('z/c', 'C', 0o600), false],
  ])('with %s', (_what, other, same) => {
    const id = releaseId([a(), run(), other()]);
    if (same) expect(id).toBe('1eef0204f6a2');
    else expect(id).not.toBe('1eef0204f6a2');
  });
});

describe('releaseEntries', () => {
  it('carries path, installed mode and content of each file, in order', () => {
    const [z, bin, first] = [b(), run(), a()];
    expect(releaseEntries([z, bin, first])).toEqual([
      { path: 'z/b', mode: 0o644, content: z.content },
      { path: 'bin/run', mode: 0o755, content: bin.content },
      { path: 'a.txt', mode: 0o644, content: first.content },
    ]);
  });
});
