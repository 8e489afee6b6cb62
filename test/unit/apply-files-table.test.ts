// The apply script's file commands, case by case: the temporary names, how runs of directories
// are grouped into commands, and the one-line refusals with their text made safe for sh.
import { spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  rmSync,
  statSync,
  symlinkSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  CP,
  MV,
  checkPrivateDir,
  createLink,
  dirCreate,
  emitDirCreates,
  emitFileInstalls,
  fileInstall,
  privateDir,
  temporaryName,
  updateDir,
} from '../../src/core/apply-files.js';

describe('temporaryName', () => {
  it.each([
    ['/etc/app/app.conf', '/etc/app/.app.conf.svc-new'],
    ['/top', '/.top.svc-new'],
    ['/a/b/c', '/a/b/.c.svc-new'],
  ])('%s -> %s', (path, name) => {
    expect(temporaryName(path)).toBe(name);
  });
});

describe('emitFileInstalls', () => {
  const f = (path: string, mode = 0o644, owner = 'root') =>
    fileInstall(`S${path.slice(path.lastIndexOf('/') + 1)}`, { path, mode, owner, group: owner });
  const emit = (lines: string[]) => {
    emitFileInstalls(lines);
    return lines;
  };
  const one = (path: string, mode: string, owner = 'root') =>
    `install -T -m ${mode} -o ${owner} -g ${owner} -- S${path.slice(path.lastIndexOf('/') + 1)} ${path.replace(/[^/]*$/, (name) => `.${name}.svc-new`)}\nmv -f -T -- ${path.replace(/[^/]*$/, (name) => `.${name}.svc-new`)} ${path}`;
  it.each([
    ['nothing to install', ['echo a'], ['echo a']],
    ['one file: install -T and mv', [f('/etc/a')], [one('/etc/a', '0644')]],
    [
      'three files of one directory, mode and owner: one install -t, a rename each',
      [
        f('/s/x/start', 0o755, 'deploy'),
        f('/s/x/stop', 0o755, 'deploy'),
        f('/s/x/logs', 0o755, 'deploy'),
      ],
      [
        'install -m 0755 -o deploy -g deploy -t /s/x -- Sstart Sstop Slogs',
        'mv -f -T -- /s/x/.start.svc-new /s/x/start',
        'mv -f -T -- /s/x/.stop.svc-new /s/x/stop',
        'mv -f -T -- /s/x/.logs.svc-new /s/x/logs',
      ],
    ],
    [
      'two directories',
      [f('/etc/a'), f('/etc/d/b')],
      [one('/etc/a', '0644'), one('/etc/d/b', '0644')],
    ],
    [
      'two modes',
      [f('/etc/a'), f('/etc/b', 0o600)],
      [one('/etc/a', '0644'), one('/etc/b', '0600')],
    ],
    [
      'two owners',
      [f('/etc/a'), f('/etc/b', 0o644, 'app')],
      [one('/etc/a', '0644'), one('/etc/b', '0644', 'app')],
    ],
    [
      'another command between',
      [f('/etc/a'), 'echo x', f('/etc/b')],
      [one('/etc/a', '0644'), 'echo x', one('/etc/b', '0644')],
    ],
    [
      'a file at the root',
      [f('/a'), f('/b')],
      [
        'install -m 0644 -o root -g root -t / -- Sa Sb',
        'mv -f -T -- /.a.svc-new /a',
        'mv -f -T -- /.b.svc-new /b',
      ],
    ],
  ])('%s', (_, lines, expected) => {
    expect(emit(lines)).toEqual(expected);
  });
});

