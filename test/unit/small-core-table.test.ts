// The small pure modules as tables (issue 17): typo hints, the sandbox kind and inventory, the
// error types and exit codes, and what svc refuses to ship whatever the host.
import { describe, expect, it } from 'vitest';
import { EXIT, InterruptedError, SvcError } from '../../src/core/errors.js';
import { projectProblems } from '../../src/core/project-problems.js';
import {
  parseSandboxInventory,
  SANDBOX_GROUP,
  SANDBOX_INVENTORY_FILE,
  SANDBOX_KNOWN_HOSTS_FILE,
  sandboxStateDir,
} from '../../src/core/sandbox-inventory.js';
import { chooseSandboxKind } from '../../src/core/sandbox-kind.js';
import { closest, didYouMean, editDistance } from '../../src/core/suggest.js';
import { file, manifest } from '../helpers/plan-fixtures.js';

describe('editDistance (Levenshtein)', () => {
  it.each([
    ['', '', 0],
    ['', 'abc', 3],
    ['abc', '', 3],
    ['abc', 'abc', 0],
    ['abc', 'abd', 1],
    ['abc', 'ab', 1],
    ['ab', 'abc', 1],
    ['abc', 'xabc', 1],
    ['abc', 'bca', 2],
    ['kitten', 'sitting', 3],
    ['flaw', 'lawn', 2],
    ['Port', 'port', 1],
    ['intention', 'execution', 5],
  ])('%j to %j is %i', (a, b, distance) => {
    expect(editDistance(a, b)).toBe(distance);
    expect(editDistance(b, a)).toBe(distance);
  });
});

describe('closest and didYouMean', () => {
  const keys = ['name', 'port', 'health', 'runtime', 'description'];
  it.each([
    ['prot', 'port'],
    ['PORT', 'port'],
    ['helth', 'health'],
    ['runtim', 'runtime'],
    ['descriptoin', 'description'],
    ['nmae', 'name'],
    ['descr', undefined],
    ['xyz', undefined],
    ['', undefined],
  ])('%j: %s', (input, hint) => {
    expect(closest(input, keys)).toBe(hint);
    expect(didYouMean(input, keys)).toBe(hint === undefined ? '' : ` (did you mean ${hint}?)`);
  });

  it('takes the first of equally close candidates, and keeps its case', () => {
    expect(closest('ab', ['aX', 'Xb'])).toBe('aX');
    expect(closest('ab', ['AB'])).toBe('AB');
  });

  it('reads as a typo within max(2, a third of the input)', () => {
    expect(closest('abcdefghi', ['abcdefXYZ'])).toBe('abcdefXYZ');
    expect(closest('abcdefghi', ['abcdeWXYZ'])).toBeUndefined();
    expect(closest('ab', ['XY'])).toBe('XY');
    expect(closest('abc', ['XYZ'])).toBeUndefined();
    expect(closest('abc', ['XYZ'], 3)).toBe('XYZ');
    expect(closest('abc', ['abd'], 0)).toBeUndefined();
    expect(closest('abc', [])).toBeUndefined();
  });
});

describe('chooseSandboxKind', () => {
  it.each([
    [{ systemd: true }, { init: 'monit' }, { kind: 'systemd' }],
    [{ systemd: true, light: true }, undefined, { kind: 'systemd' }],
    [{ light: true }, { init: 'systemd' }, { kind: 'light' }],
    [{ systemd: false, light: false }, { init: 'openrc' }, { kind: 'light' }],
    [{}, { init: 'upstart' }, { kind: 'light' }],
    [{}, undefined, { kind: 'light' }],
    [
      {},
      { init: 'systemd' },
      {
        kind: 'systemd',
        note: 'svc.yaml here says init: systemd, so these hosts boot systemd (--light for light hosts)',
      },
    ],
  ] as const)('%j with %j: %j', (flags, project, choice) => {
    expect(chooseSandboxKind(flags, project as never)).toEqual(choice);
  });
});

describe('parseSandboxInventory', () => {
  const host = {
    name: 'sbx-1',
    kind: 'light',
    address: '10.231.1.2',
    port: 22,
    user: 'deploy',
    users: ['root', 'deploy'],
    keyFile: '/s/id_ed25519',
    netns: 'svc-x-sbx-1',
    pid: 100,
    pids: [100, 101],
  };
  const inventory = { version: 1, net: '10.231', knownHostsFile: '/s/known_hosts', hosts: [host] };

  it('reads a valid inventory as it is', () => {
    expect(parseSandboxInventory(JSON.stringify(inventory), 'inv.json')).toEqual(inventory);
  });

  it.each([
    ['{', 'inv.json: not valid JSON'],
    ['', 'inv.json: not valid JSON'],
    ['[]', 'inv.json: (root): '],
    [JSON.stringify({ ...inventory, version: 2 }), 'inv.json: version: '],
    [JSON.stringify({ ...inventory, extra: 1 }), 'inv.json: (root): '],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, name: 'sbx-x' }] }),
      'inv.json: hosts.0.name: ',
    ],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, name: 'xsbx-1' }] }),
      'inv.json: hosts.0.name: ',
    ],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, name: 'sbx-1x' }] }),
      'inv.json: hosts.0.name: ',
    ],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, kind: 'heavy' }] }),
      'inv.json: hosts.0.kind: ',
    ],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, port: 22.5 }] }),
      'inv.json: hosts.0.port: ',
    ],
    [
      JSON.stringify({ ...inventory, hosts: [{ ...host, pids: [1.5] }] }),
      'inv.json: hosts.0.pids.0: ',
    ],
    [JSON.stringify({ ...inventory, hosts: [{ ...host, pid: 1.5 }] }), 'inv.json: hosts.0.pid: '],
  ])('refuses %s naming the field', (text, start) => {
    const escaped = start.replace(/[.()]/g, '\\$&');
    expect(() => parseSandboxInventory(text, 'inv.json')).toThrow(
      new RegExp(start.endsWith(' ') ? `^${escaped}\\S` : `^${escaped}$`),
    );
  });

  it('has fixed names for its group and files', () => {
    expect([SANDBOX_GROUP, SANDBOX_INVENTORY_FILE, SANDBOX_KNOWN_HOSTS_FILE]).toEqual([
      'sandbox',
      'inventory.json',
      'known_hosts',
    ]);
  });
});

