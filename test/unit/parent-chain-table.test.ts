// The parent-chain decisions case by case (issue 17): which owner, group and mode bits make a
// directory untrusted (with the exact reason), which may be accepted with --allow-path, which
// directories are on a path's way, and how unsafe ones are counted and ordered.
import { describe, expect, it } from 'vitest';
import type { DirFact, HostFacts } from '../../src/core/facts.js';
import {
  acceptable,
  chainOf,
  resolvedPath,
  unsafeDirs,
  untrustedReason,
} from '../../src/core/parent-chain.js';
import { facts } from '../helpers/plan-fixtures.js';

const dir = (
  path: string,
  mode: number,
  owner = 'root',
  group = 'root',
  ids: { uid?: number; gid?: number; acl?: boolean } = {},
): DirFact => ({
  path,
  mode,
  uid: ids.uid ?? (owner === 'root' ? 0 : 1001),
  gid: ids.gid ?? (group === 'root' ? 0 : 1001),
  owner,
  group,
  ...(ids.acl && { acl: true }),
});

describe('untrustedReason (login user deploy)', () => {
  it.each<[DirFact, string | undefined]>([
    // Trusted: root's, or the login user's, written only by them.
    [dir('/etc', 0o755), undefined],
    [dir('/etc', 0o700), undefined],
    [dir('/etc', 0o775), undefined],
    [dir('/etc', 0o2775), undefined],
    [dir('/etc', 0o4755), undefined],
    [dir('/etc', 0o1755), undefined],
    [dir('/srv', 0o775, 'root', 'wheel', { gid: 0 }), undefined],
    [dir('/srv', 0o755, 'toor', 'root', { uid: 0 }), undefined],
    [dir('/home/deploy', 0o755, 'deploy', 'deploy'), undefined],
    [dir('/home/deploy', 0o775, 'deploy', 'deploy'), undefined],
    [dir('/home/deploy', 0o755, 'deploy', 'staff'), undefined],
    // Another user's.
    [
      dir('/srv/x', 0o755, 'api-orders', 'api-orders'),
      'owned by api-orders (0755 api-orders:api-orders)',
    ],
    [
      dir('/srv/x', 0o700, 'deployer', 'root', { gid: 0 }),
      'owned by deployer (0700 deployer:root)',
    ],
    // Everyone's.
    [dir('/tmp', 0o1777), 'writable by every user (sticky) (1777 root:root)'],
    [dir('/srv', 0o777), 'writable by every user (0777 root:root)'],
    [dir('/srv', 0o757), 'writable by every user (0757 root:root)'],
    [dir('/srv', 0o702), 'writable by every user (0702 root:root)'],
    [dir('/srv', 0o3777), 'writable by every user (sticky) (3777 root:root)'],
    [dir('/home/deploy', 0o777, 'deploy', 'deploy'), 'writable by every user (0777 deploy:deploy)'],
    // A group's.
    [dir('/var/log', 0o775, 'root', 'syslog'), 'writable by group syslog (0775 root:syslog)'],
    [dir('/var/log', 0o1770, 'root', 'syslog'), 'writable by group syslog (1770 root:syslog)'],
    [dir('/var/log', 0o070, 'root', 'syslog'), 'writable by group syslog (0070 root:syslog)'],
    [dir('/home/deploy', 0o775, 'deploy', 'staff'), 'writable by group staff (0775 deploy:staff)'],
    [dir('/srv', 0o775, 'root', 'deploy'), 'writable by group deploy (0775 root:deploy)'],
    [dir('/srv', 0o775, 'deploy', 'root', { gid: 7 }), 'writable by group root (0775 deploy:root)'],
    // An ACL: whatever the mode says.
    [
      dir('/etc', 0o755, 'root', 'root', { acl: true }),
      'marked with a POSIX ACL (+ in ls -ld), which can let other users write it whatever its mode says (0755 root:root; setfacl -b removes it)',
    ],
    [
      dir('/home/deploy', 0o700, 'deploy', 'deploy', { acl: true }),
      'marked with a POSIX ACL (+ in ls -ld), which can let other users write it whatever its mode says (0700 deploy:deploy; setfacl -b removes it)',
    ],
  ])('%j -> %s', (fact, reason) => {
    expect(untrustedReason(fact, 'deploy')).toBe(reason);
  });
});

