// Random project trees and git's answer for them, for the differential tests of what ships
// (ignore-differential*.test.ts). git runs isolated from this machine's and this user's
// configuration (HOME, XDG_CONFIG_HOME, no system or global config file): svc never reads a
// global excludes file, so the oracle must not either, and the two agree by construction.
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringifyManifest } from '../../../src/core/manifest-file.js';
import { readProject } from '../../../src/project/read.js';
import { manifest } from '../../helpers/plan-fixtures.js';

/** git's environment for the oracle: no GIT_* from outside, no configuration but the repo's. */
export function isolatedGitEnv(home: string): NodeJS.ProcessEnv {
  mkdirSync(home, { recursive: true });
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env))
    if (!name.startsWith('GIT_')) env[name] = value;
  return {
    ...env,
    HOME: home,
    XDG_CONFIG_HOME: home,
    GIT_CONFIG_NOSYSTEM: '1',
    GIT_CONFIG_GLOBAL: '/dev/null',
    GIT_AUTHOR_NAME: 'svc test',
    GIT_AUTHOR_EMAIL: 'svc@example.invalid',
    GIT_COMMITTER_NAME: 'svc test',
    GIT_COMMITTER_EMAIL: 'svc@example.invalid',
  };
}

/** mulberry32: small, seedable, good enough to pick from lists. */
export function random(seed: number): () => number {
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
export const DIRS = [
  'src',
  'config',
  'build',
  'lib',
  'a',
  'b',
  'node_modules',
  'deep',
  '.cache',
  'Docs',
];
export const FILES = [
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

export interface Tree {
  dirs: string[];
  files: string[];
}

export function makeTree(rand: () => number): Tree {
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
export function makePattern(rand: () => number, tree: Tree): string {
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

export function ignoreText(rand: () => number, tree: Tree): string {
  const lines = Array.from({ length: 1 + Math.floor(rand() * 5) }, () => makePattern(rand, tree));
  return `${lines.join(rand() < 0.2 ? '\r\n' : '\n')}\n`;
}

export function writeFiles(dir: string, tree: Tree): void {
  for (const sub of tree.dirs) mkdirSync(join(dir, sub), { recursive: true });
  for (const file of tree.files) writeFileSync(join(dir, file), `${file}\n`);
  writeFileSync(join(dir, 'svc.yaml'), stringifyManifest(manifest));
}

/**
 * git's answer, less what svc never ships: the top-level config/ (the overlay) and .svc/. git
 * lists a nested checkout as one entry ('lib/' untracked, 'lib' a gitlink) and does not descend;
 * what svc promises for one is what that checkout's own git lists, so that listing takes its place.
 */
export function gitFiles(dir: string, gitEnv: NodeJS.ProcessEnv): string[] {
  return listed(dir, gitEnv)
    .filter((path) => !path.startsWith('config/') && !path.startsWith('.svc/'))
    .sort();
}

function listed(dir: string, gitEnv: NodeJS.ProcessEnv): string[] {
  const out = execFileSync(
    'git',
    ['-C', dir, 'ls-files', '-z', '--cached', '--others', '--exclude-standard'],
    { env: gitEnv, encoding: 'utf8' },
  );
  return [...new Set(out.split('\0').filter((path) => path !== ''))].flatMap((path) => {
    const entry = path.replace(/\/$/, '');
    if (!existsSync(join(dir, entry, '.git'))) return [path];
    return listed(join(dir, entry), gitEnv).map((inner) => `${entry}/${inner}`);
  });
}

export function shippedFiles(dir: string): string[] {
  try {
    return readProject(dir)
      .release.map((file) => file.path)
      .sort();
  } catch (error) {
    return [`(error: ${(error as Error).message})`];
  }
}
