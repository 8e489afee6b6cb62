// The tar writer, read back by GNU tar itself.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../../src/core/tar.js';

const dir = mkdtempSync(join(tmpdir(), 'svc-tar-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const text = (value: string) => new TextEncoder().encode(value);
const longPath = `${'deep/'.repeat(30)}file.txt`;
const entries = [
  { path: 'server.js', mode: 0o644, content: text('console.log(1);\n') },
  { path: 'bin/run', mode: 0o755, content: text('#!/bin/sh\n') },
  { path: 'empty', mode: 0o600, content: new Uint8Array() },
  { path: 'big.bin', mode: 0o644, content: new Uint8Array(70_000).map((_, i) => i % 251) },
  { path: longPath, mode: 0o644, content: text('long\n') },
  { path: "it's a $(name).txt", mode: 0o644, content: text('odd\n') },
];

describe('tarArchive', () => {
  const archive = join(dir, 'a.tar');
  writeFileSync(archive, tarArchive(entries));

  it('lists every entry as GNU tar reads it', () => {
    const listing = execFileSync('tar', ['-tf', archive], { encoding: 'utf8' }).trim().split('\n');
    expect(listing).toEqual(entries.map((entry) => entry.path));
  });

  it('extracts identical content and modes', () => {
    const out = join(dir, 'out');
    execFileSync('mkdir', ['-p', out]);
    execFileSync('tar', ['-xf', archive, '-C', out, '--no-same-owner']);
    for (const entry of entries) {
      expect(readFileSync(join(out, entry.path))).toEqual(Buffer.from(entry.content));
      expect(statSync(join(out, entry.path)).mode & 0o777).toBe(entry.mode);
    }
  });

  it('is reproducible', () => {
    expect(tarArchive(entries)).toEqual(tarArchive(entries));
  });
});
