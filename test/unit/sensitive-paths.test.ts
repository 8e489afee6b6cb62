// Writes onto sensitive host files (issue 5, bad input 3): refused as a plan problem unless
// `--allow-path PATH` names the path, and then planned with a warning. Facts in, plan out: no host.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { EXIT } from '../../src/core/errors.js';
import type { HostOutcome } from '../../src/core/plan-format.js';
import { formatHostOutcome, planDocument } from '../../src/core/plan-format.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { planHost } from '../../src/core/plan.js';
import {
  checkAllowPath,
  SENSITIVE_PATHS,
  sensitiveDirRule,
  sensitiveRule,
} from '../../src/core/sensitive-paths.js';
import { exitCodeFor } from '../../src/cli/plan.js';
import { applyHost } from '../../src/remote/apply-host.js';
import type { PlanInput, PlannedHost } from '../../src/remote/plan-hosts.js';
import type { ConnectionPool } from '../../src/remote/ssh.js';
import type { Answers } from '../../src/scaffold/answers.js';
import { manifestFromAnswers, projectFiles } from '../../src/scaffold/project.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  manifest,
  operations,
  withRecordedFile,
} from '../helpers/plan-fixtures.js';

const SERVICE = 'api-orders';
const plain = {
  green: (t: string) => t,
  yellow: (t: string) => t,
  red: (t: string) => t,
  bold: (t: string) => t,
  dim: (t: string) => t,
};

/** The issue's list of files a project must not write without --allow-path. */
const FROM_THE_ISSUE = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/sudoers',
  '/etc/sudoers.d/x',
  '/root/.ssh/authorized_keys',
  '/home/deploy/.ssh/authorized_keys',
  '/etc/ssh/sshd_config',
  '/etc/ssh/ssh_host_ed25519_key',
];

describe('sensitiveRule', () => {
  it.each([
    ...FROM_THE_ISSUE,
    '/etc/group',
    '/etc/gshadow',
    '/etc/sudoers.d/nested/deeper',
    '/usr/local/sbin/systemctl',
    '/usr/local/bin/monit',
    '/etc/tmpfiles.d/x.conf',
    '/etc/udev/rules.d/99-x.rules',
    '/home/deploy/.ssh/authorized_keys2',
    '/var/lib/x/.ssh/authorized_keys',
    '/root/.bashrc',
    '/etc/pam.d/sshd',
    '/etc/security/limits.conf',
    '/etc/ld.so.preload',
    '/etc/ld.so.conf',
    '/etc/ld.so.conf.d/evil.conf',
    '/boot/grub/grub.cfg',
    '/etc/crontab',
    '/etc/cron.d/backdoor',
    '/etc/cron.daily/backdoor',
    '/var/spool/cron/crontabs/root',
    '/etc/systemd/system/sshd.service',
    '/etc/systemd/system/api-orders-evil.service',
    '/etc/systemd/system/multi-user.target.wants/x.service',
    '/etc/systemd/system.conf',
    '/lib/systemd/system/ssh.service',
    '/etc/init.d/ssh',
    '/etc/init/ssh.conf',
    '/usr/bin/sudo',
    '/usr/sbin/sshd',
  ])('flags %s', (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeDefined();
  });

  it.each([
    '/etc/systemd/system/api-orders.service',
    '/etc/systemd/system/api-orders.service.d/override.conf',
    '/etc/systemd/system/api-orders.socket',
    '/etc/systemd/system/api-orders.timer',
    '/etc/init.d/api-orders',
    '/etc/init/api-orders.conf',
    '/etc/default/api-orders',
    '/etc/monit/conf.d/api-orders',
    '/etc/logrotate.d/api-orders',
    '/etc/nginx/sites-enabled/api-orders.conf',
    '/usr/local/lib/svc/api-orders/ctl',
    '/etc/passwd.d/not-a-thing',
    '/etc/sshd_config',
    '/home/deploy/ssh/authorized_keys',
  ])('leaves %s alone', (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeUndefined();
  });

  it("treats a unit as svc's own only for the service being planned", () => {
    expect(sensitiveRule('/etc/systemd/system/api-orders.service', undefined)).toBeDefined();
    expect(sensitiveRule('/etc/systemd/system/api-orders.service', 'api-other')).toBeDefined();
  });

  it('is a documented constant of absolute patterns', () => {
    expect(SENSITIVE_PATHS.length).toBeGreaterThan(10);
    for (const pattern of SENSITIVE_PATHS) expect(pattern).toMatch(/^(\/|\*\*\/)/);
    expect(Object.isFrozen(SENSITIVE_PATHS)).toBe(true);
  });
});