describe('sandboxStateDir', () => {
  it.each([
    [{ SVC_SANDBOX_DIR: '/s', XDG_STATE_HOME: '/x', HOME: '/h' }, '/s'],
    [{ SVC_SANDBOX_DIR: '', XDG_STATE_HOME: '/x', HOME: '/h' }, '/x/svc/sandbox'],
    [{ XDG_STATE_HOME: '', HOME: '/h' }, '/h/.local/state/svc/sandbox'],
    [{ HOME: '/h' }, '/h/.local/state/svc/sandbox'],
    [{}, '/root/.local/state/svc/sandbox'],
  ])('%j: %s', (env, dir) => {
    expect(sandboxStateDir(env)).toBe(dir);
  });
});

describe('errors', () => {
  it('has the exit codes the README documents', () => {
    expect(EXIT).toEqual({ ok: 0, error: 1, changes: 2, interrupted: 130, closedPipe: 141 });
  });

  it('an SvcError exits 1 unless told, and names itself', () => {
    const error = new SvcError('bad');
    expect([error.message, error.exitCode, error.name, error instanceof Error]).toEqual([
      'bad',
      1,
      'SvcError',
      true,
    ]);
    expect(new SvcError('changes', EXIT.changes).exitCode).toBe(2);
  });

  it('an interruption exits 130', () => {
    const error = new InterruptedError();
    expect([error.message, error.exitCode, error.name, error instanceof SvcError]).toEqual([
      'interrupted',
      130,
      'InterruptedError',
      true,
    ]);
    expect(new InterruptedError('stopped').message).toBe('stopped');
  });
});

describe('projectProblems: each refusal alone', () => {
  const project = (over: Partial<Parameters<typeof projectProblems>[0]>) =>
    projectProblems({ manifest, config: [], release: [], ...over });
  const stated = (path: string, mode: string) => ({
    ...manifest,
    files: { [path]: { mode } },
  });

  it.each([
    [0o4000, '4000'],
    [0o2000, '2000'],
    [0o6755, '6755'],
    [0o104755, '4755'],
  ])('a release file of mode %o is refused as %s', (mode, shown) => {
    expect(project({ release: [file('bin/x', 'x', mode)] })).toEqual([
      `bin/x: mode ${shown} is setuid or setgid; svc installs no such file (chmod ug-s bin/x)`,
    ]);
  });

  it.each([0o1777, 0o0777, 0o100755])('a release file of mode %o is not', (mode) => {
    expect(project({ release: [file('bin/x', 'x', mode)] })).toEqual([]);
  });

  it('a config/ template is checked under its own name, unless svc.yaml states its mode', () => {
    expect(project({ config: [file('etc/x.ejs', 'x', 0o2644)] })).toEqual([
      'config/etc/x.ejs: mode 2644 is setuid or setgid; svc installs no such file (chmod ug-s config/etc/x.ejs)',
    ]);
    expect(
      project({ manifest: stated('/etc/x', '0644'), config: [file('etc/x.ejs', 'x', 0o2644)] }),
    ).toEqual([]);
    expect(
      project({ manifest: stated('/etc/x.ejs', '0644'), config: [file('etc/x.ejs', 'x', 0o2644)] }),
    ).toEqual([
      'config/etc/x.ejs: mode 2644 is setuid or setgid; svc installs no such file (chmod ug-s config/etc/x.ejs)',
    ]);
  });

  it.each([
    [
      '2755',
      'svc.yaml: files: /p: mode 2755 is setuid or setgid; svc installs no such file (state a mode without 4000 or 2000)',
    ],
    [
      '0002',
      'svc.yaml: files: /p: mode 0002 lets every user rewrite a file root installs; state a mode without o+w, e.g. "0644"',
    ],
  ])('svc.yaml mode %s', (mode, problem) => {
    expect(project({ manifest: stated('/p', mode) })).toEqual([problem]);
  });

  it('both problems of one svc.yaml mode, and the order: release, config/, svc.yaml', () => {
    expect(
      project({
        manifest: stated('/p', '4777'),
        config: [file('etc/c', 'x', 0o4644)],
        release: [file('r', 'x', 0o4644)],
      }),
    ).toEqual([
      'r: mode 4644 is setuid or setgid; svc installs no such file (chmod ug-s r)',
      'config/etc/c: mode 4644 is setuid or setgid; svc installs no such file (chmod ug-s config/etc/c)',
      'svc.yaml: files: /p: mode 4777 is setuid or setgid; svc installs no such file (state a mode without 4000 or 2000)',
      'svc.yaml: files: /p: mode 4777 lets every user rewrite a file root installs; state a mode without o+w, e.g. "0644"',
    ]);
  });
});
