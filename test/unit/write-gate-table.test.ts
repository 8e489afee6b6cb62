// The write gate case by case (issue 17): where a project step may write (below a planned link,
// in svc's own state, through a link loop, on a sensitive path or the login user's startup files),
// the exact problem or warning each gives, and the parent-chain problems with their --allow-path.
import { describe, expect, it } from 'vitest';
import type { DirFact, HostFacts } from '../../src/core/facts.js';
import { gatePath, isSvcState, parentChainProblems } from '../../src/core/write-gate.js';
import { facts } from '../helpers/plan-fixtures.js';

type What = 'file' | 'directory' | 'link';
interface Case {
  path: string;
  what: What;
  dir?: { mode: number; owner: string; group: string };
  allowed?: string[];
  login?: { user: string; home: string };
  service?: string;
  resolved?: [string, string | undefined][];
}

function gate(c: Case) {
  const ctx = {
    host: 'web1',
    facts: facts([], {
      login: c.login ?? { user: 'deploy', home: '/home/deploy' },
      resolved: new Map(c.resolved ?? []),
    }),
    serviceName: 'service' in c ? c.service : 'api-orders',
    allowed: new Set(c.allowed ?? []),
    plannedLinks: ['/srv/link', '/opt/current'],
    problems: [] as string[],
    warnings: [] as string[],
  };
  const ok = gatePath(ctx, c.path, c.what, c.dir);
  return { ok, problems: ctx.problems, warnings: ctx.warnings };
}

const ROOT_700 = { mode: 0o700, owner: 'root', group: 'root' };
const STATE = "is in /var/lib/svc, svc's own state (records, locks)";
const ROOT_HOME = { user: 'root', home: '/root' };
const SRV_HOME = { user: 'deploy', home: '/srv/deploy' };