describe('emitDirCreates', () => {
  const emit = (lines: string[]) => {
    emitDirCreates(lines);
    return lines;
  };
  it.each([
    ['nothing to make', ['echo a', 'echo b'], ['echo a', 'echo b']],
    [
      'one directory',
      [dirCreate('/srv/a/b', 0o750, 'app', 'grp')],
      ['mkdir -p -- /srv/a', 'mkdir -m 0750 -- /srv/a/b', 'chown -h app:grp -- /srv/a/b'],
    ],
    [
      'a run with one mode and owner: one mkdir, parents that are not in the run',
      [
        'echo before',
        dirCreate('/srv/a', 0o755, 'root', 'root'),
        dirCreate('/srv/a/b', 0o755, 'root', 'root'),
        'echo after',
      ],
      [
        'echo before',
        'mkdir -p -- /srv',
        'mkdir -m 0755 -- /srv/a /srv/a/b',
        'chown -h root:root -- /srv/a /srv/a/b',
        'echo after',
      ],
    ],
    [
      'a directory at the root: its parent is /, already there',
      [dirCreate('/srv', 0o755, 'root', 'root')],
      ['mkdir -p -- /', 'mkdir -m 0755 -- /srv', 'chown -h root:root -- /srv'],
    ],
    [
      'a different mode starts a new run',
      [dirCreate('/a/x', 0o755, 'root', 'root'), dirCreate('/a/y', 0o700, 'root', 'root')],
      [
        'mkdir -p -- /a',
        'mkdir -m 0755 -- /a/x',
        'chown -h root:root -- /a/x',
        'mkdir -p -- /a',
        'mkdir -m 0700 -- /a/y',
        'chown -h root:root -- /a/y',
      ],
    ],
    [
      'a different owner starts a new run',
      [dirCreate('/a/x', 0o755, 'root', 'root'), dirCreate('/a/y', 0o755, 'app', 'root')],
      [
        'mkdir -p -- /a',
        'mkdir -m 0755 -- /a/x',
        'chown -h root:root -- /a/x',
        'mkdir -p -- /a',
        'mkdir -m 0755 -- /a/y',
        'chown -h app:root -- /a/y',
      ],
    ],
    [
      'a different group starts a new run',
      [dirCreate('/a/x', 0o755, 'root', 'root'), dirCreate('/a/y', 0o755, 'root', 'app')],
      [
        'mkdir -p -- /a',
        'mkdir -m 0755 -- /a/x',
        'chown -h root:root -- /a/x',
        'mkdir -p -- /a',
        'mkdir -m 0755 -- /a/y',
        'chown -h root:app -- /a/y',
      ],
    ],
    [
      'a hostile name stays one word',
      [dirCreate("/a/it's $(x)", 0o755, 'root', 'root')],
      [
        'mkdir -p -- /a',
        "mkdir -m 0755 -- '/a/it'\\''s $(x)'",
        "chown -h root:root -- '/a/it'\\''s $(x)'",
      ],
    ],
  ])('%s', (_, lines, expected) => {
    expect(emit([...lines])).toEqual(expected);
  });

  // isDirectory: the parents the facts showed as real directories get no `mkdir -p`.
  it.each<[string, string[], string[], string[]]>([
    [
      'every parent there: no mkdir -p, the runs follow each other',
      [dirCreate('/a/x', 0o755, 'root', 'root'), dirCreate('/b/y', 0o700, 'app', 'app')],
      ['/a', '/b'],
      [
        'mkdir -m 0755 -- /a/x',
        'chown -h root:root -- /a/x',
        'mkdir -m 0700 -- /b/y',
        'chown -h app:app -- /b/y',
        'echo after',
      ],
    ],
    [
      'one parent of two there: mkdir -p of the other only',
      [dirCreate('/a/x', 0o755, 'root', 'root'), dirCreate('/b/y', 0o755, 'root', 'root')],
      ['/a'],
      [
        'mkdir -p -- /b',
        'mkdir -m 0755 -- /a/x /b/y',
        'chown -h root:root -- /a/x /b/y',
        'echo after',
      ],
    ],
    [
      'a directory svc does not know of: mkdir -p as before',
      [dirCreate('/a/x', 0o755, 'root', 'root')],
      ['/b', '/a/x'],
      ['mkdir -p -- /a', 'mkdir -m 0755 -- /a/x', 'chown -h root:root -- /a/x', 'echo after'],
    ],
  ])('%s', (_, lines, there, expected) => {
    const out = [...lines, 'echo after'];
    emitDirCreates(out, (path) => there.includes(path));
    expect(out).toEqual(expected);
  });
});

