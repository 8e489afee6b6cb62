// svc update on projects someone else left in odd shapes (issue 13 review): bytes that are not
// UTF-8, a link planted where update stages a file, a FILE.rej that is a directory, a linked
// directory met by --adopt, a rename staged in git. Real projects from the real `svc new`
// (bin/svc), real git; the update runs in this process so that its temporary names are known.
// Needs git and a built dist/ (npm run build).
import { execFileSync } from 'node:child_process';
import {
  cpSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runUpdate, type UpdateFlags } from '../../src/cli/update.js';
import { SVC_VERSION } from '../../src/cli/version.js';
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

async function update(dir: string, flags: UpdateFlags = {}) {
  let out = '';
  const sink = {
    write: (text: string) => ((out += text), true),
  } as unknown as NodeJS.WritableStream;
  const code = await runUpdate(flags, { cwd: dir, out: sink });
  return { code, out };
}

/** Every file's path, bytes and mode, and every link, outside .git/. */
function snapshot(dir: string, prefix = ''): string[] {
  return readdirSync(join(dir, prefix), { withFileTypes: true })
    .filter((entry) => !(prefix === '' && entry.name === '.git'))
    .flatMap((entry) => {
      const path = `${prefix}${entry.name}`;
      if (entry.isDirectory()) return snapshot(dir, `${path}/`);
      const stat = lstatSync(join(dir, path));
      const what = stat.isSymbolicLink() ? 'link' : readFileSync(join(dir, path)).toString('hex');
      return [`${path} ${stat.mode.toString(8)} ${stat.mtimeMs} ${what}`];
    })
    .sort();
}

beforeAll(() => {
  if (!existsSync(join(SVC, '..', '..', 'dist', 'bundle', 'svc.mjs')))
    throw new Error('dist/ is missing: run npm run build first');
  work = mkdtempSync(join(tmpdir(), 'svc-update-review-'));
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

describe('svc update on odd projects', () => {
  it('a file that is not UTF-8 (a Latin-1 comment) is refused naming it, never rewritten with U+FFFD', async () => {
    const dir = project();
    writeFileSync(
      join(dir, MONIT),
      Buffer.concat([readFileSync(join(dir, MONIT)), Buffer.from('# caf\xe9\n', 'latin1')]),
    );
    commit(dir);
    const was = snapshot(dir);
    await expect(update(dir, { port: '4000' })).rejects.toThrow(
      `${MONIT}: not UTF-8 text; svc update merges text only (convert it to UTF-8, commit, and run it again)`,
    );
    expect(snapshot(dir)).toEqual(was);
  });

  it('a link planted where update stages svc.yaml is not written through; svc.yaml stays a file', async () => {
    const dir = project();
    const victim = join(work, `victim-${++count}`);
    writeFileSync(victim, 'precious\n');
    // The temporary name is .svc.yaml.svc-update-PID beside the target; a leftover or planted
    // entry there must be replaced, not followed.
    symlinkSync(victim, join(dir, `.svc.yaml.svc-update-${process.pid}`));
    const { code } = await update(dir, { port: '4000', force: true });
    expect(code).toBe(0);
    expect(readFileSync(victim, 'utf8')).toBe('precious\n');
    expect(lstatSync(join(dir, 'svc.yaml')).isFile()).toBe(true);
    expect(readFileSync(join(dir, 'svc.yaml'), 'utf8')).toContain('port: 4000\n');
  });

  it('--conflict rej where FILE.rej is a directory: refused naming it before anything is written', async () => {
    const dir = project();
    const monit = join(dir, MONIT);
    writeFileSync(
      monit,
      readFileSync(monit, 'utf8').replace('with timeout 5 seconds', 'with timeout 9 seconds'),
    );
    mkdirSync(`${monit}.rej`);
    writeFileSync(join(`${monit}.rej`, 'keep'), 'mine\n');
    commit(dir);
    const was = snapshot(dir);
    await expect(update(dir, { port: '4000', conflict: 'rej' })).rejects.toThrow(
      `${MONIT}.rej: a directory; svc update writes regular files only (move it away, then run it again)`,
    );
    expect(snapshot(dir)).toEqual(was);
  });

  it('--adopt in a project whose config/etc/monit is a link: refused naming it, nothing read there or recorded', async () => {
    const dir = project();
    rmSync(join(dir, '.svc'), { recursive: true });
    const outside = join(work, `outside-${++count}`);
    cpSync(join(dir, 'config/etc/monit'), outside, { recursive: true });
    rmSync(join(dir, 'config/etc/monit'), { recursive: true });
    symlinkSync(outside, join(dir, 'config/etc/monit'));
    commit(dir);
    const was = snapshot(dir);
    await expect(update(dir, { adopt: true })).rejects.toThrow(
      `config/etc/monit: a symbolic link; svc update reads and writes ${MONIT} only through the project's own directories`,
    );
    expect(snapshot(dir)).toEqual(was);
  });

  it('a rename staged in git is named whole in the refusal (both paths)', async () => {
    const dir = project();
    git(dir, 'mv', 'README.md', 'README-old.md');
    await expect(update(dir)).rejects.toThrow(
      `${dir}: uncommitted changes (README-old.md, README.md); commit them first`,
    );
  });

  it("a project recorded by a newer svc is not taken back to this svc's scaffold (unless --force)", async () => {
    const dir = project();
    const answers = join(dir, '.svc/scaffold/answers.yaml');
    writeFileSync(answers, readFileSync(answers, 'utf8').replace(/^svc: .*$/m, 'svc: 99.0.0'));
    commit(dir);
    const was = snapshot(dir);
    await expect(update(dir)).rejects.toThrow(
      `.svc/scaffold/answers.yaml: made by svc 99.0.0, newer than this one (${SVC_VERSION}); an update would take the project back to svc ${SVC_VERSION}'s scaffold: run a newer svc, or pass --force`,
    );
    await expect(update(dir, { dryRun: true })).rejects.toThrow('made by svc 99.0.0');
    expect(snapshot(dir)).toEqual(was);
    expect((await update(dir, { force: true })).code).toBe(0);
  });

  it('a file name with a terminal escape (in the record, or untracked) is shown quoted, never raw', async () => {
    const dir = project();
    const odd = '\u001b[2Jodd';
    writeFileSync(join(dir, '.svc/scaffold/files', odd), 'x\n');
    commit(dir);
    const { out } = await update(dir);
    expect(out).toContain('"\\u001b[2Jodd"');
    expect(out).not.toContain('\u001b');
    const other = project();
    writeFileSync(join(other, odd), 'mine\n');
    const refusal = await update(other).then(
      () => '',
      (error: Error) => error.message,
    );
    expect(refusal).toContain('uncommitted changes ("\\u001b[2Jodd")');
    expect(refusal).not.toContain('\u001b');
  });
});
