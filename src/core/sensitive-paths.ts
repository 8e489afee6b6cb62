// Host files a project's config/ must not write unless the person running svc names each one
// with `--allow-path PATH`: who may log in and how, who may become root, what root runs on a
// schedule or at boot, what every program loads, and the system's own programs.
// A project you were handed cannot allow itself: the allowance is a flag, never in svc.yaml.
//
// This guards against the obvious ways to take over a host through a copied file; it is no
// sandbox. The service's own unit runs whatever the project says, as the user it says.
import { SvcError } from './errors.js';
import { quoted } from './naming.js';

/**
 * Patterns of host paths: `*` is any part of one path component, `**` anything including `/`.
 * The service's own unit files are exempt (see `ownUnitPatterns`).
 */
export const SENSITIVE_PATHS: readonly string[] = Object.freeze([
  // accounts, authentication and name resolution
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/gshadow',
  '/etc/passwd-',
  '/etc/shadow-',
  '/etc/gshadow-',
  '/etc/subuid',
  '/etc/subgid',
  '/etc/nsswitch.conf',
  '/etc/hosts',
  '/etc/resolv.conf',
  '/etc/polkit-1/**',
  '/usr/share/polkit-1/**',
  '/etc/dbus-1/**',
  '/usr/share/dbus-1/**',
  '/etc/pam.d/**',
  '/etc/security/**',
  // becoming root
  '/etc/sudoers',
  '/etc/sudoers.d/**',
  '/etc/doas.conf',
  '/etc/sudo.conf',
  // logging in
  '/etc/ssh/**',
  '/etc/default/ssh',
  '**/.ssh/**',
  '/root/**',
  // the login user's shell startup files (it runs sudo): ~/.profile, ~/.bashrc, ~/.config/...
  '/home/*/.*',
  '/home/*/.*/**',
  // what every program loads, and the shells root starts
  '/etc/ld.so.preload',
  '/etc/ld.so.conf',
  '/etc/ld.so.conf.d/**',
  '/etc/ld.so.cache',
  '/usr/local/lib/python3*/**.pth',
  '/usr/local/lib/python3*/sitecustomize.py',
  '/usr/local/lib/python3*/**/sitecustomize.py',
  '/etc/environment',
  '/etc/profile',
  '/etc/profile.d/**',
  '/etc/bash.bashrc',
  // what root runs at boot or on a schedule
  '/boot/**',
  '/etc/rc.local',
  '/etc/rc.d/**',
  '/etc/rc*.d/**',
  '/etc/inittab',
  '/etc/anacrontab',
  '/etc/crontab',
  '/etc/cron.*',
  '/etc/cron.*/**',
  '/var/spool/cron/**',
  '/etc/systemd/**',
  '/lib/systemd/**',
  '/usr/lib/systemd/**',
  '/usr/local/lib/systemd/**',
  '/etc/init.d/*',
  '/etc/init/*',
  '/etc/tmpfiles.d/**',
  '/etc/udev/rules.d/**',
  '/etc/modprobe.d/**',
  '/etc/modules-load.d/**',
  '/etc/modules',
  '/etc/fstab',
  '/etc/sysconfig/**',
  '/etc/update-motd.d/**',
  '/etc/sysctl.conf',
  '/etc/sysctl.d/**',
  '/etc/NetworkManager/dispatcher.d/**',
  '/etc/network/if-*.d/**',
  // what root-run daemons read as commands: logrotate's scripts, monit's checks (other services'
  // files; the service's own are exempt), and svc's own launchers
  '/etc/logrotate.conf',
  '/etc/logrotate.d/**',
  '/etc/monitrc',
  '/etc/monit/**',
  '/usr/local/lib/svc/**',
  // runtime state root's daemons trust (pid files, sockets)
  '/run/**',
  '/var/run/**',
  // where packages and the system's programs come from; /usr/local/{bin,sbin} come first on
  // root's PATH (and on the deploy script's own), so a file there can stand in for any command
  '/usr/local/bin/**',
  '/usr/local/sbin/**',
  '/etc/apt/**',
  '/etc/dpkg/**',
  '/etc/yum.repos.d/**',
  '/etc/yum/**',
  '/etc/dnf/**',
  '/etc/apk/**',
  // trusted certificate authorities (update-ca-certificates reads them into the system's store)
  '/usr/local/share/ca-certificates/**',
  '/bin/**',
  '/sbin/**',
  '/usr/bin/**',
  '/usr/sbin/**',
  '/lib/**',
  '/lib64/**',
  '/usr/lib/**',
]);

