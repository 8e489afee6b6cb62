// The tar writer, read back by GNU tar itself and by busybox tar (what a light host may have).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { tarArchive } from '../../src/core/tar.js';

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'svc-tar-'));
});
afterAll(() => {
  if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
});

const text = (value: string) => new TextEncoder().encode(value);
const longPath = `${'deep/'.repeat(30)}file.txt`;
const entries = [
  { path: 'server.js', mode: 0o644, content: text('console.log(1);\n') },
  { path: 'bin/run', mode: 0o755, content: text('#!/bin/sh\n') },
  { path: 'empty', mode: 0o600, content: new Uint8Array() },
  { path: 'big.bin', mode: 0o644, content: new Uint8Array(70_000).map((_, i) => i % 251) },
  { path: longPath, mode: 0o644, content: text('long\n') },
  { path: "it's a $(name).txt", mode: 0o644, content: text('odd\n') },
  // No '/' splits these into ustar's 155-byte prefix and 100-byte name: a pax `path=` header.
  { path: `d/${'x'.repeat(148)}`, mode: 0o644, content: text('150 bytes\n') },
  { path: `${'a'.repeat(120)}/${'b'.repeat(129)}`, mode: 0o755, content: text('250 bytes\n') },
  { path: `${'é'.repeat(60)}/${'ü'.repeat(60)}.txt`, mode: 0o644, content: text('utf-8\n') },
  { path: `${'long/'.repeat(60)}end`, mode: 0o644, content: new Uint8Array(1000).fill(7) },
];

const TARS: Record<string, (archive: string, out: string) => string[]> = {
  'GNU tar': (archive, out) => ['tar', '-xf', archive, '-C', out, '--no-same-owner'],
  'busybox tar': (archive, out) => ['busybox', 'tar', '-xf', archive, '-C', out],
};

describe('tarArchive', () => {
  // Written inside each test (a throw there fails that test; a mutation run sees which test ran
  // the writer, rather than counting it as run by no test).
  const written = (): string => {
    const archive = join(dir, 'a.tar');
    writeFileSync(archive, tarArchive(entries));
    return archive;
  };

  it('lists every entry as GNU tar reads it', () => {
    const listing = execFileSync('tar', ['-tf', written()], { encoding: 'utf8' })
      .trim()
      .split('\n');
    expect(listing).toEqual(entries.map((entry) => entry.path));
  });

  it('lists the same names under busybox tar', () => {
    const listing = execFileSync('busybox', ['tar', '-tf', written()], { encoding: 'utf8' });
    expect(listing.trim().split('\n')).toEqual(entries.map((entry) => entry.path));
  });

  for (const [tar, argv] of Object.entries(TARS)) {
    it(`extracts identical names, content and modes with ${tar}`, () => {
      const out = join(dir, `out-${tar.replace(' ', '-')}`);
      execFileSync('mkdir', ['-p', out]);
      const [command, ...args] = argv(written(), out);
      execFileSync(command!, args);
      for (const entry of entries) {
        expect(readFileSync(join(out, entry.path))).toEqual(Buffer.from(entry.content));
        expect(statSync(join(out, entry.path)).mode & 0o777).toBe(entry.mode);
      }
      const found = execFileSync('find', [out, '-type', 'f'], { encoding: 'utf8' });
      expect(found.trim().split('\n').length).toBe(entries.length);
    });
  }

  it('is reproducible', () => {
    expect(tarArchive(entries)).toEqual(tarArchive(entries));
  });
});
