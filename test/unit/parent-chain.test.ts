// Root never writes below a directory another user can change (issue 9, point 5): which owners
// and modes are trusted on the way to a path, decided from the facts' D and A records. Facts in,
// plan out; the sandbox hosts in test/reliability/parent-chain.test.ts prove it on real hosts.
import { describe, expect, it } from 'vitest';
import type { DirFact, HostFacts } from '../../src/core/facts.js';
import { chainOf, untrustedReason } from '../../src/core/parent-chain.js';
import { planHost } from '../../src/core/plan.js';
import { CONFIG, facts, file, operations } from '../helpers/plan-fixtures.js';

const dir = (path: string, mode: number, owner = 'root', group = owner): DirFact => ({
  path,
  mode,
  uid: owner === 'root' ? 0 : 1001,
  gid: group === 'root' ? 0 : 1001,
  owner,
  group,
});
const rootChain = ['/', '/etc', '/etc/app'].map((path) => dir(path, 0o755));
const withDirs = (dirs: DirFact[], extra: Partial<HostFacts> = {}) =>
  facts([], { dirs: new Map(dirs.map((d) => [d.path, d])), ...extra });
// Expanded inside each test (a mutation run then sees which tests ran the expander).
const appConf = () => operations([...CONFIG, file('etc/app/app.conf', 'x\n')]);

describe('untrustedReason', () => {
  it.each([
    [dir('/etc', 0o755), undefined],
    [dir('/etc', 0o775, 'root', 'root'), undefined],
    [dir('/home/deploy', 0o755, 'deploy'), undefined],
    [dir('/home/deploy', 0o775, 'deploy', 'deploy'), undefined],
    [dir('/srv/x', 0o755, 'api-orders'), 'owned by api-orders (0755 api-orders:api-orders)'],
    [dir('/var/log', 0o775, 'root', 'syslog'), 'writable by group syslog (0775 root:syslog)'],
    [dir('/home/deploy', 0o775, 'deploy', 'staff'), 'writable by group staff (0775 deploy:staff)'],
    [dir('/tmp', 0o1777), 'writable by every user (sticky) (1777 root:root)'],
    [dir('/srv/open', 0o777), 'writable by every user (0777 root:root)'],
  ])('%j -> %s', (fact, reason) => {
    expect(untrustedReason(fact, 'deploy')).toBe(reason);
  });

  it('trusts the login user only as the login user', () => {
    expect(untrustedReason(dir('/home/deploy', 0o755, 'deploy'), 'root')).toBe(
      'owned by deploy (0755 deploy:deploy)',
    );
  });
});

describe('planHost and the directories on the way', () => {
  it('plans as usual when only root can change them', () => {
    const plan = planHost('web1', appConf(), withDirs(rootChain), 'digest');
    expect(plan.problems).toEqual([]);
  });

  it('a directory the service user owns: a problem naming it, with no way to allow it', () => {
    const dirs = [...rootChain.slice(0, 2), dir('/etc/app', 0o755, 'api-orders')];
    const plan = planHost('web1', appConf(), withDirs(dirs), 'digest', ['/etc/app']);
    expect(plan.problems).toEqual([
      "/etc/app on web1 is owned by api-orders (0755 api-orders:api-orders), and root would write below it (/etc/app/app.conf): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
    ]);
  });

  it('a root directory writable by another group: a problem, or a warning with --allow-path naming exactly it', () => {
    const dirs = [...rootChain.slice(0, 2), dir('/etc/app', 0o2775, 'root', 'staff')];
    const refused = planHost('web1', appConf(), withDirs(dirs), 'digest', ['/etc', '/etc/app/']);
    expect(refused.problems).toEqual([
      expect.stringMatching(
        /^\/etc\/app on web1 is writable by group staff \(2775 root:staff\), .* or accept it with --allow-path \/etc\/app$/,
      ),
    ]);
    const allowed = planHost('web1', appConf(), withDirs(dirs), 'digest', ['/etc/app']);
    expect(allowed.problems).toEqual([]);
    expect(allowed.warnings).toEqual([
      '/etc/app is writable by group staff (2775 root:staff); root writes below it (/etc/app/app.conf) because of --allow-path',
    ]);
  });

  it('names each directory once, with how many paths are below it', () => {
    const dirs = [dir('/', 0o755), dir('/etc', 0o777)];
    const plan = planHost('web1', appConf(), withDirs(dirs), 'digest');
    expect(plan.problems).toEqual([
      expect.stringMatching(
        /^\/etc on web1 is writable by every user \(0777 root:root\), and root would write below it \(\/etc\/default and \d+ more\)/,
      ),
    ]);
  });

  it('looks only at what the plan writes: an unchanged host is not refused', () => {
    const dirs = [dir('/', 0o755), dir('/etc', 0o777)];
    const plan = planHost('web1', [], withDirs(dirs), 'digest');
    expect(plan.problems).toEqual([]);
  });

  it('the directory holding a link on the way counts too', () => {
    // /opt/app -> /srv/app: /opt holds the link, whoever can write /opt can move it.
    const path = '/opt/app/app.conf';
    const hostFacts = withDirs(
      [
        dir('/', 0o755),
        dir('/srv', 0o755),
        dir('/srv/app', 0o755),
        dir('/opt', 0o755, 'api-orders'),
      ],
      {
        resolved: new Map([[path, '/srv/app/app.conf']]),
        linkHolders: new Map([[path, ['/opt']]]),
      },
    );
    expect(chainOf(hostFacts, path).map((d) => d.path)).toEqual(['/', '/srv', '/srv/app', '/opt']);
    const plan = planHost('web1', operations([file('opt/app/app.conf', 'x\n')]), hostFacts, 'd');
    expect(plan.problems).toEqual([expect.stringMatching(/^\/opt on web1 is owned by api-orders/)]);
  });
});