describe('the refusals and commands', () => {
  it('privateDir without the check: made if missing, kept if a directory', () => {
    expect(privateDir('/var/lib/svc', false)).toBe(
      '[ -d /var/lib/svc ] && [ ! -L /var/lib/svc ] || mkdir -m 0700 -- /var/lib/svc',
    );
    expect(privateDir('/var/lib/svc')).toBe(
      `if [ -d /var/lib/svc ] && [ ! -L /var/lib/svc ]; then\n${checkPrivateDir('/var/lib/svc')}\nelse mkdir -m 0700 -- /var/lib/svc; fi`,
    );
  });

  // privateDir with the check, run by a real sh (as root, like the apply script): a directory
  // that was there is checked, one it makes is root's 0700 without a stat, a link is never used.
  it.each([
    ['missing: made 0700', (_dir: string) => {}, 0, 'reached\n', '40700'],
    [
      'a root directory 0700: kept',
      (dir: string) => mkdirSync(dir, 0o700),
      0,
      'reached\n',
      '40700',
    ],
    [
      'a directory writable by its group: refused',
      (dir: string) => {
        mkdirSync(dir);
        chmodSync(dir, 0o770);
      },
      1,
      'FAIL',
      '40770',
    ],
    [
      'another owner: refused',
      (dir: string) => {
        mkdirSync(dir, 0o700);
        chownSync(dir, 1000, 1000);
      },
      1,
      'FAIL',
      '40700',
    ],
    [
      'a link to a directory: mkdir fails, the target untouched',
      (dir: string) => {
        mkdirSync(`${dir}-target`, 0o755);
        symlinkSync(`${dir}-target`, dir);
      },
      1,
      '',
      '120777',
    ],
  ])('privateDir: %s', (_, arrange, code, out, mode) => {
    const root = mkdtempSync(join(tmpdir(), 'svc-private-'));
    try {
      const dir = join(root, 'state');
      arrange(dir);
      // set -e, as in the apply script: a failing mkdir ends it.
      const sh = spawnSync(
        'sh',
        ['-c', `set -eu\nsay() { printf '%s\\n' "$*"; }\n${privateDir(dir)}\necho reached`],
        { encoding: 'utf8' },
      );
      expect([sh.status, sh.stdout.split('\t')[0]]).toEqual([code, out]);
      expect(lstatSync(dir).mode.toString(8)).toBe(mode);
      if (mode === '120777') expect(statSync(`${dir}-target`).mode.toString(8)).toBe('40755');
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  /** Runs sh text with say() printing: exit code and what was said. */
  const said = (text: string) => {
    const run = spawnSync('sh', ['-c', `say() { printf '%s\\n' "$*"; }\n${text}\necho reached`], {
      encoding: 'utf8',
    });
    return { code: run.status, out: run.stdout };
  };

  it.each([
    ['/nonexistent/svc', '/nonexistent/svc'],
    ['/nonexistent/"$x`y\\z', '/nonexistent/xyz'],
  ])('checkPrivateDir of a missing %s: one line naming %s, exit 1', (dir, shown) => {
    expect(said(checkPrivateDir(dir))).toEqual({
      code: 1,
      out: `FAIL\t${shown} is not root's own private directory (a link, another owner, or writable by group or others); svc does not keep its state there\n`,
    });
  });

  it.each([
    ['/nonexistent/data', '/nonexistent/data'],
    ['/nonexistent/"$x`y\\z', '/nonexistent/xyz'],
  ])('updateDir of a missing %s: one line naming %s, exit 1', (path, shown) => {
    const [check, chown, chmod] = updateDir(path, 0o2750, 'app', 'grp');
    expect(said(check!)).toEqual({ code: 1, out: `FAIL\t${shown} is no longer a directory\n` });
    expect(chown).toMatch(/^chown -h app:grp -- /);
    expect(chmod).toMatch(/^chmod 2750 -- /);
  });

  it('updateDir and checkPrivateDir pass a real directory of root (/)', () => {
    expect(said(checkPrivateDir('/'))).toEqual({ code: 0, out: 'reached\n' });
    expect(said(updateDir('/', 0o755, 'root', 'root')[0]!)).toEqual({ code: 0, out: 'reached\n' });
  });

  it('the no-follow forms', () => {
    expect([CP, MV, createLink('/a/l', 'releases/x')]).toEqual([
      'cp -p -P -T --remove-destination --',
      'mv -f -T --',
      'ln -s -T -- releases/x /a/l',
    ]);
  });
});
