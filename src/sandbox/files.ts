// The text of the files a sandbox host is configured with, and the inventory built from its
// records. Pure: every value written here is a name or an address svc derived itself.
import { systemdCommand } from '../core/quote.js';
import type { SandboxHost, SandboxInventory } from '../core/sandbox-inventory.js';
import type { HostRecord } from './state.js';

/** Inside a host, its own state directory is bind-mounted here (light) or bound read-only (systemd). */
export const HOST_STATE_MOUNT = '/run/svc-sandbox';
export const HOST_KEY_FILE = 'ssh_host_ed25519_key';
export const SETUP_UNIT = 'svc-sandbox-setup.service';
export const SANDBOX_USERS = ['root', 'deploy'] as const;

/**
 * The light host's whole sshd configuration (sshd -f reads only this). UsePAM yes, as Debian ships
 * it: the machine's PAM stack works in the host's namespaces (pam_loginuid made optional there, see
 * light.ts), and only with PAM does
 * sshd let a key log in to an account whose password is locked (`!`, what useradd leaves), as on
 * a real Debian host. No PidFile: svc records sshd's pid itself.
 */
export function sshdConfig(address: string): string {
  return [
    `ListenAddress ${address}`,
    'Port 22',
    `HostKey ${HOST_STATE_MOUNT}/${HOST_KEY_FILE}`,
    'PidFile none',
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    'KbdInteractiveAuthentication no',
    'UsePAM yes',
    'StrictModes yes',
    'AuthorizedKeysFile .ssh/authorized_keys',
    'AcceptEnv LANG LC_*',
    'Subsystem sftp /usr/lib/openssh/sftp-server',
    '',
  ].join('\n');
}

/**
 * A systemd host runs Debian's ssh.service with the machine's sshd_config, which includes
 * sshd_config.d/*.conf first (and for sshd the first value wins). A HostKey here replaces the
 * machine's host keys, so no host shares a key with the machine.
 */
export function sshdDropIn(address: string): string {
  return [
    `ListenAddress ${address}`,
    `HostKey ${HOST_STATE_MOUNT}/${HOST_KEY_FILE}`,
    'PermitRootLogin prohibit-password',
    'PasswordAuthentication no',
    '',
  ].join('\n');
}

/**
 * /etc/monit/monitrc inside a host: where `monit` looks by default, so a plain `monit reload`
 * over SSH works. A 5 s cycle so deploy tests see starts quickly; the HTTP interface (which
 * `monit status` and `reload` talk to) listens inside the host's network namespace only.
 */
export function monitrc(): string {
  return [
    'set daemon 5',
    'set log /var/log/monit.log',
    'set pidfile /run/monit.pid',
    'set idfile /var/lib/monit/id',
    'set statefile /var/lib/monit/state',
    'set httpd port 2812 and use address 127.0.0.1',
    '    allow localhost',
    'include /etc/monit/conf.d/*',
    '',
  ].join('\n');
}

/**
 * systemd hosts: a oneshot unit pulled in with `systemd.wants=` on the kernel command line,
 * ordered before ssh and monit so they start already configured.
 */
export function setupUnit(name: string): string {
  return [
    '[Unit]',
    'Description=svc sandbox host setup (users, keys, sshd and monit configuration)',
    'Before=ssh.service monit.service',
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${systemdCommand(['/bin/sh', `${HOST_STATE_MOUNT}/setup.sh`, name])}`,
    '',
  ].join('\n');
}

/** `ssh-keygen` writes "TYPE BASE64 COMMENT"; known_hosts wants "ADDRESS TYPE BASE64". */
export function knownHostsLine(address: string, publicKey: string): string {
  const [type, base64] = publicKey.trim().split(/\s+/);
  if (!type || !base64) throw new Error(`not an OpenSSH public key: ${publicKey.slice(0, 40)}`);
  return `${address} ${type} ${base64}`;
}

/** The inventory entry of a host that came up: its first process is the holder or the leader. */
export function inventoryHost(record: HostRecord, user: string, keyFile: string): SandboxHost {
  const first = record.processes.find((p) => p.role === 'holder' || p.role === 'leader');
  if (!first) throw new Error(`${record.name}: no holder or leader process recorded`);
  return {
    name: record.name,
    kind: record.kind,
    address: record.address,
    port: 22,
    user,
    users: [...SANDBOX_USERS],
    keyFile,
    netns: record.netns,
    pid: first.pid,
    pids: record.processes.map((p) => p.pid),
  };
}

export function buildInventory(
  net: string,
  knownHostsFile: string,
  hosts: readonly SandboxHost[],
): SandboxInventory {
  const sorted = [...hosts].sort((x, y) => Number(x.name.slice(4)) - Number(y.name.slice(4)));
  return { version: 1, net, knownHostsFile, hosts: sorted };
}

/**
 * sh run inside a host (with $s the state mount): the `deploy` user with passwordless sudo, and
 * the sandbox key for root and deploy. Shared by light and systemd hosts.
 */
export const LOGIN_USERS_SCRIPT = `id deploy >/dev/null 2>&1 || useradd --create-home --home-dir /home/deploy --shell /bin/sh --user-group deploy
mkdir -p /home/deploy && chown deploy:deploy /home/deploy
printf 'deploy ALL=(ALL) NOPASSWD:ALL\\n' > /etc/sudoers.d/deploy
chmod 0440 /etc/sudoers.d/deploy
install -d -m 0700 /root/.ssh
install -m 0600 "$s/authorized_keys" /root/.ssh/authorized_keys
install -d -m 0700 -o deploy -g deploy /home/deploy/.ssh
install -m 0600 -o deploy -g deploy "$s/authorized_keys" /home/deploy/.ssh/authorized_keys`;
