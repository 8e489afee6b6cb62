// Issue 15, review finding 3: a .svc/secrets/ENV that git tracks was read silently; its values
// are in the repository. svc refuses it in one line naming the file and `git rm --cached`, asking
// the real git (through the project's checkout reader) which files it tracks. Each case is a
// fresh directory: how git holds the file, and what lookUpSecrets then says.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { trackedSecretsFileRefusal } from '../../src/core/secrets.js';
import { lookUpSecrets } from '../../src/project/secrets.js';
import { manifest } from '../helpers/plan-fixtures.js';

const F = '.svc/secrets/production';
const REFUSED = `${F}: git tracks it, so its values are in the repository; run git rm --cached ${F}, then change those values`;
let scratch: string;
beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'svc-secrets-tracked-'));
});
afterAll(() => {
  if (scratch) rmSync(scratch, { recursive: true, force: true });
});

/** git, as a user would run it in the directory; no GIT_* of this process leaks in. */
const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-C', dir, ...args], {
    env: { PATH: process.env.PATH, HOME: scratch },
    stdio: ['ignore', 'pipe', 'pipe'],
  });

type Setup = (top: string, project: string) => void;
let count = 0;
/** A project (at `sub` inside the work tree), its secrets file 0600, then `setup`. */
function prepare(setup: Setup, sub = ''): string {
  const top = join(scratch, `case-${++count}`);
  const project = join(top, sub);
  mkdirSync(join(project, '.svc', 'secrets'), { recursive: true });
  writeFileSync(join(project, F), 'DB_PASSWORD=from-file\n', { mode: 0o600 });
  setup(top, project);
  return project;
}

const project: Manifest = { ...manifest, secrets: ['DB_PASSWORD'] };
async function outcome(dir: string, env: Record<string, string> = {}): Promise<string> {
  try {
    const { resolved, problems } = await lookUpSecrets(dir, project, 'production', env);
    return [...resolved.map((s) => `${s.source} ${s.where}`), ...problems.map((p) => p.line)].join(
      '\n',
    );
  } catch (error) {
    return `refused: ${(error as Error).message}`;
  }
}

describe('a secrets file git tracks', () => {
  it('is refused in one line naming the file and git rm --cached', () => {
    expect(trackedSecretsFileRefusal('.svc/secrets/staging')).toBe(
      '.svc/secrets/staging: git tracks it, so its values are in the repository; run git rm --cached .svc/secrets/staging, then change those values',
    );
  });

  it.each<[string, Setup, string, Record<string, string>?]>([
    ['no git checkout', () => {}, `file ${F}`],
    [
      'a checkout that ignores it',
      (top) => {
        git(top, 'init', '-q');
        writeFileSync(join(top, '.gitignore'), '/.svc/secrets/\n');
      },
      `file ${F}`,
    ],
    ['a checkout that neither tracks nor ignores it', (top) => git(top, 'init', '-q'), `file ${F}`],
    [
      'tracked (git add -f over the ignore)',
      (top) => {
        git(top, 'init', '-q');
        writeFileSync(join(top, '.gitignore'), '/.svc/secrets/\n');
        git(top, 'add', '-f', F);
      },
      `refused: ${REFUSED}`,
    ],
    [
      'tracked, and others may read it: the tracking is said first',
      (top) => {
        git(top, 'init', '-q');
        git(top, 'add', F);
        chmodSync(join(top, F), 0o644);
      },
      `refused: ${REFUSED}`,
    ],
    [
      'tracked, then git rm --cached',
      (top) => {
        git(top, 'init', '-q');
        git(top, 'add', F);
        git(top, 'rm', '-q', '--cached', F);
      },
      `file ${F}`,
    ],
    [
      'tracked, but every key comes from the environment: the file is not read',
      (top) => {
        git(top, 'init', '-q');
        git(top, 'add', F);
      },
      'environment $DB_PASSWORD__PRODUCTION',
      { DB_PASSWORD__PRODUCTION: 'x' },
    ],
  ])('%s', async (_, setup, expected, env) => {
    expect(await outcome(prepare(setup), env)).toBe(expected);
  });

  it('a project inside a larger work tree (a monorepo): tracked there is tracked', async () => {
    const dir = prepare(
      (top) => {
        git(top, 'init', '-q');
        git(top, 'add', join('services', 'api', F));
      },
      join('services', 'api'),
    );
    expect(await outcome(dir)).toBe(`refused: ${REFUSED}`);
  });
});