describe('acceptable with --allow-path', () => {
  it.each<[DirFact, boolean]>([
    [dir('/var/log', 0o775, 'root', 'syslog'), true],
    [dir('/var/log', 0o2775, 'root', 'syslog'), true],
    [dir('/var/log', 0o1775, 'root', 'syslog'), true],
    [dir('/var/log', 0o777, 'root', 'syslog'), false],
    [dir('/var/log', 0o1777), false],
    [dir('/var/log', 0o772, 'root', 'syslog'), false],
    [dir('/var/log', 0o775, 'root', 'syslog', { acl: true }), false],
    [dir('/srv/x', 0o755, 'api-orders', 'api-orders'), false],
    [dir('/home/deploy', 0o775, 'deploy', 'staff'), false],
  ])('%j -> %s', (fact, ok) => {
    expect(acceptable(fact)).toBe(ok);
  });
});

const hostWith = (dirs: DirFact[], extra: Partial<HostFacts> = {}) =>
  facts([], { dirs: new Map(dirs.map((d) => [d.path, d])), ...extra });
const ROOT = dir('/', 0o755);
const ETC = dir('/etc', 0o755);
const ETCX = dir('/etcx', 0o755);
const APP = dir('/etc/app', 0o755);
const SRV = dir('/srv', 0o755);
const OPT = dir('/opt', 0o755);

describe('resolvedPath', () => {
  const host = hostWith([], {
    resolved: new Map([
      ['/opt/app/x', '/srv/app/x'],
      ['/loop/x', undefined],
    ]),
  });
  it.each([
    ['/opt/app/x', '/srv/app/x'],
    ['/loop/x', undefined],
    ['/etc/x', '/etc/x'],
  ])('%s -> %s', (path, resolved) => {
    expect(resolvedPath(host, path)).toBe(resolved);
  });
});

describe('chainOf', () => {
  const host = hostWith([ROOT, ETC, ETCX, APP, SRV, OPT], {
    resolved: new Map<string, string | undefined>([
      ['/opt/app/x', '/srv/app/x'],
      ['/loop/etc/x', undefined],
      ['/etc/app', '/etc/app'],
    ]),
    linkHolders: new Map([
      ['/opt/app/x', ['/opt']],
      ['/srv/held/x', ['/etc/app']],
    ]),
  });
  it.each([
    // The ancestors of the path, not the path itself, nor a sibling sharing its prefix.
    ['/etc/app/app.conf', ['/', '/etc', '/etc/app']],
    ['/etc/app', ['/', '/etc']],
    ['/etcx/y', ['/', '/etcx']],
    ['/etc', ['/']],
    ['/', []],
    // Where it resolves, and the link holder with its ancestors.
    ['/opt/app/x', ['/', '/srv', '/opt']],
    ['/srv/held/x', ['/', '/srv', '/etc', '/etc/app']],
    // Unresolvable: the path as written.
    ['/loop/etc/x', ['/']],
  ])('%s -> %j', (path, chain) => {
    expect(chainOf(host, path).map((d) => d.path)).toStrictEqual(chain);
  });
});

describe('unsafeDirs', () => {
  const OPEN = dir('/srv', 0o777);
  const GROUP = dir('/srv/app', 0o775, 'root', 'staff');
  const host = hostWith([ROOT, OPEN, GROUP, ETC]);

  it('each untrusted directory once, deepest first, with the first path and how many more', () => {
    expect(unsafeDirs(host, ['/srv/app/a', '/srv/b', '/srv/app/c', '/etc/x'])).toStrictEqual([
      {
        dir: GROUP,
        reason: 'writable by group staff (0775 root:staff)',
        path: '/srv/app/a',
        more: 1,
      },
      { dir: OPEN, reason: 'writable by every user (0777 root:root)', path: '/srv/app/a', more: 2 },
    ]);
  });

  it('nothing when every directory on the way is trusted', () => {
    expect(unsafeDirs(host, ['/etc/x', '/etc/y'])).toStrictEqual([]);
    expect(unsafeDirs(host, [])).toStrictEqual([]);
  });

  it('trusts the login user the facts report', () => {
    const home = dir('/home/ops', 0o755, 'ops', 'ops');
    expect(unsafeDirs(hostWith([home]), ['/home/ops/x'])).toHaveLength(1);
    const asOps = hostWith([home], { login: { user: 'ops', home: '/home/ops' } });
    expect(unsafeDirs(asOps, ['/home/ops/x'])).toStrictEqual([]);
  });
});
