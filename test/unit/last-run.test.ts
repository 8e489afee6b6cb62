// The last deploy's result in .svc/last-run.json: written through a temporary file of its own, so
// another svc run in the same project at the same time (its temporary file still there, or
// renamed away under it) cannot make this one fail.
import {
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadLastRun, saveLastRun } from '../../src/remote/last-run.js';

const dirs: string[] = [];
afterEach(() => {
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function project(): string {
  const dir = mkdtempSync(join(tmpdir(), 'svc-last-run-'));
  dirs.push(dir);
  return dir;
}

describe('saveLastRun', () => {
  const run = { at: '2026-12-06T14:00:00Z', target: 'api-orders', failed: ['web1'] };

  it('writes the run, readable by loadLastRun, owner-only, leaving no temporary file', () => {
    const dir = project();
    saveLastRun(dir, run);
    expect(loadLastRun(dir)).toEqual(run);
    expect(statSync(join(dir, '.svc', 'last-run.json')).mode & 0o777).toBe(0o600);
    expect(readdirSync(join(dir, '.svc'))).toEqual(['last-run.json']);
  });

  it.each([
    ['a directory', (path: string) => mkdirSync(path)],
    ['a link to another file', (path: string, victim: string) => symlinkSync(victim, path)],
  ])('does not use the old shared temporary name, even when it is %s', (_, plant) => {
    const dir = project();
    mkdirSync(join(dir, '.svc'));
    // The link's target is the test's own file: nothing outside the scratch directory.
    const victim = join(dir, 'victim');
    writeFileSync(victim, 'untouched\n');
    plant(join(dir, '.svc', 'last-run.json.tmp'), victim);
    saveLastRun(dir, run);
    expect(loadLastRun(dir)).toEqual(run);
    expect(readFileSync(victim, 'utf8')).toBe('untouched\n');
    expect(readdirSync(join(dir, '.svc')).sort()).toEqual(['last-run.json', 'last-run.json.tmp']);
  });

  it('two runs one after the other: the last one is kept', () => {
    const dir = project();
    saveLastRun(dir, run);
    saveLastRun(dir, { ...run, failed: [] });
    expect(loadLastRun(dir)?.failed).toEqual([]);
  });
});