describe('the directories the plan itself makes or gives away (review 2, point 1)', () => {
  const withUserDir = (path: string, owner = 'www-data') => [
    ...operations([file('opt/data/sub/app.conf', 'x\n')]).filter((op) => op.kind !== 'service'),
    { kind: 'dir' as const, path, mode: 0o755, owner, group: owner, step: 'deploy.yaml#1' },
  ];

  it('a directory the plan gives to another user, root writing below it: a problem naming it', () => {
    const ops = withUserDir('/opt/data');
    const plan = planHost('web1', ops, withDirs([dir('/', 0o755), dir('/opt', 0o755)]), 'd');
    expect(plan.problems).toContainEqual(
      expect.stringMatching(
        /^\/opt\/data on web1 is owned by www-data \(0755 www-data:www-data\), and root would write below it \(\/opt\/data\/sub/,
      ),
    );
  });

  it('an existing root directory the plan chowns to another user: the same', () => {
    const ops = withUserDir('/opt/data');
    const hostFacts = withDirs([dir('/', 0o755), dir('/opt', 0o755), dir('/opt/data', 0o755)], {
      paths: new Map([
        [
          '/opt/data',
          { path: '/opt/data', type: 'dir', mode: 0o755, owner: 'root', group: 'root' },
        ],
      ]),
    });
    const plan = planHost('web1', ops, hostFacts, 'd');
    expect(plan.problems).toContainEqual(
      expect.stringMatching(/^\/opt\/data on web1 is owned by www-data/),
    );
  });

  it('a project dir step below the service user dir /var/log/NAME on a first deploy: a problem', () => {
    const ops = [
      ...operations([]),
      {
        kind: 'dir' as const,
        path: '/var/log/api-orders/archive',
        mode: 0o755,
        owner: 'root',
        group: 'root',
        step: 'deploy.yaml#9',
      },
    ];
    const plan = planHost(
      'web1',
      ops,
      withDirs([dir('/', 0o755), dir('/var', 0o755), dir('/var/log', 0o755)]),
      'd',
    );
    expect(plan.problems).toContainEqual(
      expect.stringMatching(
        /^\/var\/log\/api-orders on web1 is owned by api-orders .*\(\/var\/log\/api-orders\/archive\)/,
      ),
    );
  });

  it('a directory the plan gives to root or the login user is trusted', () => {
    const plan = planHost(
      'web1',
      withUserDir('/opt/data', 'deploy'),
      withDirs([dir('/', 0o755), dir('/opt', 0o755)]),
      'd',
    );
    expect(plan.problems).toEqual([]);
  });
});

describe('link holders are per path (review 2, point 2)', () => {
  it('a link-holding directory stays on the chain when another path lies in it', () => {
    // /opt/app -> /srv/app, /opt owned by another user; /opt/other.conf is requested too.
    const hostFacts = withDirs(
      [
        dir('/', 0o755),
        dir('/srv', 0o755),
        dir('/srv/app', 0o755),
        dir('/opt', 0o755, 'api-orders'),
      ],
      {
        resolved: new Map([
          ['/opt/app/app.conf', '/srv/app/app.conf'],
          ['/opt/other.conf', '/opt/other.conf'],
        ]),
        linkHolders: new Map([['/opt/app/app.conf', ['/opt']]]),
      },
    );
    expect(chainOf(hostFacts, '/opt/app/app.conf').map((d) => d.path)).toContain('/opt');
  });
});

describe('POSIX ACLs (review 2, point 6)', () => {
  it('a directory with an ACL is untrusted, and not acceptable with --allow-path', () => {
    const withAcl = { ...dir('/etc/app', 0o755), acl: true };
    expect(untrustedReason(withAcl, 'deploy')).toBe(
      'marked with a POSIX ACL (+ in ls -ld), which can let other users write it whatever its mode says (0755 root:root; setfacl -b removes it)',
    );
    const plan = planHost('web1', appConf(), withDirs([...rootChain.slice(0, 2), withAcl]), 'd', [
      '/etc/app',
    ]);
    expect(plan.problems).toEqual([
      expect.stringMatching(/^\/etc\/app on web1 is marked with a POSIX ACL/),
    ]);
  });
});

describe('content under an untrusted directory (review 2, point 4)', () => {
  it('is never shown as a diff, even with --allow-path accepting the directory', () => {
    const content = new TextEncoder().encode('root:$6$secret-hash:19000::::::\n');
    const hostFacts = withDirs(
      [...rootChain.slice(0, 2), dir('/etc/app', 0o2775, 'root', 'staff')],
      {
        paths: new Map([
          [
            '/etc/app/app.conf',
            {
              path: '/etc/app/app.conf',
              type: 'file',
              mode: 0o644,
              owner: 'root',
              group: 'root',
              size: content.length,
              sha256: 'a'.repeat(64),
              content,
            },
          ],
        ]),
        installed: ['/etc/app/app.conf'],
      },
    );
    for (const allowed of [[], ['/etc/app']]) {
      const plan = planHost('web1', appConf(), hostFacts, 'd', allowed);
      const change = plan.changes.find((c) => c.target === '/etc/app/app.conf')!;
      expect(change.diff).toBe("(not shown: a directory on its way is not root's alone)");
      expect(JSON.stringify(plan)).not.toContain('secret-hash');
    }
  });
});
