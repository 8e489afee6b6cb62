// svc update's line merge (core/text-merge.ts, on node-diff3) against GNU diff3 itself: random
// files and random edits on both sides, each merged by both; the text (markers included, GNU's
// `diff3 -m -E` with svc's labels) and whether there is a conflict must agree. Lines are unique,
// so the longest common subsequence, and with it the right answer, is unique too.
// SVC_MERGE_SEED=N replays a run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { mergeText } from '../../src/core/text-merge.js';
import { breathe } from '../helpers/breathe.js';

const SEED = Number(process.env.SVC_MERGE_SEED ?? Date.now() % 100_000);
const CASES = 300;
const dir = mkdtempSync(join(tmpdir(), 'svc-merge-diff3-'));

afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** mulberry32: a small seeded generator, so a failing case can be replayed. */
function generator(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

let fresh = 0;
/** A side's edits: each line kept, replaced, dropped, or followed by a new one. */
function edited(lines: readonly string[], rand: () => number, side: string): string[] {
  const out: string[] = [];
  const rate = rand() * 0.3;
  for (const line of lines) {
    const roll = rand();
    if (roll < rate / 3) out.push(`${side} changed ${++fresh}`);
    else if (roll < (2 * rate) / 3) continue;
    else out.push(line);
    if (rand() < rate / 3) out.push(`${side} added ${++fresh}`);
  }
  return out;
}

const text = (lines: readonly string[]) => lines.map((line) => `${line}\n`).join('');

function gnuDiff3(base: string, ours: string, theirs: string): { text: string; conflict: boolean } {
  writeFileSync(join(dir, 'base'), base);
  writeFileSync(join(dir, 'ours'), ours);
  writeFileSync(join(dir, 'theirs'), theirs);
  const result = spawnSync(
    'diff3',
    ['-m', '-E', '-L', 'project', '-L', 'base', '-L', 'svc 1.2.3', 'ours', 'base', 'theirs'],
    { cwd: dir, encoding: 'utf8' },
  );
  if (result.status !== 0 && result.status !== 1)
    throw new Error(`diff3 failed (${result.status}): ${result.stderr}`);
  return { text: result.stdout, conflict: result.status === 1 };
}

describe(`the line merge agrees with GNU diff3 (seed ${SEED})`, () => {
  it(`on ${CASES} random three-way cases`, async () => {
    const rand = generator(SEED);
    let conflicts = 0;
    for (let i = 0; i < CASES; i++) {
      await breathe();
      const base = Array.from({ length: 1 + Math.floor(rand() * 30) }, (_, n) => `line ${n}`);
      const [b, o, t] = [
        text(base),
        text(edited(base, rand, 'ours')),
        text(edited(base, rand, 'theirs')),
      ];
      const gnu = gnuDiff3(b, o, t);
      const ours = mergeText(b, o, t, '1.2.3');
      const label = `case ${i}:\n--- base\n${b}--- ours\n${o}--- theirs\n${t}`;
      expect(ours.text, label).toBe(gnu.text);
      expect(ours.conflicts > 0, label).toBe(gnu.conflict);
      if (gnu.conflict) conflicts++;
    }
    // Both kinds of case were drawn, or the comparison says little.
    expect(conflicts).toBeGreaterThan(CASES / 10);
    expect(conflicts).toBeLessThan(CASES - CASES / 10);
  });
});