describe('gatePath: refused, with the exact problem', () => {
  it.each<[string, Case, string[]]>([
    [
      'below a link this plan makes',
      { path: '/srv/link/x', what: 'file' },
      [
        '/srv/link/x on web1 lies below /srv/link, a link this plan makes; svc does not write through a link',
      ],
    ],
    [
      'below the second planned link, even with --allow-path',
      { path: '/opt/current/a/b', what: 'directory', allowed: ['/opt/current/a/b'] },
      [
        '/opt/current/a/b on web1 lies below /opt/current, a link this plan makes; svc does not write through a link',
      ],
    ],
    [
      'a file in svc state',
      { path: '/var/lib/svc/x', what: 'file', allowed: ['/var/lib/svc/x'] },
      [
        `/var/lib/svc/x on web1 ${STATE}; no file from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      'svc state itself, as a directory',
      { path: '/var/lib/svc', what: 'directory', dir: ROOT_700 },
      [
        `/var/lib/svc on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      'a link in svc state',
      { path: '/var/lib/svc/api-orders', what: 'link' },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no link from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      'a path resolving into svc state',
      { path: '/opt/x', what: 'file', resolved: [['/opt/x', '/var/lib/svc/api-orders/x']] },
      [
        `/opt/x on web1 resolves to /var/lib/svc/api-orders/x, which ${STATE}; no file from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "the service's records directory with another mode",
      { path: '/var/lib/svc/api-orders', what: 'directory', dir: { ...ROOT_700, mode: 0o755 } },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "the service's records directory with another owner",
      {
        path: '/var/lib/svc/api-orders',
        what: 'directory',
        dir: { ...ROOT_700, owner: 'api-orders' },
      },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "the service's records directory with another group",
      { path: '/var/lib/svc/api-orders', what: 'directory', dir: { ...ROOT_700, group: 'adm' } },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "the service's records directory without its mode and owner",
      { path: '/var/lib/svc/api-orders', what: 'directory' },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "another service's records directory",
      { path: '/var/lib/svc/api-other', what: 'directory', dir: ROOT_700 },
      [
        `/var/lib/svc/api-other on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      'the records directory of no service',
      { path: '/var/lib/svc/undefined', what: 'directory', dir: ROOT_700, service: undefined },
      [
        `/var/lib/svc/undefined on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      "the service's records directory reached through a link",
      {
        path: '/var/lib/svc/api-orders',
        what: 'directory',
        dir: ROOT_700,
        resolved: [['/var/lib/svc/api-orders', '/var/lib/svc/x']],
      },
      [
        `/var/lib/svc/api-orders on web1 ${STATE}; no directory from the project may be there, whatever --allow-path says`,
      ],
    ],
    [
      'a path the host could not resolve',
      { path: '/loop/x', what: 'file', resolved: [['/loop/x', undefined]] },
      [
        '/loop/x on web1: the host could not resolve the directories on its way (a link loop?); svc does not write there',
      ],
    ],
    [
      'a sensitive file',
      { path: '/etc/sudoers', what: 'file' },
      [
        '/etc/sudoers on web1 is a sensitive file (/etc/sudoers); svc writes it only with --allow-path /etc/sudoers',
      ],
    ],
    [
      'a sensitive file allowed by another path',
      { path: '/etc/sudoers', what: 'file', allowed: ['/etc/sudoers.d', '/etc'] },
      [
        '/etc/sudoers on web1 is a sensitive file (/etc/sudoers); svc writes it only with --allow-path /etc/sudoers',
      ],
    ],
    [
      'a sensitive path with a space, quoted for the shell',
      { path: '/etc/cron.d/a b', what: 'file' },
      [
        "/etc/cron.d/a b on web1 is a sensitive file (/etc/cron.*/**); svc writes it only with --allow-path '/etc/cron.d/a b'",
      ],
    ],
    [
      'a path resolving to a sensitive file',
      { path: '/srv/rc/x', what: 'file', resolved: [['/srv/rc/x', '/etc/sudoers.d/x']] },
      [
        '/srv/rc/x on web1 resolves to /etc/sudoers.d/x, which is a sensitive file (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d/x',
      ],
    ],
    [
      'a path resolving to a sensitive file, the path as written allowed',
      {
        path: '/srv/rc/x',
        what: 'file',
        allowed: ['/srv/rc/x'],
        resolved: [['/srv/rc/x', '/etc/sudoers.d/x']],
      },
      [
        '/srv/rc/x on web1 resolves to /etc/sudoers.d/x, which is a sensitive file (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d/x',
      ],
    ],
    [
      'a sensitive path resolving to another sensitive one',
      { path: '/etc/cron.d/x', what: 'file', resolved: [['/etc/cron.d/x', '/etc/sudoers']] },
      [
        '/etc/cron.d/x on web1 is a sensitive file (/etc/cron.*/**); svc writes it only with --allow-path /etc/cron.d/x',
        '/etc/cron.d/x on web1 resolves to /etc/sudoers, which is a sensitive file (/etc/sudoers); svc writes it only with --allow-path /etc/sudoers',
      ],
    ],
    [
      'a directory that holds sensitive paths',
      { path: '/etc', what: 'directory', dir: { mode: 0o755, owner: 'root', group: 'root' } },
      [
        expect.stringMatching(
          /^\/etc on web1 is a sensitive directory \(\/etc\/.*\); svc writes it only with --allow-path \/etc$/,
        ) as unknown as string,
      ],
    ],
    [
      "a dot file in the login user's home outside /home",
      { path: '/srv/deploy/.bashrc', what: 'file', login: SRV_HOME },
      [
        '/srv/deploy/.bashrc on web1 is a sensitive file (~/.*); svc writes it only with --allow-path /srv/deploy/.bashrc',
      ],
    ],
    [
      "a file below a dot directory in the login user's home",
      { path: '/srv/deploy/app/.config/x', what: 'file', login: SRV_HOME },
      [
        '/srv/deploy/app/.config/x on web1 is a sensitive file (~/.*); svc writes it only with --allow-path /srv/deploy/app/.config/x',
      ],
    ],
    [
      "~/bin of the login user's home",
      { path: '/srv/deploy/bin/git', what: 'file', login: SRV_HOME },
      [
        '/srv/deploy/bin/git on web1 is a sensitive file (~/bin/**); svc writes it only with --allow-path /srv/deploy/bin/git',
      ],
    ],
    [
      '~/bin itself, as a link',
      { path: '/srv/deploy/bin', what: 'link', login: SRV_HOME },
      [
        '/srv/deploy/bin on web1 is a sensitive link (~/bin/**); svc writes it only with --allow-path /srv/deploy/bin',
      ],
    ],
    [
      "the login user's home itself, as a directory",
      {
        path: '/srv/deploy',
        what: 'directory',
        login: SRV_HOME,
        dir: { mode: 0o755, owner: 'deploy', group: 'deploy' },
      },
      [
        '/srv/deploy on web1 is a sensitive directory (~ (the login home)); svc writes it only with --allow-path /srv/deploy',
      ],
    ],
    [
      "a dot directory in root's home, the login home",
      { path: '/root/.config', what: 'directory', login: ROOT_HOME },
      [
        '/root/.config on web1 is a sensitive directory (/root/**); svc writes it only with --allow-path /root/.config',
      ],
    ],
    [
      "a directory below a dot directory in root's home",
      { path: '/root/app/.cache/x', what: 'directory', login: ROOT_HOME },
      [
        '/root/app/.cache/x on web1 is a sensitive directory (/root/**); svc writes it only with --allow-path /root/app/.cache/x',
      ],
    ],
    [
      "~/bin in root's home",
      { path: '/root/bin', what: 'link', login: ROOT_HOME },
      [
        '/root/bin on web1 is a sensitive link (/root/**); svc writes it only with --allow-path /root/bin',
      ],
    ],
    [
      "a file in root's home, the login home",
      { path: '/root/service/x', what: 'file', login: ROOT_HOME },
      [
        '/root/service/x on web1 is a sensitive file (/root/**); svc writes it only with --allow-path /root/service/x',
      ],
    ],
    [
      "a directory in root's home when root is not the login user",
      { path: '/root/service', what: 'directory' },
      [
        '/root/service on web1 is a sensitive directory (/root/**); svc writes it only with --allow-path /root/service',
      ],
    ],
  ])('%s', (_, c, problems) => {
    expect(gate(c)).toStrictEqual({ ok: false, problems, warnings: [] });
  });
});

describe('gatePath: written', () => {
  it.each<[string, Case]>([
    ['a plain path', { path: '/srv/app/x', what: 'file' }],
    ['the planned link itself', { path: '/srv/link', what: 'link' }],
    ['a sibling of a planned link sharing its prefix', { path: '/srv/linkx/y', what: 'file' }],
    ['a path next to svc state', { path: '/var/lib/svcx/y', what: 'file' }],
    [
      "the service's own records directory, root's 0700",
      { path: '/var/lib/svc/api-orders', what: 'directory', dir: ROOT_700 },
    ],
    [
      "the service's own unit file",
      { path: '/etc/systemd/system/api-orders.service', what: 'file' },
    ],
    [
      "a directory in the login user's home",
      { path: '/srv/deploy/service', what: 'directory', login: SRV_HOME },
    ],
    [
      "a file named like the home's prefix",
      { path: '/srv/deployx/.bashrc', what: 'file', login: SRV_HOME },
    ],
    ['the home itself as a file', { path: '/srv/deploy', what: 'file', login: SRV_HOME }],
    [
      'a file in a bin directory deeper in the home',
      { path: '/srv/deploy/app/bin/x', what: 'file', login: SRV_HOME },
    ],
    [
      "a directory in root's home, the login home",
      { path: '/root/service', what: 'directory', login: ROOT_HOME },
    ],
    [
      "a link in root's home, the login home",
      { path: '/root/service/api-orders', what: 'link', login: ROOT_HOME },
    ],
    [
      'a dot file anywhere when the login home is /',
      { path: '/srv/.x', what: 'file', login: { user: 'deploy', home: '/' } },
    ],
    [
      'a dot file anywhere when the login home is empty',
      { path: '/srv/.x', what: 'file', login: { user: 'deploy', home: '' } },
    ],
    [
      'a path resolving to a plain one',
      { path: '/opt/app/x', what: 'file', resolved: [['/opt/app/x', '/srv/app/x']] },
    ],
  ])('%s', (_, c) => {
    expect(gate(c)).toStrictEqual({ ok: true, problems: [], warnings: [] });
  });

  it.each<[string, Case, string[]]>([
    [
      'a sensitive file named by --allow-path',
      { path: '/etc/sudoers', what: 'file', allowed: ['/etc/sudoers'] },
      ['/etc/sudoers is a sensitive file (/etc/sudoers), written because of --allow-path'],
    ],
    [
      'a path resolving to a sensitive file, that file named',
      {
        path: '/srv/rc/x',
        what: 'file',
        allowed: ['/etc/sudoers.d/x'],
        resolved: [['/srv/rc/x', '/etc/sudoers.d/x']],
      },
      [
        '/srv/rc/x resolves to /etc/sudoers.d/x, which is a sensitive file (/etc/sudoers.d/**), written because of --allow-path',
      ],
    ],
    [
      "a dot file of the login user's home named",
      {
        path: '/srv/deploy/.bashrc',
        what: 'file',
        login: SRV_HOME,
        allowed: ['/srv/deploy/.bashrc'],
      },
      ['/srv/deploy/.bashrc is a sensitive file (~/.*), written because of --allow-path'],
    ],
  ])('%s, with a warning', (_, c, warnings) => {
    expect(gate(c)).toStrictEqual({ ok: true, problems: [], warnings });
  });
});

describe('isSvcState', () => {
  it.each([
    ['/var/lib/svc', true],
    ['/var/lib/svc/', true],
    ['/var/lib/svc/api-orders/installed.json', true],
    ['/var/lib/svcx', false],
    ['/var/lib', false],
    ['/x/var/lib/svc', false],
  ])('%s -> %s', (path, state) => {
    expect(isSvcState(path)).toBe(state);
  });
});

describe('parentChainProblems', () => {
  const dir = (path: string, mode: number, owner = 'root', group = 'root'): DirFact => ({
    path,
    mode,
    uid: owner === 'root' ? 0 : 1001,
    gid: group === 'root' ? 0 : 1001,
    owner,
    group,
  });
  const chain = (dirs: DirFact[], allowed: string[] = []) => {
    const ctx = {
      host: 'web1',
      facts: facts([], { dirs: new Map(dirs.map((d) => [d.path, d])) }) as HostFacts,
      serviceName: 'api-orders',
      allowed: new Set(allowed),
      plannedLinks: [],
      problems: [] as string[],
      warnings: [] as string[],
    };
    parentChainProblems(ctx, ['/srv/a b/x', '/srv/a b/y', '/srv/a b/z']);
    return { problems: ctx.problems, warnings: ctx.warnings };
  };
  const GROUP = dir('/srv/a b', 0o775, 'root', 'staff');

  it.each<[string, DirFact[], string[], { problems: string[]; warnings: string[] }]>([
    ['a trusted chain', [dir('/', 0o755), dir('/srv', 0o755)], [], { problems: [], warnings: [] }],
    [
      'a group-writable root directory, not allowed: the flag that would accept it, quoted',
      [dir('/', 0o755), GROUP],
      [],
      {
        problems: [
          "/srv/a b on web1 is writable by group staff (0775 root:staff), and root would write below it (/srv/a b/x and 2 more): another user could plant a link there; make it root's alone (chown root:root, chmod go-w) or accept it with --allow-path '/srv/a b'",
        ],
        warnings: [],
      },
    ],
    [
      'the same, allowed by name',
      [GROUP],
      ['/srv/a b'],
      {
        problems: [],
        warnings: [
          '/srv/a b is writable by group staff (0775 root:staff); root writes below it (/srv/a b/x and 2 more) because of --allow-path',
        ],
      },
    ],
    [
      'the same, allowed by another path',
      [GROUP],
      ['/srv'],
      {
        problems: [
          "/srv/a b on web1 is writable by group staff (0775 root:staff), and root would write below it (/srv/a b/x and 2 more): another user could plant a link there; make it root's alone (chown root:root, chmod go-w) or accept it with --allow-path '/srv/a b'",
        ],
        warnings: [],
      },
    ],
    [
      'a directory writable by everyone, even allowed: no flag accepts it',
      [dir('/srv', 0o777)],
      ['/srv'],
      {
        problems: [
          "/srv on web1 is writable by every user (0777 root:root), and root would write below it (/srv/a b/x and 2 more): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
        ],
        warnings: [],
      },
    ],
    [
      "another user's directory, even allowed",
      [dir('/srv', 0o755, 'www-data', 'www-data')],
      ['/srv'],
      {
        problems: [
          "/srv on web1 is owned by www-data (0755 www-data:www-data), and root would write below it (/srv/a b/x and 2 more): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
        ],
        warnings: [],
      },
    ],
  ])('%s', (_, dirs, allowed, expected) => {
    expect(chain(dirs, allowed)).toStrictEqual(expected);
  });

  it('names one path alone without "and 0 more"', () => {
    const ctx = {
      host: 'web1',
      facts: facts([], { dirs: new Map([['/srv', dir('/srv', 0o777)]]) }),
      serviceName: 'api-orders',
      allowed: new Set<string>(),
      plannedLinks: [],
      problems: [] as string[],
      warnings: [] as string[],
    };
    parentChainProblems(ctx, ['/srv/x']);
    expect(ctx.problems).toStrictEqual([
      "/srv on web1 is writable by every user (0777 root:root), and root would write below it (/srv/x): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
    ]);
  });
});
