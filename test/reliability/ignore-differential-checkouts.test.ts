// What ships is what git would track, for a project that is not the top of its own checkout:
// (1) a project 1-3 directories below the top of a larger checkout (a monorepo), with .gitignore
// files in the directories above it and in sibling directories, info/exclude and tracked files,
// compared with `git ls-files --cached --others --exclude-standard` run in the project directory;
// (2) a project holding nested checkouts (a repository cloned into it, or one added as a gitlink
// like a submodule), each with its own ignore files, info/exclude and tracked files, compared with
// git's listing where each nested checkout's entry is replaced by what its own git lists.
// SVC_IGNORE_SEED=N replays a run, SVC_IGNORE_CASES=N sets how many trees.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  DIRS,
  FILES,
  gitFiles,
  ignoreText,
  isolatedGitEnv,
  makePattern,
  makeTree,
  random,
  shippedFiles,
  writeFiles,
  type Tree,
} from './helpers/ignore-trees.js';
import { breathe } from '../helpers/breathe.js';

const SEED = Number(process.env.SVC_IGNORE_SEED ?? Math.floor(Math.random() * 2 ** 31));
const CASES = Number(process.env.SVC_IGNORE_CASES ?? 120);
const work = mkdtempSync(join(tmpdir(), 'svc-ignore-checkouts-'));
const gitEnv = isolatedGitEnv(join(work, 'home'));
afterAll(() => rmSync(work, { recursive: true, force: true }));

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], { env: gitEnv, stdio: 'pipe' });

/** `tree` with every path under `prefix` ('' or 'a/b'). */
function under(prefix: string, tree: Tree): Tree {
  const at = (path: string) => (prefix === '' ? path : path === '' ? prefix : `${prefix}/${path}`);
  return { dirs: tree.dirs.map(at), files: tree.files.map(at) };
}

/** Files git tracks although ignored: some of `files`, added with -f. */
function trackSome(dir: string, files: string[], rand: () => number): void {
  const tracked = files.filter(() => rand() < 0.2);
  if (tracked.length > 0) git(dir, 'add', '-f', '--', ...tracked);
}

/**
 * A checkout whose top holds sibling files and the project `prefix` below it; .gitignore files in
 * the directories above the project draw their patterns from the whole checkout's paths, and
 * some name the project's directories outright. Returns the project directory.
 */
function writeMonorepo(top: string, rand: () => number): string {
  const pick = <T>(list: readonly T[]) => list[Math.floor(rand() * list.length)]!;
  const parts = Array.from({ length: 1 + Math.floor(rand() * 3) }, () =>
    pick(['services', 'api-orders', ...DIRS.filter((d) => d !== '.cache')]),
  );
  const prefix = parts.join('/');
  const project = makeTree(rand);
  const outside = makeTree(rand);
  const whole: Tree = {
    dirs: [...new Set([...outside.dirs, ...under(prefix, project).dirs])],
    files: [...outside.files, ...under(prefix, project).files],
  };
  writeFiles(join(top, prefix), project);
  // The outside tree around it, less what collides with the project's paths.
  const attempt = (write: () => void) => {
    try {
      write();
    } catch {
      // a file where a directory is, or the other way round: leave it out
    }
  };
  for (const dir of outside.dirs) attempt(() => mkdirSync(join(top, dir), { recursive: true }));
  for (const file of outside.files)
    if (!file.startsWith(`${prefix}/`)) attempt(() => writeFileSync(join(top, file), `${file}\n`));
  const aboveShapes = (): string => {
    const depth = 1 + Math.floor(rand() * parts.length);
    const path = parts.slice(0, depth).join('/');
    return pick([
      () => makePattern(rand, whole),
      () => `/${path}/`,
      () => `${path}/*`,
      () => `!${path}/`,
      () => `${path}/${pick([...FILES.filter((f) => /^[a-z.]/.test(f)), '*.log', '**/*.md'])}`,
      () => `${parts[depth - 1]}/`,
      () => `!/${path}`,
    ])();
  };
  for (let depth = 0; depth < parts.length; depth++) {
    if (rand() < 0.3) continue;
    const lines = Array.from({ length: 1 + Math.floor(rand() * 5) }, aboveShapes);
    writeFileSync(join(top, ...parts.slice(0, depth), '.gitignore'), `${lines.join('\n')}\n`);
  }
  for (const dir of project.dirs)
    if (rand() < 0.4)
      writeFileSync(join(top, prefix, dir, '.gitignore'), ignoreText(rand, project));
  git(top, 'init', '-q');
  if (rand() < 0.5) writeFileSync(join(top, '.git', 'info', 'exclude'), ignoreText(rand, whole));
  trackSome(top, under(prefix, project).files, rand);
  return join(top, prefix);
}

/**
 * A project checkout with one or two nested checkouts in its directories: some cloned in
 * (untracked), some added to the project's index as a gitlink, each with its own .gitignore
 * files, info/exclude and tracked files. Returns the project directory.
 */
