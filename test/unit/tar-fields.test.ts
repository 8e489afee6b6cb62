// The tar writer's bytes, field by field as POSIX ustar lays them out, and read back by Python's
// tarfile (a third reader beside GNU and busybox tar in tar.test.ts): where a path is split into
// prefix and name, where it needs a pax record, and the pax record's self-counting length at
// the points where its digit count changes.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive, type TarEntry } from '../../src/core/tar.js';

let dir = '';
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-tar-fields-'));
});
afterAll(() => {
  if (dir !== '') rmSync(dir, { recursive: true, force: true });
});

const text = (value: string) => new TextEncoder().encode(value);
const field = (block: Uint8Array, offset: number, length: number) =>
  new TextDecoder().decode(block.subarray(offset, offset + length));

/** What Python's tarfile reads: [name, mode, uid, gid, uname, gname, mtime, type, size, pax]. */
function python(entries: TarEntry[]): unknown[] {
  const file = join(dir, 'a.tar');
  writeFileSync(file, tarArchive(entries));
  const program = [
    'import json, sys, tarfile',
    'with tarfile.open(sys.argv[1], errorlevel=2) as t:',
    '    print(json.dumps([[m.name, m.mode, m.uid, m.gid, m.uname, m.gname, m.mtime, m.type.decode(), m.size, m.pax_headers, t.extractfile(m).read().decode()] for m in t]))',
  ].join('\n');
  return JSON.parse(
    execFileSync('python3', ['-c', program, file], { encoding: 'utf8' }),
  ) as unknown[];
}

