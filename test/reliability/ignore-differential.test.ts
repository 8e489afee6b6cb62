// What ships is what git would track: random project trees with nested .gitignore files (and
// .git/info/exclude, and files git tracks although a .gitignore lists them), read by svc, compared
// with `git ls-files --cached --others --exclude-standard` run for real on the same tree. The
// seed is printed; SVC_IGNORE_SEED=N replays a run, SVC_IGNORE_CASES=N sets how many trees.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { stringifyManifest } from '../../src/core/manifest-file.js';
import { readProject } from '../../src/project/read.js';
import { manifest } from '../helpers/plan-fixtures.js';

const SEED = Number(process.env.SVC_IGNORE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.SVC_IGNORE_CASES ?? 120);
const work = mkdtempSync(join(tmpdir(), 'svc-ignore-'));
// git must not read this machine's or this user's configuration (a global excludes file).
const home = join(work, 'home');
mkdirSync(home);
const gitEnv = {
  ...process.env,
  HOME: home,
  XDG_CONFIG_HOME: home,
  GIT_CONFIG_NOSYSTEM: '1',
  GIT_CONFIG_GLOBAL: '/dev/null',
  GIT_DIR: undefined,
  GIT_WORK_TREE: undefined,
  GIT_INDEX_FILE: undefined,
};
afterAll(() => rmSync(work, { recursive: true, force: true }));

/** mulberry32: small, seedable, good enough to pick from lists. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

// Names chosen so that patterns can hit them in every way git reads a pattern: extensions,
// upper case, names that need escaping (#, !, *, [, trailing space), a non-ASCII name, and
// `config` both at the top (the overlay) and nested (an ordinary directory).
const DIRS = ['src', 'config', 'build', 'lib', 'a', 'b', 'node_modules', 'deep', '.cache', 'Docs'];
const FILES = [
  'x.js',
  'y.log',
  'Y.LOG',
  'z.md',
  '.env',
  'keep.log',
  'data.json',
  '#note',
  '!bang',
  'star*',
  '[q]',
  'trail ',
  'é.txt',
  'a',
  'build',
];

interface Tree {
  dirs: string[];
  files: string[];
}

function makeTree(rand: () => number): Tree {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const dirs = [''];
  const files = new Set<string>();
  for (let i = 0; i < 4 + rand() * 8; i++) {
    const parent = pick(dirs);
    if (parent.split('/').length > 3) continue;
    const dir = parent === '' ? pick(DIRS) : `${parent}/${pick(DIRS)}`;
    if (!dirs.includes(dir)) dirs.push(dir);
  }
  for (let i = 0; i < 10 + rand() * 20; i++) {
    const dir = pick(dirs);
    const name = pick(FILES);
    const path = dir === '' ? name : `${dir}/${name}`;
    if (!dirs.includes(path)) files.add(path);
  }
  // A directory that is also a file name cannot be both: drop the file.
  return { dirs, files: [...files].filter((file) => !dirs.some((d) => d.startsWith(`${file}/`))) };
}

/** One random .gitignore line: negations, dir-only, anchored, `**`, classes, escapes. */
function makePattern(rand: () => number, tree: Tree): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const name = () => pick([...DIRS, ...FILES]);
  const escape = (text: string) => text.replace(/[\\*?[#!]/g, (c) => `\\${c}`).replace(/ $/, '\\ ');
  const shapes: (() => string)[] = [
    () => escape(name()),
    () => `${escape(name())}/`,
    () => `/${escape(name())}`,
    () => `*.${pick(['log', 'js', 'md', 'LOG', 'json', 'txt'])}`,
    () => `**/${escape(name())}`,
    () => `${pick(DIRS)}/**`,
    () => `${pick(DIRS)}/**/${escape(name())}`,
    () => `${pick(DIRS)}/*`,
    () => `/${pick(DIRS)}/*/`,
    () => `${pick(DIRS)}/${escape(name())}`,
    () => `[xy].*`,
    () => `[!a-m]*`,
    () => `?.js`,
    () => `*`,
    () => `**`,
    () => `.*`,
    () => `*.[[:upper:]]*`,
    () => `*${pick(['s', 'a', '.j', 'e', 'b'])}*`,
    () => `[[:alpha:]][!.]*`,
    () => `[]!#]*`,
    () => `[a-c]?`,
    () => `**/${pick(DIRS)}/**`,
    () => `${pick(DIRS)}/**/`,
    () => `/**/${escape(name())}`,
    () => escape(pick(tree.files).split('/').pop()!),
    () => pick(tree.dirs.filter((d) => d !== '')) ?? 'src',
    () => `# a comment`,
    () => ``,
    () => `${escape(name())}   `,
  ];
  const line = pick(shapes)();
  return rand() < 0.3 && line !== '' && !line.startsWith('#') ? `!${line}` : line;
}

function ignoreText(rand: () => number, tree: Tree): string {
  const lines = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => makePattern(rand, tree));
  return `${lines.join(rand() < 0.2 ? '\r\n' : '\n')}\n`;
}

function writeFiles(dir: string, tree: Tree): void {
  for (const sub of tree.dirs) mkdirSync(join(dir, sub), { recursive: true });
  for (const file of tree.files) writeFileSync(join(dir, file), `${file}\n`);
  writeFileSync(join(dir, 'svc.yaml'), stringifyManifest(manifest));
}

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

/** git's answer, less what svc never ships: the top-level config/ (the overlay) and .svc/. */
function gitFiles(dir: string): string[] {
  const out = execFileSync(
    'git',
    ['-C', dir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { env: gitEnv, encoding: 'utf8' },
  );
  return [...new Set(out.split('\0').filter((path) => path !== ''))]
    .filter((path) => !path.startsWith('config/') && !path.startsWith('.svc/'))
    .sort();
}

function shippedFiles(dir: string): string[] {
  try {
    return readProject(dir)
      .release.map((file) => file.path)
      .sort();
  } catch (error) {
    return [`(error: ${(error as Error).message})`];
  }
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
    expected = gitFiles(dir);
  } else {
    const asGit = writeSvcignoreTree(dir, tree, rand);
    shipped = shippedFiles(dir);
    expected = gitFiles(asGit);
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
    it(`agrees with git ls-files on every random tree (${kind})`, () => {
      console.log(`ignore differential (${kind}): SVC_IGNORE_SEED=${SEED}`);
      const disagreements: string[] = [];
      for (let index = 0; index < CASES; index++) {
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