function writeNested(dir: string, rand: () => number): string {
  const tree = makeTree(rand);
  writeFiles(dir, tree);
  for (const sub of tree.dirs)
    if (rand() < 0.45) writeFileSync(join(dir, sub, '.gitignore'), ignoreText(rand, tree));
  git(dir, 'init', '-q');
  const candidates = tree.dirs.filter((d) => d !== '' && d !== 'config');
  const nested: string[] = [];
  for (let i = 0; i < 1 + Math.floor(rand() * 2) && candidates.length > 0; i++) {
    const at = candidates[Math.floor(rand() * candidates.length)]!;
    if (nested.some((n) => at === n || at.startsWith(`${n}/`) || n.startsWith(`${at}/`))) continue;
    nested.push(at);
    const inner = join(dir, at);
    git(inner, 'init', '-q');
    if (rand() < 0.5) writeFileSync(join(inner, '.git', 'info', 'exclude'), ignoreText(rand, tree));
    const files = tree.files
      .filter((f) => f.startsWith(`${at}/`))
      .map((f) => f.slice(at.length + 1));
    trackSome(inner, files, rand);
    if (rand() < 0.5) {
      git(inner, 'commit', '-q', '--allow-empty', '-m', 'nested');
      git(dir, 'add', '-f', '--', at);
    }
  }
  if (rand() < 0.5) writeFileSync(join(dir, '.git', 'info', 'exclude'), ignoreText(rand, tree));
  const outer = tree.files.filter((f) => !nested.some((n) => f.startsWith(`${n}/`)));
  trackSome(dir, outer, rand);
  return dir;
}

function compare(kind: 'monorepo' | 'nested', index: number): string | undefined {
  const rand = random(SEED + index);
  const top = join(work, `${kind}${index}`);
  mkdirSync(top);
  const project = kind === 'monorepo' ? writeMonorepo(top, rand) : writeNested(top, rand);
  const shipped = shippedFiles(project);
  const expected = gitFiles(project, gitEnv);
  if (JSON.stringify(shipped) === JSON.stringify(expected)) {
    rmSync(top, { recursive: true, force: true });
    return undefined;
  }
  const missing = expected.filter((path) => !shipped.includes(path));
  const extra = shipped.filter((path) => !expected.includes(path));
  return `tree ${index} (${project}): svc leaves out ${JSON.stringify(missing)}, ships besides ${JSON.stringify(extra)}`;
}

describe(`what ships from a project that is not the top of its checkout (seed ${SEED}, ${CASES} trees)`, () => {
  for (const kind of ['monorepo', 'nested'] as const) {
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

describe('a project inside a larger checkout, and checkouts inside a project', () => {
  /** A checkout with the project at services/api: a.js, b.log, notes.md and src/c.js in it. */
  function monorepo(name: string): { top: string; project: string } {
    const top = join(work, name);
    const project = join(top, 'services', 'api');
    writeFiles(project, { dirs: ['', 'src'], files: ['a.js', 'b.log', 'notes.md', 'src/c.js'] });
    writeFileSync(join(top, 'README.md'), 'top\n');
    git(top, 'init', '-q');
    return { top, project };
  }

  it('a .svcignore above the project does not apply; the project’s own does', () => {
    const { top, project } = monorepo('svcignore-above');
    writeFileSync(join(top, '.svcignore'), '*.js\n');
    writeFileSync(join(top, 'services', '.svcignore'), 'src/\n');
    writeFileSync(join(project, '.svcignore'), '*.md\n');
    expect(shippedFiles(project)).toEqual(['.svcignore', 'a.js', 'b.log', 'src/c.js', 'svc.yaml']);
  });

  it('git is asked about the project’s own checkout, whatever GIT_* svc runs with', () => {
    const { top, project } = monorepo('git-env');
    writeFileSync(join(top, '.gitignore'), '*.log\n');
    const elsewhere = join(work, 'elsewhere');
    mkdirSync(elsewhere);
    git(elsewhere, 'init', '-q');
    const saved = { ...process.env };
    Object.assign(process.env, {
      GIT_DIR: join(elsewhere, '.git'),
      GIT_WORK_TREE: elsewhere,
      GIT_CEILING_DIRECTORIES: join(top, 'services'),
      GIT_CONFIG_PARAMETERS: `'core.excludesfile'='/dev/null'`,
    });
    try {
      expect(shippedFiles(project)).toEqual(['a.js', 'notes.md', 'src/c.js', 'svc.yaml']);
    } finally {
      for (const name of Object.keys(process.env)) if (!(name in saved)) delete process.env[name];
      Object.assign(process.env, saved);
    }
  });

  it('refuses a submodule that is not checked out, naming it', () => {
    const { top, project } = monorepo('empty-submodule');
    const lib = join(project, 'lib');
    mkdirSync(lib);
    git(lib, 'init', '-q');
    git(lib, 'commit', '-q', '--allow-empty', '-m', 'lib');
    git(top, 'add', '--', 'services/api/lib');
    rmSync(lib, { recursive: true });
    mkdirSync(lib);
    expect(shippedFiles(project)).toEqual([
      '(error: lib: a git submodule that is not checked out (no .git in it); run `git submodule update --init`, or list it in .svcignore)',
    ]);
    writeFileSync(join(project, '.svcignore'), 'lib/\n');
    expect(shippedFiles(project)).toEqual([
      '.svcignore',
      'a.js',
      'b.log',
      'notes.md',
      'src/c.js',
      'svc.yaml',
    ]);
  });

  it('refuses a .git that git does not take for a checkout, naming it', () => {
    const { project } = monorepo('bogus-git');
    mkdirSync(join(project, 'src', '.git'));
    expect(shippedFiles(project)).toEqual([
      `(error: src/.git: git does not take it for a checkout (it says this is services/api/src/ in ${realpathSync(join(work, 'bogus-git'))}); remove it, or list src in .svcignore)`,
    ]);
  });

  it('refuses a .gitignore above the project that is a link, naming it', () => {
    const { top, project } = monorepo('linked-above');
    symlinkSync('/etc/hostname', join(top, 'services', '.gitignore'));
    expect(shippedFiles(project)).toEqual([
      `(error: ${realpathSync(top)}/services/.gitignore: a symbolic link (to /etc/hostname); svc reads regular files only)`,
    ]);
  });
});