describe('what svc new scaffolds', () => {
  const answers = (name: string, extra: Partial<Answers>): Answers => ({
    name,
    kind: name.slice(0, name.indexOf('-')) as Answers['kind'],
    description: 'x',
    runtime: 'node',
    monit: true,
    user: name,
    env: {},
    ...extra,
  });

  it.each([
    answers('api-orders', { port: 3000, health: '/ok', init: 'systemd' }),
    answers('api-orders', { port: 3000, health: '/ok', init: 'openrc' }),
    answers('api-orders', { port: 3000, health: '/ok', init: 'upstart' }),
    answers('api-orders', { port: 3000, health: '/ok', init: 'monit' }),
    answers('service-mailer', { init: 'systemd', monit: false }),
    answers('www-shop', { port: 8080, health: '/ok', runtime: 'static' }),
  ])('never needs --allow-path ($name, $init $runtime)', (given) => {
    const manifest = manifestFromAnswers(given, '0.0.0');
    const hostPaths = projectFiles(manifest)
      .filter((scaffolded) => scaffolded.path.startsWith('config/'))
      .map((scaffolded) => scaffolded.path.slice('config'.length).replace(/\.ejs$/, ''));
    expect(hostPaths.length).toBeGreaterThan(0);
    for (const path of hostPaths) expect(sensitiveRule(path, manifest.name), path).toBeUndefined();
  });
});

describe('checkAllowPath', () => {
  it('takes an absolute path', () => {
    expect(checkAllowPath('/etc/ssh/sshd_config')).toBe('/etc/ssh/sshd_config');
  });

  it.each([
    ['etc/passwd', '"etc/passwd"'],
    ['/etc/../etc/passwd', '"/etc/../etc/passwd"'],
    ['/etc/./passwd', '"/etc/./passwd"'],
    ['/etc/ssh/sshd_config\nx', '"/etc/ssh/sshd_config\\nx"'],
    ['', '""'],
    ['/etc/ssh/', '"/etc/ssh/"'],
  ])('refuses %j in one line naming the flag', (value, shown) => {
    expect(() => checkAllowPath(value)).toThrow(
      new RegExp(
        `^--allow-path: must be an absolute path.* \\(got ${shown.replace(/[.\\]/g, '\\$&')}\\)$`,
      ),
    );
  });
});

const withFile = (path: string, text = 'PermitRootLogin yes\n') => [...CONFIG, file(path, text)];
const changed = (plan: ReturnType<typeof planHost>) => plan.changes.map((change) => change.target);

