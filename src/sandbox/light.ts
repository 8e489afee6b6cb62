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
 * What a host's root may do: the capabilities root keeps on an ordinary container (Docker's
 * default set, without MKNOD, with SYS_PTRACE: root reads /proc/PID/cwd of a service user's
 * process, as on a real host). Not CAP_SYS_ADMIN (mount, umount, setns: undo the read-only mounts
 * below), SYS_MODULE, SYS_RAWIO, DAC_READ_SEARCH (open_by_handle_at: any file of a filesystem it
 * can see), SYS_TIME, MKNOD (a block device of the machine's disk), and the rest. sshd and monit
 * start with only these in their bounding set, so nothing they start (a deploy's `sudo`, an
 * install step, a service) can ever gain another; and the holder itself drops to them once the
 * host is up, so no process in the host has more, and ptrace gains nothing.
 */
export const HOST_CAPABILITIES = [
  'chown',
  'dac_override',
  'fowner',
  'fsetid',
  'kill',
  'setgid',
  'setuid',
  'setpcap',
  'setfcap',
  'net_bind_service',
  'net_raw',
  'sys_chroot',
  'sys_ptrace',
  'audit_write',
] as const;

/**
 * `svc sandbox up --ebpf`: also load eBPF tracing programs (bpftrace, for svc trace). With them
 * root can read any kernel memory, so the host is no longer walled off from the machine: only for
 * testing the eBPF path, on a machine where you would run bpftrace anyway.
 */
export const EBPF_CAPABILITIES = ['bpf', 'perfmon'] as const;

/**
 * Runs as the holder, inside the new namespaces: $1 = the host's state directory on the machine,
 * $2 = the host name, $3 = more capabilities (`,+bpf,+perfmon` or empty). Values arrive only as
 * positional parameters.
 *
 * What may a deploy write, and where does it land? /etc, /usr (so /usr/local), /var and /opt:
 * overlays whose upper layers are in the state directory. /var/www, /var/log, /var/db,
 * /var/lib/svc, /var/lib/monit, /home, /srv, /run, /tmp, /dev/shm, /root: fresh tmpfs. Anything
 * else on the machine: nothing. Every mount the host inherits from the machine is made read-only
 * first, /dev is a private one with only the harmless character devices, /proc/sys is read-only,
 * and since the host's root has no CAP_SYS_ADMIN (HOST_CAPABILITIES) it cannot undo any of it.
 * The host's own state directory is read-only to it once it is up, so it cannot rewrite its record.
 */
export const LIGHT_HOST_SCRIPT = `set -eu
state=$1 name=$2 more_caps=$3 s=${HOST_STATE_MOUNT}
# Copies of the machine's mounts under /run (other sandboxes' /run/netns entries, nspawn's root
# bind) would keep those alive as long as this host: drop them before hiding /run.
for m in $(awk '$5 ~ /^\\/run\\// { print $5 }' /proc/self/mountinfo | sort -r); do
  umount -l "$m" 2>/dev/null || true
done
# Mount points on the machine's own root, made (as before) while it is still writable here.
for dir in /home /srv /root /tmp; do [ -d "$dir" ] || mkdir -p "$dir"; done
# Every mount inherited from the machine read-only, per mount (remount,bind: this namespace's
# copy only, never the filesystem itself). /proc is the host's own; the mounts made below are new,
# so writable where meant to be. A mount that cannot be made read-only stops the host.
for m in $(awk '$5 != "/proc" { print $5 }' /proc/self/mountinfo); do
  mount -o remount,bind,ro "$(printf '%b' "$m")"
done
mount -t tmpfs -o mode=0755 tmpfs /run
mkdir -p "$s" /run/lock /run/sshd && chmod 1777 /run/lock
# From here on the state directory is reached at a fixed path, whatever its real one
# (a state directory under /tmp or /root is hidden below).
mount --bind "$state" "$s"
mount -o remount,bind,rw "$s"
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
# A private /dev: no disk, no machine console, its own ptys.
mount -t tmpfs -o mode=0755,nosuid tmpfs /dev
mknod -m 0666 /dev/null c 1 3
mknod -m 0666 /dev/zero c 1 5
mknod -m 0666 /dev/full c 1 7
mknod -m 0666 /dev/random c 1 8
mknod -m 0666 /dev/urandom c 1 9
mknod -m 0666 /dev/tty c 5 0
mkdir /dev/pts /dev/shm
mount -t devpts -o newinstance,ptmxmode=0666,mode=0620,gid=$(getent group tty | cut -d: -f3) devpts /dev/pts
ln -s pts/ptmx /dev/ptmx
ln -s /proc/self/fd /dev/fd
ln -s fd/0 /dev/stdin && ln -s fd/1 /dev/stdout && ln -s fd/2 /dev/stderr
mount -t tmpfs -o mode=1777,nosuid,nodev tmpfs /dev/shm
for p in /proc/sys /proc/sysrq-trigger /proc/irq /proc/bus /proc/fs; do
  [ -e "$p" ] || continue
  mount --bind "$p" "$p" && mount -o remount,bind,ro "$p"
done
# --ebpf: bpftrace finds the kernel's tracepoints in tracefs, which the fresh /sys that
# \`ip netns exec\` mounts lacks. Read-only: reading the event formats is all it needs.
[ -z "$more_caps" ] || mount -t tracefs -o ro tracefs /sys/kernel/tracing
# pam_loginuid sets a session's audit login uid, which needs CAP_AUDIT_CONTROL (the machine's
# audit settings) once one is set, as when svc runs from a login session: the host's root does not
# get it, so the module is optional here, as in most containers.
sed -i 's/^session[[:space:]]*required[[:space:]]*pam_loginuid\\.so/session optional pam_loginuid.so/' /etc/pam.d/sshd
hostname "$name"
printf '%s\\n' "$name" > /etc/hostname
printf '127.0.1.1\\t%s\\n' "$name" >> /etc/hosts
${LOGIN_USERS_SCRIPT}
install -m 0700 "$s/monitrc" /etc/monit/monitrc
caps=-all${HOST_CAPABILITIES.map((cap) => `,+${cap}`).join('')}$more_caps
setpriv --bounding-set "$caps" --inh-caps -all -- /usr/bin/monit -I -c /etc/monit/monitrc &
setpriv --bounding-set "$caps" --inh-caps -all -- /usr/sbin/sshd -D -e -f "$s/sshd_config" &
tries=0
until monit status >/dev/null 2>&1; do
  tries=$((tries + 1)); [ "$tries" -lt 100 ] || { echo "monit did not answer" >&2; exit 1; }
  sleep 0.05
done
: > "$s/ready"
mount -o remount,bind,ro "$s"
# PID 1 of the namespace, now with no more capabilities than the rest of the host: it reaps every
# child, orphans included (each \`sleep\` ends in a wait for any child), until killed.
exec setpriv --bounding-set "$caps" --inh-caps -all -- sh -c 'while :; do wait; sleep 1; done'
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
  /** `--ebpf`: EBPF_CAPABILITIES too. */
  ebpf = false,
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
    ebpf ? EBPF_CAPABILITIES.map((cap) => `,+${cap}`).join('') : '',
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
  const findDaemons = () =>
    childrenOf(holder.pid)
      .map((pid) => {
        const comm = readProcStat(pid)?.comm;
        return comm === 'sshd' || comm === 'monit' ? recordProcess(pid, comm) : undefined;
      })
      .filter((p) => p !== undefined);
  // Each is started through setpriv, which execs it: wait (briefly) until both have.
  await waitUntil(() => findDaemons().length === 2, 2_000, 20);
  const daemons = findDaemons();
  record = { ...record, processes: [unshare, holder, ...daemons] };
  writeRecord(paths, record);
  if (daemons.length !== 2) {
    throw new SvcError(`${record.name}: sshd or monit is not running (log: ${log})`);
  }
  return record;
}
