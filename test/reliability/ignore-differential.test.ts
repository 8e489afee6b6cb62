// What ships is what git would track: random project trees with nested .gitignore files (and
// .git/info/exclude, and files git tracks although a .gitignore lists them), read by svc, compared
// with `git ls-files --cached --others --exclude-standard` run for real on the same tree. The
// seed is printed; SVC_IGNORE_SEED=N replays a run, SVC_IGNORE_CASES=N sets how many trees.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  gitFiles,
  ignoreText,
  isolatedGitEnv,
  makeTree,
  random,
  shippedFiles,
  writeFiles,
  type Tree,
} from './helpers/ignore-trees.js';
import { breathe } from '../helpers/breathe.js';

const SEED = Number(process.env.SVC_IGNORE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.SVC_IGNORE_CASES ?? 120);
const work = mkdtempSync(join(tmpdir(), 'svc-ignore-'));
// git must not read this machine's or this user's configuration (a global excludes file).
const gitEnv = isolatedGitEnv(join(work, 'home'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** A tree with .gitignore files, info/exclude and tracked files: git answers for it. */
function writeTree(dir: string, tree: Tree, rand: () => number): void {
  writeFiles(dir, tree);
  for (const sub of tree.dirs)
    if (rand() < 0.55) writeFileSync(join(dir, sub, '.gitignore'), ignoreText(rand, tree));
  execFileSync('git', ['init', '-q', dir], { env: gitEnv });
  if (rand() < 0.5) writeFileSync(join(dir, '.git', 'info', 'exclude'), ignoreText(rand, tree));
  // Some files are tracked, ignored or not: git keeps listing what it tracks.
  const tracked = tree.files.filter(() => rand() < 0.2);
  if (tracked.length > 0)
    execFileSync('git', ['-C', dir, 'add', '-f', '--', ...tracked], { env: gitEnv });
}

/**
 * A tree with .gitignore and .svcignore files, and beside it the same tree where each directory's
 * .gitignore is its .gitignore followed by its .svcignore (and the .svcignore is empty): the
 * layering svc promises, which git answers for on the second tree. Not a checkout, so nothing is
 * tracked.
 */
function writeSvcignoreTree(dir: string, tree: Tree, rand: () => number): string {
  const asGit = `${dir}-as-git`;
  writeFiles(dir, tree);
  writeFiles(asGit, tree);
  for (const sub of tree.dirs) {
    const git = rand() < 0.5 ? ignoreText(rand, tree) : '';
    const svc = rand() < 0.5 ? ignoreText(rand, tree) : undefined;
    if (git === '' && svc === undefined) continue;
    // Both trees hold the same files: a .gitignore (maybe empty) wherever either has one.
    writeFileSync(join(dir, sub, '.gitignore'), git);
    writeFileSync(join(asGit, sub, '.gitignore'), `${git}${svc ?? ''}`);
    if (svc !== undefined) writeFileSync(join(dir, sub, '.svcignore'), svc);
    if (svc !== undefined) writeFileSync(join(asGit, sub, '.svcignore'), '');
  }
  execFileSync('git', ['init', '-q', asGit], { env: gitEnv });
  return asGit;
}

/** One random tree: svc's answer against git's; a disagreement is kept on disk to look at. */
function compare(kind: 'git' | 'svcignore', index: number): string | undefined {
  const rand = random(SEED + index);
  const dir = join(work, `${kind}${index}`);
  const tree = makeTree(rand);
  let shipped: string[];
  let expected: string[];
  if (kind === 'git') {
    writeTree(dir, tree, rand);
    shipped = shippedFiles(dir);
    expected = gitFiles(dir, gitEnv);
  } else {
    const asGit = writeSvcignoreTree(dir, tree, rand);
    shipped = shippedFiles(dir);
    expected = gitFiles(asGit, gitEnv);
  }
  if (JSON.stringify(shipped) === JSON.stringify(expected)) {
    rmSync(dir, { recursive: true, force: true });
    rmSync(`${dir}-as-git`, { recursive: true, force: true });
    return undefined;
  }
  const missing = expected.filter((path) => !shipped.includes(path));
  const extra = shipped.filter((path) => !expected.includes(path));
  return `tree ${index} (${dir}): svc leaves out ${JSON.stringify(missing)}, ships besides ${JSON.stringify(extra)}`;
}

describe(`what ships is what git would track (seed ${SEED}, ${CASES} trees)`, () => {
  for (const kind of ['git', 'svcignore'] as const) {
    it(`agrees with git ls-files on every random tree (${kind})`, async () => {
      console.log(`ignore differential (${kind}): SVC_IGNORE_SEED=${SEED}`);
      const disagreements: string[] = [];
      for (let index = 0; index < CASES; index++) {
        await breathe();
        const disagreement = compare(kind, index);
        if (disagreement !== undefined) disagreements.push(disagreement);
      }
      console.log(
        `ignore differential (${kind}): ${disagreements.length} of ${CASES} trees disagree with git`,
      );
      expect(disagreements.slice(0, 5)).toEqual([]);
    }, 600_000);
  }
});

describe('files git tracks, and .svcignore', () => {
  it('ships a tracked file a .gitignore lists, unless a .svcignore excludes it', () => {
    const dir = join(work, 'tracked');
    writeFiles(dir, { dirs: ['', 'docs', 'src/config'], files: [] });
    for (const file of ['keep.log', 'docs/guide.md', 'src/config/database.js', 'notes.md'])
      writeFileSync(join(dir, file), 'x\n');
    writeFileSync(join(dir, '.gitignore'), '*.log\n*.md\n');
    execFileSync('git', ['init', '-q', dir], { env: gitEnv });
    execFileSync('git', ['-C', dir, 'add', '-f', 'keep.log', 'docs/guide.md', 'notes.md'], {
      env: gitEnv,
    });
    writeFileSync(join(dir, '.svcignore'), 'docs/\n');
    expect(shippedFiles(dir)).toEqual([
      '.gitignore',
      '.svcignore',
      'keep.log',
      'notes.md',
      'src/config/database.js',
      'svc.yaml',
    ]);
  });
});
