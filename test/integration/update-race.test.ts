// svc update against a project that changes under it: a directory swapped for a link after svc
// update checked it and before it writes (the swap is made while svc update prints its report,
// which is after every check and read and before the first write), and a generated file that
// is a link, refused with what to do (and doing that works). Real projects from the real
// `svc new` (bin/svc), real git; the update runs in this process so that its report can be
// intercepted. Needs git and a built dist/ (npm run build).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  renameSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUpdate, type UpdateFlags } from '../../src/cli/update.js';
import { SVC } from '../helpers/sandbox.js';

const NAME = 'www-shop';
const MONIT = `config/etc/monit/conf.d/${NAME}`;

let work = '';
let template = '';
let count = 0;

const git = (dir: string, ...args: string[]) =>
  execFileSync('git', ['-c', 'user.name=t', '-c', 'user.email=t@example.com', '-C', dir, ...args], {
    encoding: 'utf8',
  });
const commit = (dir: string) => {
  git(dir, 'add', '-A');
  git(dir, 'commit', '-qm', 'edit');
};

function project(): string {
  const dir = join(work, `p${++count}`);
  cpSync(template, dir, { recursive: true });
  git(dir, 'init', '-q');
  commit(dir);
  return dir;
}

/** svc update in `dir`; `meanwhile` runs once, when svc update first writes its report. */
async function update(dir: string, flags: UpdateFlags = {}, meanwhile?: () => void) {
  let out = '';
  let ran = false;
  const sink = {
    write: (text: string) => {
      if (!ran) meanwhile?.();
      ran = true;
      out += text;
      return true;
    },
  } as unknown as NodeJS.WritableStream;
  const code = await runUpdate(flags, { cwd: dir, out: sink });
  return { code, out };
}

/** Every entry under `dir` with its bytes (or the link's target), outside .git/. */
function tree(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .filter((entry) => !(prefix === '' && entry.name === '.git'))
    .flatMap((entry) => {
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) return tree(dir, `${path}/`);
      const full = join(dir, path);
      return lstatSync(full).isSymbolicLink()
        ? [`${path} -> link`]
        : [`${path} ${readFileSync(full).toString('hex')}`];
    })
    .sort();
}

beforeAll(() => {
  if (!existsSync(join(SVC, '..', '..', 'dist', 'bundle', 'svc.mjs')))
    throw new Error('dist/ is missing: run npm run build first');
  work = mkdtempSync(join(tmpdir(), 'svc-update-race-'));
  template = join(work, 'template');
  execFileSync(
    SVC,
    ['new', NAME, '--yes', '--runtime', 'node', '--init', 'systemd', '--cutover', 'restart'].concat(
      ['--user', 'daemon', '--dir', template],
    ),
    { env: { ...process.env, NO_COLOR: '1' } },
  );
});

afterAll(() => {
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc update while the project changes', () => {
  it('a directory swapped for a link after the checks is refused when written, nothing written through it or kept', async () => {
    const dir = project();
    const outside = join(work, `outside-${++count}`);
    cpSync(join(dir, 'config/etc/monit'), outside, { recursive: true });
    const outsideWas = tree(outside);
    const swap = () => {
      renameSync(join(dir, 'config/etc/monit'), join(dir, 'config/etc/monit.real'));
      symlinkSync(outside, join(dir, 'config/etc/monit'));
    };
    await expect(update(dir, { port: '4000' }, swap)).rejects.toThrow(
      `config/etc/monit: a symbolic link; svc update reads and writes ${MONIT} only through the project's own directories`,
    );
    expect(tree(outside)).toEqual(outsideWas);
    // Nothing staged is left, and nothing was renamed into place: the project is as committed
    // (but for the swap itself).
    expect(git(dir, 'status', '--porcelain', '--untracked-files=all')).toBe(
      ' D config/etc/monit/conf.d/www-shop\n?? config/etc/monit\n?? config/etc/monit.real/conf.d/www-shop\n',
    );
  });

  it('a generated file swapped for a link after the checks is replaced, never written through', async () => {
    const dir = project();
    const victim = join(work, `victim-${++count}`);
    writeFileSync(victim, 'precious\n');
    const swap = () => {
      rmSync(join(dir, MONIT));
      symlinkSync(victim, join(dir, MONIT));
    };
    const { code } = await update(dir, { port: '4000' }, swap);
    expect(code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, MONIT)).isFile()).toBe(true);
    expect(readFileSync(join(dir, MONIT), 'utf8')).toContain('4000');
  });

  it('a generated file that is a link is refused saying what to do, and doing it works', async () => {
    const dir = project();
    const elsewhere = join(work, `elsewhere-${++count}`);
    renameSync(join(dir, MONIT), elsewhere);
    symlinkSync(elsewhere, join(dir, MONIT));
    commit(dir);
    const was = tree(dir);
    await expect(update(dir, { port: '4000' })).rejects.toThrow(
      `${MONIT}: a symbolic link (to ${elsewhere}); svc update merges regular files only, never through a link: replace it with a copy of what it points to (cp --remove-destination -- "$(readlink -f ${MONIT})" ${MONIT}) or delete it (it then stays deleted), commit, and run svc update again`,
    );
    expect(tree(dir)).toEqual(was);
    // The advice, as written, run in the project.
    execFileSync('sh', ['-c', `cp --remove-destination -- "$(readlink -f ${MONIT})" ${MONIT}`], {
      cwd: dir,
    });
    commit(dir);
    const { code } = await update(dir, { port: '4000' });
    expect(code).toBe(0);
    expect(lstatSync(join(dir, MONIT)).isFile()).toBe(true);
    expect(readFileSync(join(dir, MONIT), 'utf8')).toContain('4000');
    expect(readFileSync(elsewhere, 'utf8')).not.toContain('4000');
  });
});