/** The service's own unit, check and rotation files, which svc.yaml's init system and monit need. */
function ownUnitPatterns(service: string): string[] {
  return [
    `/etc/systemd/system/${service}.service`,
    `/etc/systemd/system/${service}.service.d/*`,
    // cutover: switch: the template unit whose instances are the slots (NAME@PORT.service).
    `/etc/systemd/system/${service}@.service`,
    `/etc/systemd/system/${service}@.service.d/*`,
    `/etc/systemd/system/${service}.socket`,
    `/etc/systemd/system/${service}.timer`,
    `/etc/init.d/${service}`,
    // Red Hat's /etc/init.d is a link to rc.d/init.d: the same file, resolved
    `/etc/rc.d/init.d/${service}`,
    `/etc/init/${service}.conf`,
    // cutover: switch under upstart: the boot task that starts the marked slots.
    `/etc/init/${service}-slots.conf`,
    `/etc/logrotate.d/${service}`,
    `/etc/monit/conf.d/${service}`,
    `/usr/local/lib/svc/${service}/**`,
  ];
}

function globToRegExp(pattern: string): RegExp {
  const source = pattern
    .split(/(\*\*|\*)/)
    .map((part) =>
      part === '**' ? '.*' : part === '*' ? '[^/]*' : part.replace(/[.+?^${}()|[\]\\]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`);
}

const SENSITIVE = SENSITIVE_PATHS.map((pattern) => ({ pattern, re: globToRegExp(pattern) }));

/**
 * The pattern that makes `path` sensitive, or undefined. `service` is the service being planned
 * (its own units are not sensitive); undefined when the plan manages no service.
 */
export function sensitiveRule(path: string, service: string | undefined): string | undefined {
  if (service !== undefined && ownUnitPatterns(service).some((own) => globToRegExp(own).test(path)))
    return undefined;
  return SENSITIVE.find(({ re }) => re.test(path))?.pattern;
}

/**
 * Whether directory `path` lies above what an absolute `pattern` matches: each of its components
 * matches the pattern's, until the pattern's `**` (which anything below can meet). Component by
 * component, so `/usr/local/lib/python3.11/dist-packages` holds `/usr/local/lib/python3*\/**.pth`
 * and `/home/deploy` holds `/home/*\/.*`. `**\/.ssh/**` is left to the path's own checks: every
 * directory would hold it.
 */
function holdsMatches(pattern: string, path: string): boolean {
  if (!pattern.startsWith('/')) return false;
  const want = pattern.slice(1).split('/');
  const have = path === '/' ? [] : path.slice(1).split('/');
  for (const [index, part] of have.entries()) {
    const wanted = want[index];
    if (wanted === undefined) return false;
    if (wanted.includes('**')) return true;
    if (!globToRegExp(wanted).test(part)) return false;
  }
  return have.length < want.length;
}

/**
 * The rule that makes a directory (or a link standing where one could be) sensitive: the path
 * itself, anything below it (`/etc/sudoers.d` holds `/etc/sudoers.d/**`), or a directory that
 * holds sensitive paths (`/etc`, `/usr/local`: a project's `mode: "0777"` on one hands it out).
 */
export function sensitiveDirRule(path: string, service: string | undefined): string | undefined {
  return (
    sensitiveRule(path, service) ??
    sensitiveRule(`${path}/x`, service) ??
    SENSITIVE_PATHS.find((pattern) => holdsMatches(pattern, path))
  );
}

/** One `--allow-path` value: an exact absolute host path, as the plan shows it. */
export function checkAllowPath(value: string): string {
  const ok =
    value.startsWith('/') &&
    // eslint-disable-next-line no-control-regex
    !/[\u0000-\u001f\u007f]/.test(value) &&
    value
      .split('/')
      .slice(1)
      .every((part) => part !== '' && part !== '.' && part !== '..');
  if (!ok) {
    throw new SvcError(
      `--allow-path: must be an absolute path of a file, such as /etc/ssh/sshd_config, without . or .. or control characters (got ${quoted(value)})`,
    );
  }
  return value;
}
