// The sensitive-path gate as tables (issue 17): every entry of SENSITIVE_PATHS refused by name
// through the planner, a near miss beside each that is not, --allow-path as an exact path (never
// a prefix of one), and a `secret: true` file on a sensitive path still gated.
import { describe, expect, it } from 'vitest';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import {
  checkAllowPath,
  SENSITIVE_PATHS,
  sensitiveDirRule,
  sensitiveRule,
} from '../../src/core/sensitive-paths.js';
import { CONFIG, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const SERVICE = 'api-orders';

/** Each entry, a path only it (of the entries up to it) matches. */
const REFUSED: [pattern: string, path: string][] = [
  ['/etc/passwd', '/etc/passwd'],
  ['/etc/shadow', '/etc/shadow'],
  ['/etc/group', '/etc/group'],
  ['/etc/gshadow', '/etc/gshadow'],
  ['/etc/passwd-', '/etc/passwd-'],
  ['/etc/shadow-', '/etc/shadow-'],
  ['/etc/gshadow-', '/etc/gshadow-'],
  ['/etc/subuid', '/etc/subuid'],
  ['/etc/subgid', '/etc/subgid'],
  ['/etc/nsswitch.conf', '/etc/nsswitch.conf'],
  ['/etc/hosts', '/etc/hosts'],
  ['/etc/resolv.conf', '/etc/resolv.conf'],
  ['/etc/polkit-1/**', '/etc/polkit-1/rules.d/10-x.rules'],
  ['/usr/share/polkit-1/**', '/usr/share/polkit-1/actions/x.policy'],
  ['/etc/dbus-1/**', '/etc/dbus-1/system.d/x.conf'],
  ['/usr/share/dbus-1/**', '/usr/share/dbus-1/system.d/x.conf'],
  ['/etc/pam.d/**', '/etc/pam.d/common-auth'],
  ['/etc/security/**', '/etc/security/access.conf'],
  ['/etc/sudoers', '/etc/sudoers'],
  ['/etc/sudoers.d/**', '/etc/sudoers.d/90-deploy'],
  ['/etc/doas.conf', '/etc/doas.conf'],
  ['/etc/sudo.conf', '/etc/sudo.conf'],
  ['/etc/ssh/**', '/etc/ssh/sshd_config.d/x.conf'],
  ['/etc/default/ssh', '/etc/default/ssh'],
  ['**/.ssh/**', '/srv/git/.ssh/authorized_keys'],
  ['/root/**', '/root/.bashrc'],
  ['/home/*/.*', '/home/deploy/.bashrc'],
  ['/home/*/.*/**', '/home/deploy/.config/systemd/user/x.service'],
  ['/etc/ld.so.preload', '/etc/ld.so.preload'],
  ['/etc/ld.so.conf', '/etc/ld.so.conf'],
  ['/etc/ld.so.conf.d/**', '/etc/ld.so.conf.d/libc.conf'],
  ['/etc/ld.so.cache', '/etc/ld.so.cache'],
  ['/usr/local/lib/python3*/**.pth', '/usr/local/lib/python3/x.pth'],
  ['/usr/local/lib/python3*/sitecustomize.py', '/usr/local/lib/python3.9/sitecustomize.py'],
  [
    '/usr/local/lib/python3*/**/sitecustomize.py',
    '/usr/local/lib/python3.9/site-packages/sitecustomize.py',
  ],
  ['/etc/environment', '/etc/environment'],
  ['/etc/profile', '/etc/profile'],
  ['/etc/profile.d/**', '/etc/profile.d/x.sh'],
  ['/etc/bash.bashrc', '/etc/bash.bashrc'],
  ['/boot/**', '/boot/vmlinuz'],
  ['/etc/rc.local', '/etc/rc.local'],
  ['/etc/rc.d/**', '/etc/rc.d/init.d/ssh'],
  ['/etc/rc*.d/**', '/etc/rcS.d/S01x'],
  ['/etc/inittab', '/etc/inittab'],
  ['/etc/anacrontab', '/etc/anacrontab'],
  ['/etc/crontab', '/etc/crontab'],
  ['/etc/cron.*', '/etc/cron.deny'],
  ['/etc/cron.*/**', '/etc/cron.hourly/x'],
  ['/var/spool/cron/**', '/var/spool/cron/root'],
  ['/etc/systemd/**', '/etc/systemd/journald.conf'],
  ['/lib/systemd/**', '/lib/systemd/system-generators/x'],
  ['/usr/lib/systemd/**', '/usr/lib/systemd/system/ssh.service'],
  ['/usr/local/lib/systemd/**', '/usr/local/lib/systemd/system/x.timer'],
  ['/etc/init.d/*', '/etc/init.d/cron'],
  ['/etc/init/*', '/etc/init/cron.conf'],
  ['/etc/tmpfiles.d/**', '/etc/tmpfiles.d/x.conf'],
  ['/etc/udev/rules.d/**', '/etc/udev/rules.d/70-x.rules'],
  ['/etc/modprobe.d/**', '/etc/modprobe.d/blacklist.conf'],
  ['/etc/modules-load.d/**', '/etc/modules-load.d/x.conf'],
  ['/etc/modules', '/etc/modules'],
  ['/etc/fstab', '/etc/fstab'],
  ['/etc/sysconfig/**', '/etc/sysconfig/sshd'],
  ['/etc/update-motd.d/**', '/etc/update-motd.d/00-header'],
  ['/etc/sysctl.conf', '/etc/sysctl.conf'],
  ['/etc/sysctl.d/**', '/etc/sysctl.d/10-x.conf'],
  ['/etc/NetworkManager/dispatcher.d/**', '/etc/NetworkManager/dispatcher.d/pre-up.d/x'],
  ['/etc/network/if-*.d/**', '/etc/network/if-down.d/x'],
  ['/etc/logrotate.conf', '/etc/logrotate.conf'],
  ['/etc/logrotate.d/**', '/etc/logrotate.d/nginx'],
  ['/etc/monitrc', '/etc/monitrc'],
  ['/etc/monit/**', '/etc/monit/monitrc'],
  ['/usr/local/lib/svc/**', '/usr/local/lib/svc/launch'],
  ['/run/**', '/run/systemd/x'],
  ['/var/run/**', '/var/run/x.sock'],
  ['/usr/local/bin/**', '/usr/local/bin/node'],
  ['/usr/local/sbin/**', '/usr/local/sbin/monit'],
  ['/etc/apt/**', '/etc/apt/sources.list.d/x.list'],
  ['/etc/dpkg/**', '/etc/dpkg/dpkg.cfg.d/x'],
  ['/etc/yum.repos.d/**', '/etc/yum.repos.d/epel.repo'],
  ['/etc/yum/**', '/etc/yum/yum.conf'],
  ['/etc/dnf/**', '/etc/dnf/plugins/x.conf'],
  ['/etc/apk/**', '/etc/apk/keys/x.pub'],
  ['/usr/local/share/ca-certificates/**', '/usr/local/share/ca-certificates/x/y.crt'],
  ['/bin/**', '/bin/bash'],
  ['/sbin/**', '/sbin/sshd'],
  ['/usr/bin/**', '/usr/bin/env'],
  ['/usr/sbin/**', '/usr/sbin/cron'],
  ['/lib/**', '/lib/modules/x.ko'],
  ['/lib64/**', '/lib64/libc.so.6'],
  ['/usr/lib/**', '/usr/lib/x86_64-linux-gnu/libpam.so.0'],
];

/** Beside each entry, paths that are not sensitive: a neighbour, a longer name, a parent. */
const ALLOWED = [
  '/etc/passwd.orig',
  '/etc/xpasswd',
  '/etc/passwd/x',
  '/etc/shadow.orig',
  '/etc/group.orig',
  '/etc/gshadow.orig',
  '/etc/subuid.orig',
  '/etc/nsswitch.conf.orig',
  '/etc/hosts.orig',
  '/etc/resolv.conf.orig',
  '/etc/polkit-10/x',
  '/etc/polkit-1',
  '/usr/share/polkit-10/x',
  '/etc/dbus-10/x',
  '/usr/share/dbus-10/x',
  '/etc/pam.dx/y',
  '/etc/securityx/y',
  '/etc/sudoers.orig',
  '/etc/sudoers.dx/y',
  '/etc/doas.conf.orig',
  '/etc/sudo.conf.orig',
  '/etc/ssh2/x',
  '/etc/sshd_config',
  '/etc/default/ssh.orig',
  '/etc/default/sshd',
  '/srv/git/ssh/authorized_keys',
  '/srv/git/.sshx/y',
  '/srv/git/x.ssh/y',
  '/rootx/y',
  '/srv/root/x',
  '/home/deploy/app.conf',
  '/home/deploy/app/x.conf',
  '/home/deploy/app/.env',
  '/home/x',
  '/etc/ld.so.preload.orig',
  '/etc/ld.so.conf.orig',
  '/etc/ld.so.conf.dx/y',
  '/etc/ld.so.cache.orig',
  '/usr/local/lib/python2.7/x.pth',
  '/usr/local/lib/python3.11/x.py',
  '/usr/local/lib/python3.11/x.pthx',
  '/usr/local/lib/python3.11/xsitecustomize.py',
  '/usr/local/lib/python3.11/site-packages/xsitecustomize.py',
  '/usr/lib/python3.11/x.pthx'.replace('/usr/lib', '/usr/libx'),
  '/etc/environment.orig',
  '/etc/profile.orig',
  '/etc/profile.dx/y',
  '/etc/bash.bashrc.orig',
  '/bootx/y',
  '/etc/rc.local.orig',
  '/etc/rc.dx/y',
  '/etc/rc3.dx/y',
  '/etc/rc3.d',
  '/etc/inittab.orig',
  '/etc/anacrontab.orig',
  '/etc/crontab.orig',
  '/etc/cron/x',
  '/etc/cronx',
  '/var/spool/cronx/y',
  '/var/spool/mail/deploy',
  '/etc/systemdx/y',
  '/libx/systemd/y',
  '/usr/libx/systemd/y',
  '/usr/local/lib/systemdx/y',
  '/etc/init.dx/y',
  '/etc/initx/y',
  '/etc/tmpfiles.dx/y',
  '/etc/udev/rules.dx/y',
  '/etc/udev/udev.conf',
  '/etc/modprobe.dx/y',
  '/etc/modules-load.dx/y',
  '/etc/modules.orig',
  '/etc/fstab.orig',
  '/etc/sysconfigx/y',
  '/etc/update-motd.dx/y',
  '/etc/sysctl.conf.orig',
  '/etc/sysctl.dx/y',
  '/etc/NetworkManager/conf.d/x',
  '/etc/network/interfaces',
  '/etc/network/if-up.dx/y',
  '/etc/logrotate.conf.orig',
  '/etc/logrotate.dx/y',
  '/etc/monitrc.orig',
  '/etc/monitx/y',
  '/usr/local/lib/svcx/y',
  '/runx/y',
  '/var/runx/y',
  '/usr/local/binx/y',
  '/usr/local/sbinx/y',
  '/etc/aptx/y',
  '/etc/dpkgx/y',
  '/etc/yum.repos.dx/y',
  '/etc/yumx/y',
  '/etc/dnfx/y',
  '/etc/apkx/y',
  '/usr/local/share/ca-certificatesx/y',
  '/usr/share/ca-certificates/x.crt',
  '/binx/y',
  '/sbinx/y',
  '/usr/binx/y',
  '/usr/sbinx/y',
  '/lib64x/y',
  '/var/www/api-orders/current/bin/x',
  '/opt/app/bin/x',
  '/etc/nginx/conf.d/api-orders.conf',
];

describe('every entry of SENSITIVE_PATHS, refused by name', () => {
  it('the table names each entry once, in the list order', () => {
    expect(REFUSED.map(([pattern]) => pattern)).toEqual([...SENSITIVE_PATHS]);
  });

  it.each(REFUSED)('%s: planning config/ for %s is a problem naming it', (pattern, path) => {
    expect(sensitiveRule(path, SERVICE)).toBe(pattern);
    expect(sensitiveRule(path, undefined)).toBe(pattern);
    const config = [...CONFIG, file(path.slice(1), 'x\n')];
    const plan = planHost('web1', operations(config), facts(), 'digest');
    expect(plan.problems).toEqual([
      `${path} on web1 is a sensitive file (${pattern}); svc writes it only with --allow-path ${path}`,
    ]);
    expect(plan.changes.map((change) => change.target)).not.toContain(path);
  });
});

describe('near misses are not sensitive', () => {
  it.each(ALLOWED)('%s', (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeUndefined();
    expect(sensitiveRule(path, undefined)).toBeUndefined();
  });
});

describe("the service's own files, only the service's", () => {
  it.each([
    '/etc/systemd/system/api-orders.service',
    '/etc/systemd/system/api-orders.service.d/x.conf',
    '/etc/systemd/system/api-orders.socket',
    '/etc/systemd/system/api-orders.timer',
    '/etc/init.d/api-orders',
    '/etc/rc.d/init.d/api-orders',
    '/etc/init/api-orders.conf',
    '/etc/logrotate.d/api-orders',
    '/etc/monit/conf.d/api-orders',
    '/usr/local/lib/svc/api-orders/ctl',
    '/usr/local/lib/svc/api-orders/a/b',
  ])('%s is the service’s own', (path) => {
    expect(sensitiveRule(path, SERVICE)).toBeUndefined();
    expect(sensitiveRule(path, 'api-other')).toBeDefined();
    expect(sensitiveRule(path, undefined)).toBeDefined();
  });

  it.each([
    ['/etc/systemd/system/api-orders.service.d/a/b', '/etc/systemd/**'],
    ['/etc/systemd/system/api-orders.servicex', '/etc/systemd/**'],
    ['/etc/systemd/system/xapi-orders.service', '/etc/systemd/**'],
    ['/etc/systemd/system/api-orders.path', '/etc/systemd/**'],
    ['/etc/init.d/api-orders.sh', '/etc/init.d/*'],
    ['/etc/init/api-orders', '/etc/init/*'],
    ['/etc/logrotate.d/api-orders2', '/etc/logrotate.d/**'],
    ['/etc/monit/conf.d/api-orders.conf', '/etc/monit/**'],
    ['/usr/local/lib/svc/api-orders', '/usr/local/lib/svc/**'],
    ['/usr/local/lib/svc/api-ordersx/ctl', '/usr/local/lib/svc/**'],
    ['/etc/rc.d/init.d/api-orders2', '/etc/rc.d/**'],
  ])('%s is not (%s)', (path, rule) => {
    expect(sensitiveRule(path, SERVICE)).toBe(rule);
  });

  it('no service planned: nothing is anyone\'s own, not even a service called "undefined"', () => {
    expect(sensitiveRule('/etc/init.d/undefined', undefined)).toBe('/etc/init.d/*');
    expect(sensitiveRule('/etc/init.d/undefined', 'undefined')).toBeUndefined();
  });

  it('a service name with regular-expression characters is matched literally', () => {
    expect(sensitiveRule('/etc/init.d/a.b', 'a.b')).toBeUndefined();
    expect(sensitiveRule('/etc/init.d/axb', 'a.b')).toBe('/etc/init.d/*');
  });
});

describe('sensitiveDirRule', () => {
  it.each([
    ['/etc/ssh', '/etc/ssh/**'],
    ['/etc/ssh/sshd_config.d', '/etc/ssh/**'],
    ['/etc/init.d', '/etc/init.d/*'],
    ['/home', '/home/*/.*'],
    ['/usr', '/usr/share/polkit-1/**'],
    ['/usr/local/lib', '/usr/local/lib/python3*/**.pth'],
    ['/var', '/var/spool/cron/**'],
    ['/etc/network', '/etc/network/if-*.d/**'],
    ['/etc/NetworkManager', '/etc/NetworkManager/dispatcher.d/**'],
    ['/srv/x/.ssh', '**/.ssh/**'],
    ['/', '/etc/passwd'],
    // found by this table: a directory above a wildcard in the middle of a pattern
    ['/home/deploy', '/home/*/.*'],
    ['/home/*', '/home/*/.*'],
    ['/usr/local/lib/python3.11', '/usr/local/lib/python3*/**.pth'],
    ['/usr/local/lib/python3.11/dist-packages', '/usr/local/lib/python3*/**.pth'],
    ['/usr/local/lib/python3.11/dist-packages/a/b', '/usr/local/lib/python3*/**.pth'],
    ['/etc/network/if-up.d', '/etc/network/if-*.d/**'],
    ['/etc/rc3.d', '/etc/rc*.d/**'],
  ])('%s (%s)', (path, rule) => {
    expect(sensitiveDirRule(path, SERVICE)).toBe(rule);
  });

  it.each([
    '/srv',
    '/srv/app',
    '/var/www',
    '/var/lib',
    '/etc/nginx',
    '/etc/nginx/conf.d',
    '/etc/pa',
    '/us',
    '/opt',
    '/home/deploy/app',
    '/home/deploy/app/.x',
    '/usr/local/lib/python2.7',
    '/usr/local/lib/node_modules',
    '/usr/local/lib/python3.11/dist-packages'.replace('python3', 'python2'),
    '/etc/network/interfaces.d',
    '/etc/init.d.bak',
  ])('%s is not sensitive', (path) => {
    expect(sensitiveDirRule(path, SERVICE)).toBeUndefined();
  });
});

describe('--allow-path is an exact path, never a prefix', () => {
  const planWith = (path: string, allowed: string[]) =>
    planHost('web1', operations([...CONFIG, file(path.slice(1), 'x\n')]), facts(), 'd', allowed);
  const refusal = (path: string, rule: string) =>
    `${path} on web1 is a sensitive file (${rule}); svc writes it only with --allow-path ${path}`;

  it.each([
    ['/etc/ssh/sshd_config', ['/etc/ssh/sshd']],
    ['/etc/ssh/sshd_config', ['/etc/ssh/sshd_config2']],
    ['/etc/ssh/sshd_config', ['/etc/ssh']],
    ['/etc/ssh/sshd_config', ['/etc/ssh/']],
    ['/etc/ssh/sshd_config', ['/etc']],
    ['/etc/ssh/sshd_config', ['/']],
    ['/etc/ssh/sshd_config', ['/ETC/SSH/SSHD_CONFIG']],
    ['/etc/ssh/sshd_config', ['etc/ssh/sshd_config']],
    ['/etc/ssh/sshd_config', ['/etc/ssh/sshd_config/']],
    ['/etc/ssh/sshd_config', ['/etc/ssh/*']],
    ['/etc/ssh/sshd_config', ['/etc/ssh/**']],
    ['/etc/sudoers', ['/etc/sudoers.d/x', '/etc/sudoers.d']],
    ['/etc/sudoers.d/x', ['/etc/sudoers']],
  ])('%s is refused with %j', (path, allowed) => {
    const rule = sensitiveRule(path, SERVICE)!;
    const plan = planWith(path, allowed);
    expect(plan.problems).toEqual([refusal(path, rule)]);
    expect(plan.warnings).toEqual([]);
  });

  it.each(['/etc/ssh/sshd_config', '/etc/sudoers', '/root/.profile', '/usr/local/bin/x'])(
    '%s is written when named exactly, with a warning',
    (path) => {
      const plan = planWith(path, ['/etc/other', path]);
      expect(plan.problems).toEqual([]);
      expect(plan.warnings).toEqual([
        `${path} is a sensitive file (${sensitiveRule(path, SERVICE)}), written because of --allow-path`,
      ]);
      expect(plan.changes.map((change) => change.target)).toContain(path);
    },
  );

  it.each([
    ['/etc/ssh/sshd_config', '/etc/ssh/sshd_config'],
    ['/a', '/a'],
    ['/a/b.c/..d/...', '/a/b.c/..d/...'],
    ['/a b', '/a b'],
  ])('checkAllowPath takes %j', (value, taken) => {
    expect(checkAllowPath(value)).toBe(taken);
  });

  it.each([
    ['/', '"/"'],
    ['//etc', '"//etc"'],
    ['/etc//ssh', '"/etc//ssh"'],
    ['/etc/ssh/..', '"/etc/ssh/.."'],
    ['/./etc', '"/./etc"'],
    ['./etc', '"./etc"'],
    ['/etc/\u0000x', '"/etc/\\u0000x"'],
    ['/etc/\u001fx', '"/etc/\\u001fx"'],
    ['/etc/\u007fx', '"/etc/\\u007fx"'],
    ['/etc/\tx', '"/etc/\\tx"'],
    ['\u0000/etc', '"\\u0000/etc"'],
  ])('checkAllowPath refuses %j', (value, shown) => {
    expect(() => checkAllowPath(value)).toThrow(
      `--allow-path: must be an absolute path of a file, such as /etc/ssh/sshd_config, without . or .. or control characters (got ${shown})`,
    );
  });
});

describe('a secret file on a sensitive path is gated like any other', () => {
  it.each(['/etc/sudoers.d/deploy', '/etc/ssh/sshd_config', '/root/.ssh/authorized_keys'])(
    '%s with secret: true',
    (path) => {
      const secretManifest: Manifest = {
        ...manifest,
        files: {
          ...manifest.files,
          [path]: { mode: '0600', owner: 'root', group: 'root', secret: true },
        },
      };
      const config = [...CONFIG, file(path.slice(1), 'deploy ALL=(ALL) NOPASSWD: ALL\n', 0o600)];
      const ops = operations(config, secretManifest);
      expect(ops).toContainEqual(expect.objectContaining({ kind: 'file', path, secret: true }));
      const plan = planHost('web1', ops, facts(), 'digest');
      const rule = sensitiveRule(path, SERVICE);
      expect(plan.problems).toEqual([
        `${path} on web1 is a sensitive file (${rule}); svc writes it only with --allow-path ${path}`,
      ]);
      expect(plan.changes.map((change) => change.target)).not.toContain(path);
      const allowed = planHost('web1', ops, facts(), 'digest', [path]);
      expect(allowed.problems).toEqual([]);
      expect(allowed.changes).toContainEqual(
        expect.objectContaining({ target: path, sensitive: true }),
      );
    },
  );
});
