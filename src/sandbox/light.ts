// A light host: a network namespace, and in it `unshare` making mount, UTS, IPC and PID
// namespaces whose first process (the holder, PID 1 inside) lays fresh filesystems over the
// machine's, creates the users, then runs sshd and monit and reaps orphans until it is killed.
//
// Why a PID namespace: killing the holder makes the kernel kill everything inside, including
// services a deploy started later, so `down` needs no pids but its own. Why --kill-child: if svc
// dies before it learns the holder's pid, killing the recorded `unshare` still ends the host.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import { HOST_STATE_MOUNT, LOGIN_USERS_SCRIPT, monitrc, sshdConfig } from './files.js';
import { childrenOf, isAlive, readProcStat, recordProcess, waitUntil } from './proc.js';
import { hostDir, writeRecord, type HostRecord, type SandboxPaths } from './state.js';

/**
 * Runs as the holder, inside the new namespaces: $1 = the host's state directory on the machine,
 * $2 = the host name. Values arrive only as positional parameters.
 *
 * What may a deploy write, and where does it land? /etc, /usr (so /usr/local), /var and /opt:
 * overlays whose upper layers are in the state directory. /var/www, /var/log, /var/db,
 * /var/lib/svc, /var/lib/monit, /home, /srv, /run, /tmp, /dev/shm, /root: fresh tmpfs. Anything
 * else on the machine's root filesystem: nothing, since / is made read-only in this namespace.
 */
export const LIGHT_HOST_SCRIPT = `set -eu
state=$1 name=$2 s=${HOST_STATE_MOUNT}
# Copies of the machine's mounts under /run (other sandboxes' /run/netns entries, nspawn's root
# bind) would keep those alive as long as this host: drop them before hiding /run.
for m in $(awk '$5 ~ /^\\/run\\// { print $5 }' /proc/self/mountinfo | sort -r); do
  umount -l "$m" 2>/dev/null || true
done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$s" /run/lock /run/sshd && chmod 1777 /run/lock
# From here on the state directory is reached at a fixed path, whatever its real one
# (a state directory under /tmp or /root is hidden below).
mount --bind "$state" "$s"
for tree in etc usr var opt; do
  [ -d "/$tree" ] || continue
  mkdir -p "$s/$tree-upper" "$s/$tree-work"
  mount -t overlay overlay -o "lowerdir=/$tree,upperdir=$s/$tree-upper,workdir=$s/$tree-work" "/$tree"
done
# A fresh /var/log keeps the machine's directory skeleton (owners and modes, no files), as a
# real host has /var/log/nginx and friends from its packages.
log_dirs=$(cd /var/log && find . -xdev -type d | tar --no-recursion -cf - -T - | base64 -w0)
for dir in /var/www /var/log /var/db /var/lib/svc /var/lib/monit /home /srv; do
  mkdir -p "$dir" && mount -t tmpfs -o mode=0755 tmpfs "$dir"
done
printf %s "$log_dirs" | base64 -d | tar -C /var/log -xf -
mount -t tmpfs -o mode=0700 tmpfs /root
mount -t tmpfs -o mode=1777 tmpfs /tmp
mount -t tmpfs -o mode=1777 tmpfs /dev/shm
mount -o remount,bind,ro /
hostname "$name"
printf '%s\\n' "$name" > /etc/hostname
printf '127.0.1.1\\t%s\\n' "$name" >> /etc/hosts
${LOGIN_USERS_SCRIPT}
install -m 0700 "$s/monitrc" /etc/monit/monitrc
/usr/bin/monit -I -c /etc/monit/monitrc &
/usr/sbin/sshd -D -e -f "$s/sshd_config" &
tries=0
until monit status >/dev/null 2>&1; do
  tries=$((tries + 1)); [ "$tries" -lt 100 ] || { echo "monit did not answer" >&2; exit 1; }
  sleep 0.05
done
: > "$s/ready"
set +e
# PID 1 of the namespace: wait reaps every child, orphans included, until killed.
while :; do wait; sleep 1; done
`;

const READY_TIMEOUT_MS = 20_000;

function tail(file: string): string {
  try {
    const lines = readFileSync(file, 'utf8').trim().split('\n');
    return lines.slice(-3).join(' | ');
  } catch {
    return '';
  }
}

/** Start a light host whose network exists; returns its record with every process in it. */
export async function startLightHost(
  paths: SandboxPaths,
  record: HostRecord,
  /** The sandbox key's public half, as svc derived it from the key it created. */
  clientPublicKey: string,
  /** True once `up` was interrupted: stop waiting, the caller tears the host down. */
  stopWaiting: () => boolean = () => false,
): Promise<HostRecord> {
  const dir = hostDir(paths, record.name);
  writeFileSync(join(dir, 'sshd_config'), sshdConfig(record.address));
  writeFileSync(join(dir, 'monitrc'), monitrc(), { mode: 0o600 });
  writeFileSync(join(dir, 'authorized_keys'), `${clientPublicKey.trim()}\n`, { mode: 0o600 });
  const log = join(dir, 'host.log');
  const fd = openSync(log, 'a', 0o600);
  const argv = [
    'netns',
    'exec',
    record.netns,
    'unshare',
    '--mount',
    '--uts',
    '--ipc',
    '--pid',
    '--fork',
    '--mount-proc',
    '--kill-child',
    '--propagation',
    'private',
    '--',
    'sh',
    '-c',
    LIGHT_HOST_SCRIPT,
    'svc-sandbox-host',
    dir,
    record.name,
  ];
  // detached: its own session, so a Ctrl-C meant for svc does not reach the host.
  const child = spawn('ip', argv, { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  const spawnError = new Promise<Error>((resolve) => child.once('error', resolve));
  child.unref();
  if (child.pid === undefined)
    throw new SvcError(`${record.name}: cannot start: ${await spawnError}`);
  const unshare = recordProcess(child.pid, 'unshare');
  if (!unshare) throw new SvcError(`${record.name}: the host exited at once: ${tail(log)}`);
  record = { ...record, processes: [unshare] };
  writeRecord(paths, record);

  const ready = await waitUntil(
    () => existsSync(join(dir, 'ready')) || !isAlive(unshare) || stopWaiting(),
    READY_TIMEOUT_MS,
  );
  if (stopWaiting()) throw new SvcError(`${record.name}: start interrupted`);
  if (!ready || !isAlive(unshare)) {
    throw new SvcError(
      `${record.name}: did not come up: ${tail(log) || 'no output'} (log: ${log})`,
    );
  }
  const holderPid = childrenOf(unshare.pid)[0];
  const holder = holderPid === undefined ? undefined : recordProcess(holderPid, 'holder');
  if (!holder) throw new SvcError(`${record.name}: its first process is gone (log: ${log})`);
  const daemons = childrenOf(holder.pid)
    .map((pid) => {
      const comm = readProcStat(pid)?.comm;
      return comm === 'sshd' || comm === 'monit' ? recordProcess(pid, comm) : undefined;
    })
    .filter((p) => p !== undefined);
  record = { ...record, processes: [unshare, holder, ...daemons] };
  writeRecord(paths, record);
  if (daemons.length !== 2) {
    throw new SvcError(`${record.name}: sshd or monit is not running (log: ${log})`);
  }
  return record;
}
