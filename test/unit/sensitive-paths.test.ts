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
import { checkAllowPath, SENSITIVE_PATHS, sensitiveRule } from '../../src/core/sensitive-paths.js';
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