describe('tarArchive, field by field', () => {
  it('lays out a ustar header as POSIX says, owned by root, at time 0', () => {
    const archive = tarArchive([{ path: 'bin/run', mode: 0o104755, content: text('#!/bin/sh\n') }]);
    const header = archive.subarray(0, 512);
    expect([
      field(header, 0, 100).replace(/\0+$/, ''),
      field(header, 100, 8),
      field(header, 108, 8),
      field(header, 116, 8),
      field(header, 124, 12),
      field(header, 136, 12),
      field(header, 156, 1),
      field(header, 257, 6),
      field(header, 263, 2),
      field(header, 265, 32).replace(/\0+$/, ''),
      field(header, 297, 32).replace(/\0+$/, ''),
      field(header, 345, 155).replace(/\0+$/, ''),
    ]).toEqual([
      'bin/run',
      '0004755\0', // the file-type bits (0100000) dropped: 0104755 & 07777
      '0000000\0',
      '0000000\0',
      '00000000012\0',
      '00000000000\0',
      '0',
      'ustar\0',
      '00',
      'root',
      'root',
      '',
    ]);
    // The checksum: six octal digits, NUL, space; the byte sum with its own field as spaces.
    const checksum = field(header, 148, 8);
    expect(checksum).toMatch(/^[0-7]{6}\0 $/);
    const sum = [...header].reduce(
      (total, byte, index) => total + (index >= 148 && index < 156 ? 32 : byte),
      0,
    );
    expect(parseInt(checksum, 8)).toBe(sum);
    // Content, padded to a block, then two zero blocks.
    expect(field(archive, 512, 10)).toBe('#!/bin/sh\n');
    expect(archive.length).toBe(512 * 4);
    expect(archive.subarray(522).every((byte) => byte === 0)).toBe(true);
  });

  it('an empty archive is the two zero blocks', () => {
    const archive = tarArchive([]);
    expect(archive.length).toBe(1024);
    expect(archive.every((byte) => byte === 0)).toBe(true);
  });

  it.each([
    ['100 bytes: the name alone', 'n'.repeat(100), { name: 'n'.repeat(100), prefix: '' }],
    [
      '101 bytes: split at its /',
      `${'p'.repeat(50)}/${'n'.repeat(50)}`,
      { name: 'n'.repeat(50), prefix: 'p'.repeat(50) },
    ],
    [
      'the first / that fits',
      `a/${'p'.repeat(60)}/${'n'.repeat(60)}`,
      { name: 'n'.repeat(60), prefix: `a/${'p'.repeat(60)}` },
    ],
    [
      'a 155-byte prefix',
      `${'p'.repeat(155)}/${'n'.repeat(10)}`,
      { name: 'n'.repeat(10), prefix: 'p'.repeat(155) },
    ],
    [
      'a 100-byte name after the prefix',
      `${'p'.repeat(20)}/${'n'.repeat(100)}`,
      { name: 'n'.repeat(100), prefix: 'p'.repeat(20) },
    ],
    [
      '51 two-byte characters: 102 bytes',
      `${'é'.repeat(30)}/${'é'.repeat(21)}`,
      { name: 'é'.repeat(21), prefix: 'é'.repeat(30) },
    ],
  ])('%s', (_, path, expected) => {
    const header = tarArchive([{ path, mode: 0o644, content: new Uint8Array() }]).subarray(0, 512);
    expect(field(header, 156, 1)).toBe('0');
    expect({
      name: field(header, 0, 100).replace(/\0+$/, ''),
      prefix: field(header, 345, 155).replace(/\0+$/, ''),
    }).toEqual(expected);
    expect((python([{ path, mode: 0o644, content: new Uint8Array() }])[0] as unknown[])[0]).toBe(
      path,
    );
  });

  it.each([
    ['a 156-byte prefix', `${'p'.repeat(156)}/${'n'.repeat(10)}`],
    ['a 101-byte last part', `${'p'.repeat(10)}/${'n'.repeat(101)}`],
    ['no / at all', 'n'.repeat(101)],
    ['two-byte characters past 100 bytes', 'é'.repeat(51)],
    // The pax record's length counts its own digits: 999 bytes for 989, 1001 for 990.
    ...[988, 989, 990, 991].map((length): [string, string] => [
      `a ${length}-byte path in a pax record`,
      'x'.repeat(length),
    ]),
  ])('%s: a pax path= record, read back whole', (_, path) => {
    const archive = tarArchive([{ path, mode: 0o755, content: text('c') }]);
    const pax = archive.subarray(0, 512);
    expect([
      field(pax, 0, 100).replace(/\0+$/, ''),
      field(pax, 100, 8),
      field(pax, 156, 1),
    ]).toEqual(['PaxHeader', '0000644\0', 'x']);
    const head = field(archive, 512, 8);
    const length = Number(head.slice(0, head.indexOf(' ')));
    // LEN counts the whole record in bytes, its own digits included; zeros pad the block.
    expect(field(archive, 512, length)).toBe(`${length} path=${path}\n`);
    expect(archive[512 + length]).toBe(0);
    expect(python([{ path, mode: 0o755, content: text('c') }])).toEqual([
      [path, 0o755, 0, 0, 'root', 'root', 0, '0', 1, { path }, 'c'],
    ]);
  });

  it('the fallback name of a pax entry is the longest start that fits, never half a character', () => {
    const path = 'é'.repeat(51); // 102 bytes: 50 characters fit in 100 bytes
    const archive = tarArchive([{ path, mode: 0o644, content: new Uint8Array() }]);
    const records = Math.ceil(new TextEncoder().encode(`xxx path=${path}\n`).length / 512) * 512;
    const header = archive.subarray(512 + records, 1024 + records);
    expect(field(header, 0, 100).replace(/\0+$/, '')).toBe('é'.repeat(50));
    expect(field(header, 345, 155).replace(/\0+$/, '')).toBe('');
  });

  it('several entries, each padded to whole blocks, in order', () => {
    const entries = [
      { path: 'a', mode: 0o600, content: new Uint8Array(512) },
      { path: 'b', mode: 0o644, content: new Uint8Array(513).fill(1) },
      { path: 'c', mode: 0o755, content: new Uint8Array() },
    ];
    expect(tarArchive(entries).length).toBe(512 * (1 + 1 + 1 + 2 + 1) + 1024);
    expect(
      python(entries).map((entry) =>
        (entry as unknown[]).slice(0, 2).concat((entry as unknown[])[8]),
      ),
    ).toEqual([
      ['a', 0o600, 512],
      ['b', 0o644, 513],
      ['c', 0o755, 0],
    ]);
  });
});