describe('planHost and sensitive files', () => {
  it.each(FROM_THE_ISSUE)('shows %s as a problem naming the path and the flag', (path) => {
    const plan = planHost('web1', operations(withFile(path.slice(1))), facts(), 'digest');
    expect(plan.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^${path.replaceAll('.', '\\.')} on web1 is a sensitive file \\(.+\\); svc writes it only with --allow-path ${path.replaceAll('.', '\\.')}$`,
        ),
      ),
    ]);
    expect(changed(plan)).not.toContain(path);
    expect(plan.warnings).toEqual([]);
  });

  it('plans an allowed path normally, with a warning that it is sensitive', () => {
    const ops = operations(withFile('etc/ssh/sshd_config'));
    const plan = planHost('web1', ops, facts(), 'digest', ['/etc/ssh/sshd_config']);
    expect(plan.problems).toEqual([]);
    expect(changed(plan)).toContain('/etc/ssh/sshd_config');
    expect(plan.warnings).toEqual([
      '/etc/ssh/sshd_config is a sensitive file (/etc/ssh/**), written because of --allow-path',
    ]);
    const text = formatHostOutcome(
      { host: 'web1', address: '203.0.113.1', port: 22, user: 'root', status: 'planned', plan },
      plain,
    );
    expect(text).toContain('+ file     /etc/ssh/sshd_config');
    expect(text).toContain(
      '  ! /etc/ssh/sshd_config is a sensitive file (/etc/ssh/**), written because of --allow-path',
    );
  });

  it('allows exactly the paths named, not their neighbours', () => {
    const config = [...withFile('etc/ssh/sshd_config'), file('etc/ssh/ssh_host_ed25519_key', 'k')];
    const plan = planHost('web1', operations(config), facts(), 'digest', ['/etc/ssh/sshd_config']);
    expect(plan.problems).toEqual([
      expect.stringContaining(
        '/etc/ssh/ssh_host_ed25519_key on web1 is a sensitive file (/etc/ssh/**); svc writes it only with --allow-path /etc/ssh/ssh_host_ed25519_key',
      ),
    ]);
  });

  it('checks a template by the path it renders to', () => {
    const plan = planHost('web1', operations(withFile('etc/sudoers.d/x.ejs')), facts(), 'digest');
    expect(plan.problems).toEqual([
      expect.stringContaining('/etc/sudoers.d/x on web1 is a sensitive file'),
    ]);
  });

  it('quotes a path for the shell in the flag it suggests', () => {
    const plan = planHost('web1', operations(withFile("etc/cron.d/it's")), facts(), 'digest');
    expect(plan.problems).toEqual([
      expect.stringMatching(/svc writes it only with --allow-path '\/etc\/cron\.d\/it'\\''s'$/),
    ]);
  });

  it("leaves the service's own unit and scaffolded files alone", () => {
    const plan = planHost('web1', operations(), facts(), 'digest');
    expect(plan.problems).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it('deletes a sensitive file svc wrote once it left config/, without asking again', () => {
    const before = withRecordedFile(deployedFacts(), '/etc/sudoers.d/api-orders');
    const plan = planHost('web1', operations(), before, 'digest');
    expect(plan.problems).toEqual([]);
    expect(changed(plan)).toEqual(['/etc/sudoers.d/api-orders']);
  });

  it("never asks about svc's own files, such as a root login's helper scripts in /root", () => {
    const rootFacts = facts([], { login: { user: 'root', home: '/root' } });
    const playbook = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');
    const expanded = expandPlaybook(parsePlaybook(playbook, 'deploy.yaml'), {
      manifest,
      host: { name: 'web1', login: 'root', vars: {} },
      config: CONFIG,
      release: { id: 'abc123abc123', files: 1, bytes: 1 },
      playbookFile: 'deploy.yaml',
    });
    const ops = resolveHomePaths(expanded, '/root');
    const scripts = ops.filter((op) => op.kind === 'file' && op.path.startsWith('/root/script/'));
    expect(scripts.length).toBeGreaterThan(0);
    const plan = planHost('web1', ops, rootFacts, 'digest');
    expect(plan.problems).toEqual([]);
    expect(changed(plan)).toContain('/root/script/api-orders/start');
  });

  it('still refuses what config/ would write into /root', () => {
    const ops = resolveHomePaths(operations(withFile('root/.bashrc')), '/root');
    const plan = planHost('web1', ops, facts([], { login: { user: 'root', home: '/root' } }), 'd');
    expect(plan.problems).toEqual([
      '/root/.bashrc on web1 is a sensitive file (/root/**); svc writes it only with --allow-path /root/.bashrc',
    ]);
  });

  it('lists problems and warnings in the JSON document', () => {
    const plan = planHost('web1', operations(withFile('etc/shadow')), facts(), 'digest');
    const outcome: HostOutcome = {
      host: 'web1',
      address: '203.0.113.1',
      port: 22,
      user: 'root',
      status: 'planned',
      plan,
    };
    const doc = planDocument(SERVICE, [outcome]) as { hosts: { problems: string[] }[] };
    expect(doc.hosts[0]!.problems).toEqual([expect.stringContaining('--allow-path /etc/shadow')]);
  });
});

describe('plan exit code and deploy refusal', () => {
  const planned = (path: string): PlannedHost => {
    const ops = operations(withFile(path.slice(1)));
    const hostFacts = facts();
    const plan = planHost('web1', ops, hostFacts, 'digest');
    return {
      host: {
        name: 'web1',
        address: '203.0.113.1',
        port: 22,
        user: 'root',
        identityFiles: [],
        vars: {},
      },
      outcome: {
        host: 'web1',
        address: '203.0.113.1',
        port: 22,
        user: 'root',
        status: 'planned',
        plan,
      },
      context: {
        operations: ops,
        facts: hostFacts,
        request: { paths: [], users: [], groups: [] } as never,
      },
    };
  };

  it('svc plan exits 1 when a host has a problem, with or without --detailed-exitcode', () => {
    const outcome = planned('/etc/shadow').outcome;
    expect(exitCodeFor([outcome], false)).toBe(EXIT.error);
    expect(exitCodeFor([outcome], true)).toBe(EXIT.error);
  });

  it('svc deploy refuses the host before it connects, naming the path and the flag', async () => {
    const pool = {
      get: () => {
        throw new Error('deploy connected to a refused host');
      },
    } as unknown as ConnectionPool;
    const input = { manifest } as PlanInput;
    const result = await applyHost(input, planned('/etc/ssh/sshd_config'), pool, {
      adopt: true,
      lockWaitSeconds: 0,
      healthTimeoutSeconds: 30,
      holder: {},
    });
    expect(result.status).toBe('refused');
    expect(result.message).toBe(
      '/etc/ssh/sshd_config on web1 is a sensitive file (/etc/ssh/**); svc writes it only with --allow-path /etc/ssh/sshd_config',
    );
  });
});

/** Issue 9, point 6: what the list had to gain. */
const POINT_SIX = [
  '/usr/local/lib/systemd/system/x.service',
  '/etc/systemd/system/other.service',
  '/etc/sudo.conf',
  '/etc/sysctl.conf',
  '/etc/sysctl.d/99-x.conf',
  '/etc/ld.so.cache',
  '/etc/anacrontab',
  '/etc/logrotate.d/api-other',
  '/etc/monit/conf.d/api-other',
  '/etc/monit/monitrc',
  '/etc/dpkg/dpkg.cfg.d/x',
  '/etc/apt/apt.conf.d/99x',
  '/etc/yum.repos.d/x.repo',
  '/etc/apk/repositories',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/nsswitch.conf',
  '/run/x.pid',
  '/var/run/x.pid',
  '/etc/NetworkManager/dispatcher.d/99-x',
  '/etc/network/if-up.d/x',
  '/etc/network/if-pre-up.d/x',
  '/etc/polkit-1/rules.d/x.rules',
  '/usr/share/dbus-1/system-services/x.service',
  '/usr/local/lib/python3.11/dist-packages/x.pth',
  '/usr/local/lib/python3.11/site-packages/deep/x.pth',
  '/etc/rc.d/init.d/ssh',
  '/etc/rc.d/rc.local',
  '/etc/rc2.d/S01x',
  '/usr/local/lib/svc/api-other/ctl',
  '/home/deploy/.profile',
  '/home/deploy/.config/autostart/x',
];

describe('the list of issue 9, point 6', () => {
  it.each(POINT_SIX)('flags %s', (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeDefined();
  });

  it.each([
    '/etc/logrotate.d/api-orders',
    '/etc/monit/conf.d/api-orders',
    '/etc/rc.d/init.d/api-orders',
    '/usr/local/lib/python3.11/dist-packages/x.py',
    '/usr/local/lib/svc/api-orders/ctl',
    '/home/deploy/service/api-orders',
  ])("leaves the service's own %s alone", (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeUndefined();
  });
});

describe('sensitiveDirRule: a directory or link step', () => {
  it.each([
    ['/etc/sudoers.d', '/etc/sudoers.d/**'],
    ['/etc/cron.d', '/etc/cron.*'],
    ['/etc', '/etc/passwd'],
    ['/', '/etc/passwd'],
    ['/usr/local', '/usr/local/lib/python3*/**.pth'],
    ['/var/spool', '/var/spool/cron/**'],
    ['/etc/systemd/system', '/etc/systemd/**'],
  ])('flags %s (%s)', (path, rule) => {
    expect(sensitiveDirRule(path, SERVICE)).toBe(rule);
  });

  it.each(['/var/www/api-orders', '/var/log/api-orders', '/srv/app', '/home/deploy/service'])(
    'leaves %s alone',
    (path) => expect(sensitiveDirRule(path, SERVICE)).toBeUndefined(),
  );
});

describe('the gate on the path the host resolves', () => {
  const through = (literal: string, resolved: string) =>
    facts([], { resolved: new Map([[literal, resolved]]) });

  it('a link on the way (/srv/conf -> /etc) does not lead around the list', () => {
    const path = '/srv/conf/sudoers.d/x';
    const ops = operations(withFile(path.slice(1)));
    const plan = planHost('web1', ops, through(path, '/etc/sudoers.d/x'), 'digest', [path]);
    expect(plan.problems).toEqual([
      `${path} on web1 resolves to /etc/sudoers.d/x, which is a sensitive file (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d/x`,
    ]);
    const allowed = planHost('web1', ops, through(path, '/etc/sudoers.d/x'), 'digest', [
      '/etc/sudoers.d/x',
    ]);
    expect(allowed.problems).toEqual([]);
    expect(allowed.warnings).toEqual([
      `${path} resolves to /etc/sudoers.d/x, which is a sensitive file (/etc/sudoers.d/**), written because of --allow-path`,
    ]);
  });

  it("Red Hat's /etc/init.d -> rc.d/init.d: the service's own init script stays its own", () => {
    const path = '/etc/init.d/api-orders';
    const plan = planHost(
      'web1',
      operations(withFile(path.slice(1))),
      through(path, '/etc/rc.d/init.d/api-orders'),
      'digest',
    );
    expect(plan.problems).toEqual([]);
  });

  it('a path the host could not resolve (a link loop) is a problem', () => {
    const path = '/srv/loop/x';
    const hostFacts = facts([], { resolved: new Map([[path, undefined]]) });
    const plan = planHost('web1', operations(withFile(path.slice(1))), hostFacts, 'digest');
    expect(plan.problems).toEqual([
      `${path} on web1: the host could not resolve the directories on its way (a link loop?); svc does not write there`,
    ]);
  });

  it('--allow-path is exact: a directory does not allow what is below it', () => {
    const plan = planHost('web1', operations(withFile('etc/sudoers.d/x')), facts(), 'digest', [
      '/etc/sudoers.d',
      '/etc/sudoers.d/'.slice(0, -1),
      '/etc',
    ]);
    expect(plan.problems).toEqual([expect.stringContaining('--allow-path /etc/sudoers.d/x')]);
  });
});

describe("a project playbook's dir and link steps", () => {
  const projectOps = (extra: string, login = 'deploy', home = '/home/deploy') => {
    const playbook = readFileSync(new URL('../../playbooks/deploy.yaml', import.meta.url), 'utf8');
    const expanded = expandPlaybook(parsePlaybook(`${playbook}${extra}`, 'playbooks/deploy.yaml'), {
      manifest,
      host: { name: 'web1', login, vars: {} },
      config: CONFIG,
      release: { id: 'abc123abc123', files: 1, bytes: 1 },
      playbookFile: 'playbooks/deploy.yaml',
      projectPlaybook: true,
    });
    return resolveHomePaths(expanded, home);
  };

  it.each([
    [
      '- dir: { path: /etc/sudoers.d, mode: "0777" }',
      '/etc/sudoers.d on web1 is a sensitive directory (/etc/sudoers.d/**)',
    ],
    ['- dir: { path: /etc, mode: "0777" }', '/etc on web1 is a sensitive directory (/etc/passwd)'],
    ['- dir: { path: "//etc//cron.d" }', '/etc/cron.d on web1 is a sensitive directory'],
    [
      '- link: { path: /etc/cron.d/x, target: /tmp/x }',
      '/etc/cron.d/x on web1 is a sensitive link',
    ],
    [
      '- link: { path: ~/.ssh/authorized_keys, target: /tmp/k }',
      'is a sensitive link (**/.ssh/**)',
    ],
    [
      '- link: { path: ~/.profile, target: /tmp/p }',
      '/home/deploy/.profile on web1 is a sensitive link',
    ],
  ])('gates %s', (step, problem) => {
    const plan = planHost('web1', projectOps(`${step}\n`), facts(), 'digest');
    expect(plan.problems).toEqual([expect.stringContaining(problem)]);
  });

  // Review 2, point 5: svc's own state is nobody's to hand out, for every step kind, any flag.
  it.each([
    '- dir: { path: /var/lib/svc, mode: "0755", owner: nobody }',
    '- dir: { path: /var/lib/svc/locks, mode: "0777" }',
    '- link: { path: /var/lib/svc/app, target: /tmp }',
  ])('refuses %s, also with --allow-path', (step) => {
    const allow = ['/var/lib/svc', '/var/lib/svc/locks', '/var/lib/svc/app'];
    const plan = planHost('web1', projectOps(`${step}\n`), facts(), 'digest', allow);
    expect(plan.problems).toEqual([expect.stringContaining("is in /var/lib/svc, svc's own state")]);
  });

  it('refuses a step that resolves into /var/lib/svc through a link on the host', () => {
    const hostFacts = facts([], { resolved: new Map([['/srv/state/x', '/var/lib/svc/x']]) });
    const plan = planHost('web1', projectOps('- dir: { path: /srv/state/x }\n'), hostFacts, 'd');
    expect(plan.problems).toEqual([
      expect.stringContaining(
        '/srv/state/x on web1 resolves to /var/lib/svc/x, which is in /var/lib/svc',
      ),
    ]);
  });

  it("passes svc's own steps, also for a root login (~/service is the login's own)", () => {
    const rootFacts = facts([], { login: { user: 'root', home: '/root' } });
    const plan = planHost('web1', projectOps('', 'root', '/root'), rootFacts, 'digest');
    expect(plan.problems).toEqual([]);
    const dotted = planHost(
      'web1',
      projectOps('- link: { path: ~/bin/ls, target: /tmp/ls }\n', 'root', '/root'),
      rootFacts,
      'digest',
    );
    expect(dotted.problems).toEqual([
      expect.stringContaining('/root/bin/ls on web1 is a sensitive link (/root/**)'),
    ]);
  });

  it('nothing the project asks for is written below a link the same plan makes', () => {
    const ops = projectOps('- link: { path: /srv/alias, target: /etc/cron.d }\n');
    const withBelow = [
      ...ops,
      ...operations([file('srv/alias/evil', '* * * * * root id\n')]).filter(
        (op) => op.kind === 'file' && op.path === '/srv/alias/evil',
      ),
    ];
    const plan = planHost('web1', withBelow, facts(), 'digest');
    expect(plan.problems).toEqual([
      '/srv/alias/evil on web1 lies below /srv/alias, a link this plan makes; svc does not write through a link',
    ]);
  });
});

// Review 2, point 7: every entry pinned by name, each with a path it (and no entry before it)
// matches, so a removed or reordered entry fails here by name.
const PINNED: Record<string, string> = {
  '/etc/passwd': '/etc/passwd',
  '/etc/shadow': '/etc/shadow',
  '/etc/group': '/etc/group',
  '/etc/gshadow': '/etc/gshadow',
  '/etc/passwd-': '/etc/passwd-',
  '/etc/shadow-': '/etc/shadow-',
  '/etc/gshadow-': '/etc/gshadow-',
  '/etc/subuid': '/etc/subuid',
  '/etc/subgid': '/etc/subgid',
  '/etc/nsswitch.conf': '/etc/nsswitch.conf',
  '/etc/hosts': '/etc/hosts',
  '/etc/resolv.conf': '/etc/resolv.conf',
  '/etc/polkit-1/**': '/etc/polkit-1/rules.d/49-x.rules',
  '/usr/share/polkit-1/**': '/usr/share/polkit-1/rules.d/49-x.rules',
  '/etc/dbus-1/**': '/etc/dbus-1/system.d/x.conf',
  '/usr/share/dbus-1/**': '/usr/share/dbus-1/system-services/x.service',
  '/etc/pam.d/**': '/etc/pam.d/sshd',
  '/etc/security/**': '/etc/security/limits.conf',
  '/etc/sudoers': '/etc/sudoers',
  '/etc/sudoers.d/**': '/etc/sudoers.d/x',
  '/etc/doas.conf': '/etc/doas.conf',
  '/etc/sudo.conf': '/etc/sudo.conf',
  '/etc/ssh/**': '/etc/ssh/sshd_config',
  '/etc/default/ssh': '/etc/default/ssh',
  '**/.ssh/**': '/var/lib/x/.ssh/authorized_keys',
  '/root/**': '/root/notes.txt',
  '/home/*/.*': '/home/deploy/.profile',
  '/home/*/.*/**': '/home/deploy/.config/autostart/x.desktop',
  '/etc/ld.so.preload': '/etc/ld.so.preload',
  '/etc/ld.so.conf': '/etc/ld.so.conf',
  '/etc/ld.so.conf.d/**': '/etc/ld.so.conf.d/x.conf',
  '/etc/ld.so.cache': '/etc/ld.so.cache',
  '/usr/local/lib/python3*/**.pth': '/usr/local/lib/python3.11/dist-packages/x.pth',
  '/usr/local/lib/python3*/sitecustomize.py': '/usr/local/lib/python3.11/sitecustomize.py',
  '/usr/local/lib/python3*/**/sitecustomize.py':
    '/usr/local/lib/python3.11/dist-packages/sitecustomize.py',
  '/etc/environment': '/etc/environment',
  '/etc/profile': '/etc/profile',
  '/etc/profile.d/**': '/etc/profile.d/x.sh',
  '/etc/bash.bashrc': '/etc/bash.bashrc',
  '/boot/**': '/boot/grub/grub.cfg',
  '/etc/rc.local': '/etc/rc.local',
  '/etc/rc.d/**': '/etc/rc.d/rc.local',
  '/etc/rc*.d/**': '/etc/rc3.d/S01x',
  '/etc/inittab': '/etc/inittab',
  '/etc/anacrontab': '/etc/anacrontab',
  '/etc/crontab': '/etc/crontab',
  '/etc/cron.*': '/etc/cron.allow',
  '/etc/cron.*/**': '/etc/cron.d/x',
  '/var/spool/cron/**': '/var/spool/cron/crontabs/root',
  '/etc/systemd/**': '/etc/systemd/system/x.service',
  '/lib/systemd/**': '/lib/systemd/system/x.service',
  '/usr/lib/systemd/**': '/usr/lib/systemd/system/x.service',
  '/usr/local/lib/systemd/**': '/usr/local/lib/systemd/system/x.service',
  '/etc/init.d/*': '/etc/init.d/ssh',
  '/etc/init/*': '/etc/init/ssh.conf',
  '/etc/tmpfiles.d/**': '/etc/tmpfiles.d/x.conf',
  '/etc/udev/rules.d/**': '/etc/udev/rules.d/99-x.rules',
  '/etc/modprobe.d/**': '/etc/modprobe.d/x.conf',
  '/etc/modules-load.d/**': '/etc/modules-load.d/x.conf',
  '/etc/modules': '/etc/modules',
  '/etc/fstab': '/etc/fstab',
  '/etc/sysconfig/**': '/etc/sysconfig/network-scripts/ifcfg-eth0',
  '/etc/update-motd.d/**': '/etc/update-motd.d/99-x',
  '/etc/sysctl.conf': '/etc/sysctl.conf',
  '/etc/sysctl.d/**': '/etc/sysctl.d/99-x.conf',
  '/etc/NetworkManager/dispatcher.d/**': '/etc/NetworkManager/dispatcher.d/x',
  '/etc/network/if-*.d/**': '/etc/network/if-up.d/x',
  '/etc/logrotate.conf': '/etc/logrotate.conf',
  '/etc/logrotate.d/**': '/etc/logrotate.d/rsyslog',
  '/etc/monitrc': '/etc/monitrc',
  '/etc/monit/**': '/etc/monit/conf.d/other',
  '/usr/local/lib/svc/**': '/usr/local/lib/svc/api-other/ctl',
  '/run/**': '/run/sshd.pid',
  '/var/run/**': '/var/run/sshd.pid',
  '/usr/local/bin/**': '/usr/local/bin/x',
  '/usr/local/sbin/**': '/usr/local/sbin/x',
  '/etc/apt/**': '/etc/apt/sources.list',
  '/etc/dpkg/**': '/etc/dpkg/dpkg.cfg',
  '/etc/yum.repos.d/**': '/etc/yum.repos.d/x.repo',
  '/etc/yum/**': '/etc/yum/pluginconf.d/x.conf',
  '/etc/dnf/**': '/etc/dnf/dnf.conf',
  '/etc/apk/**': '/etc/apk/repositories',
  '/usr/local/share/ca-certificates/**': '/usr/local/share/ca-certificates/evil.crt',
  '/bin/**': '/bin/sh',
  '/sbin/**': '/sbin/init',
  '/usr/bin/**': '/usr/bin/sudo',
  '/usr/sbin/**': '/usr/sbin/sshd',
  '/lib/**': '/lib/x86_64-linux-gnu/libc.so.6',
  '/lib64/**': '/lib64/ld-linux-x86-64.so.2',
  '/usr/lib/**': '/usr/lib/os-release',
};

describe('every sensitive entry, pinned by name', () => {
  it('the table names exactly the list', () => {
    expect(Object.keys(PINNED).sort()).toEqual([...SENSITIVE_PATHS].sort());
  });

  it.each(Object.entries(PINNED))('%s flags %s', (pattern, path) => {
    expect(sensitiveRule(path, SERVICE)).toBe(pattern);
  });
});

describe("the login user's home, wherever it is", () => {
  const at = (home: string) => facts([], { login: { user: 'deploy', home } });
  it.each([
    ['/srv/deploy/.profile', '~/.*'],
    ['/srv/deploy/.config/fish/config.fish', '~/.*'],
    ['/srv/deploy/bin/sudo', '~/bin/**'],
    ['/home/deploy/bin/sudo', '~/bin/**'],
  ])('config/ may not write %s (%s)', (path, rule) => {
    const home = path.startsWith('/srv/') ? '/srv/deploy' : '/home/deploy';
    const plan = planHost('web1', operations([file(path.slice(1), 'x\n')]), at(home), 'd');
    expect(plan.problems).toContainEqual(expect.stringContaining(`is a sensitive file (${rule})`));
  });

  it('nor may a directory step hand out the home itself', () => {
    const plan = planHost(
      'web1',
      [{ kind: 'dir', path: '/srv/deploy', mode: 0o777, owner: 'root', group: 'root', step: 'x' }],
      at('/srv/deploy'),
      'd',
    );
    expect(plan.problems).toEqual([
      expect.stringContaining('is a sensitive directory (~ (the login home))'),
    ]);
  });

  it('the rest of the home is the login user’s own', () => {
    const plan = planHost(
      'web1',
      operations([file('srv/deploy/app/x.conf', 'x\n')]),
      at('/srv/deploy'),
      'd',
    );
    expect(plan.problems).toEqual([]);
  });
});
