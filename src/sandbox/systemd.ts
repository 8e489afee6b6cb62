// A systemd host: systemd-nspawn boots the machine's own root (bind-mounted, since nspawn refuses
// --volatile=overlay on / itself) as PID 1 with a volatile overlay, joined to the host's network
// namespace. A oneshot unit, ordered before ssh and monit, configures users, keys, sshd and monit,
// so both start already configured and `up` never restarts anything.
import { spawn } from 'node:child_process';
import {
  closeSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  rmdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import {
  HOST_STATE_MOUNT,
  LOGIN_USERS_SCRIPT,
  monitrc,
  SETUP_UNIT,
  setupUnit,
  sshdDropIn,
} from './files.js';
import { hostCgroup, machineName, nspawnBindPath, ROOT_BIND_PARENT, rootBindDir } from './names.js';
import {
  childrenOf,
  execute,
  isAlive,
  readProcStat,
  recordProcess,
  run,
  signal,
  waitForExit,
  waitUntil,
  type ProcessRecord,
} from './proc.js';
import { hostDir, writeRecord, type HostRecord, type SandboxPaths } from './state.js';

/** Runs inside the container as the setup unit: $1 = the host name. */
export const SYSTEMD_HOST_SCRIPT = `set -eu
name=$1 s=${HOST_STATE_MOUNT}
printf '%s\\n' "$name" > /etc/hostname
printf '127.0.1.1\\t%s\\n' "$name" >> /etc/hosts
${LOGIN_USERS_SCRIPT}
install -m 0644 "$s/sshd.conf" /etc/ssh/sshd_config.d/svc-sandbox.conf
install -m 0700 "$s/monitrc" /etc/monit/monitrc
`;

const LEADER_TIMEOUT_MS = 20_000;
const BOOT_TIMEOUT_MS = 90_000;
const POWEROFF_TIMEOUT_MS = 20_000;

function mountPoints(): Set<string> {
  const text = readFileSync('/proc/self/mountinfo', 'utf8');
  return new Set(
    text
      .split('\n')
      .map((line) => line.split(' ')[4])
      .filter((field) => field !== undefined)
      .map((field) =>
        field.replace(/\\([0-7]{3})/g, (_, octal: string) =>
          String.fromCharCode(parseInt(octal, 8)),
        ),
      ),
  );
}

/** One bind mount of / per state directory; private, so nothing mounted later propagates into it. */
export async function ensureRootBind(hash: string): Promise<string> {
  const dir = rootBindDir(hash);
  if (mountPoints().has(dir)) return dir;
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  await run(['mount', '--bind', '/', dir]);
  await run(['mount', '--make-private', dir]);
  return dir;
}

export async function releaseRootBind(hash: string): Promise<void> {
  const dir = rootBindDir(hash);
  if (mountPoints().has(dir)) await run(['umount', dir]);
  try {
    rmdirSync(dir);
  } catch {
    // already gone
  }
  try {
    if (readdirSync(ROOT_BIND_PARENT).length === 0) rmdirSync(ROOT_BIND_PARENT);
  } catch {
    // not there, or another sandbox's bind is in it
  }
}

export interface SystemdBoot {
  record: HostRecord;
  /** "running" or "degraded". */
  state: string;
  failedUnits: string[];
}

async function inHost(leader: number, argv: string[], timeoutMs = 30_000) {
  return execute(['nsenter', '-t', String(leader), '-m', '-u', '-i', '-n', '-p', '--', ...argv], {
    timeoutMs,
  });
}

export async function startSystemdHost(
  paths: SandboxPaths,
  record: HostRecord,
  /** The sandbox key's public half, as svc derived it from the key it created. */
  clientPublicKey: string,
  root: string,
): Promise<SystemdBoot> {
  const dir = hostDir(paths, record.name);
  writeFileSync(join(dir, 'sshd.conf'), sshdDropIn(record.address));
  writeFileSync(join(dir, 'monitrc'), monitrc(), { mode: 0o600 });
  writeFileSync(join(dir, 'setup.sh'), SYSTEMD_HOST_SCRIPT);
  writeFileSync(join(dir, SETUP_UNIT), setupUnit(record.name));
  writeFileSync(join(dir, 'authorized_keys'), `${clientPublicKey.trim()}\n`, { mode: 0o600 });
  const log = join(dir, 'host.log');
  const fd = openSync(log, 'a', 0o600);
  const argv = [
    `--directory=${root}`,
    '--volatile=overlay',
    '--register=no',
    '--keep-unit',
    `--machine=${record.machine}`,
    `--hostname=${record.name}`,
    `--network-namespace-path=/run/netns/${record.netns}`,
    `--bind-ro=${nspawnBindPath(dir)}:${HOST_STATE_MOUNT}`,
    `--bind-ro=${nspawnBindPath(join(dir, SETUP_UNIT))}:/etc/systemd/system/${SETUP_UNIT}`,
    '--boot',
    '--',
    'systemd.firstboot=off',
    `systemd.hostname=${record.name}`,
    `systemd.wants=${SETUP_UNIT}`,
    'systemd.wants=ssh.service',
    'systemd.wants=monit.service',
  ];
  // Its own cgroup first: nspawn puts the container in "payload" under the cgroup it runs in, so
  // two containers started from one cgroup would share one systemd tree, and one container's
  // systemd would kill the other's sshd when it (re)started ssh.service.
  const child = spawn(
    'sh',
    ['-c', `${JOIN_OWN_CGROUP}\nexec systemd-nspawn "$@"`, 'svc-nspawn', ...argv],
    {
      detached: true,
      stdio: ['ignore', fd, fd],
      env: { ...process.env, SVC_CGROUP: hostCgroup(paths.hash, record.n) },
    },
  );
  closeSync(fd);
  child.unref();
  if (child.pid === undefined) throw new SvcError(`${record.name}: systemd-nspawn did not start`);
  const nspawn = recordProcess(child.pid, 'nspawn');
  if (!nspawn) throw new SvcError(`${record.name}: systemd-nspawn exited at once (log: ${log})`);
  record = { ...record, processes: [nspawn] };
  writeRecord(paths, record);

  let leader: ProcessRecord | undefined;
  await waitUntil(() => {
    leader = findLeader(nspawn);
    return leader !== undefined || !isAlive(nspawn);
  }, LEADER_TIMEOUT_MS);
  if (!leader) throw new SvcError(`${record.name}: systemd did not start (log: ${log})`);
  record = { ...record, processes: [nspawn, leader] };
  writeRecord(paths, record);

  // systemctl answers only once systemd has set up its private socket: ask until it says more
  // than "starting" (no --wait: it would fail at once while the socket is missing).
  let state = '';
  await waitUntil(
    async () => {
      state = (await inHost(leader!.pid, ['systemctl', 'is-system-running'])).stdout.trim();
      return (
        !['', 'offline', 'unknown', 'initializing', 'starting'].includes(state) || !isAlive(nspawn)
      );
    },
    BOOT_TIMEOUT_MS,
    200,
  );
  if (state !== 'running' && state !== 'degraded') {
    throw new SvcError(
      `${record.name}: systemd did not finish booting (${state || 'no answer'}; log: ${log})`,
    );
  }
  const units = ['svc-sandbox-setup.service', 'ssh.service', 'monit.service'];
  const active = (await inHost(leader.pid, ['systemctl', 'is-active', ...units])).stdout
    .trim()
    .split('\n');
  const inactive = units.filter((_, i) => active[i] !== 'active');
  if (inactive.length > 0) {
    throw new SvcError(`${record.name}: not active: ${inactive.join(', ')} (log: ${log})`);
  }
  const failed =
    state === 'degraded'
      ? await inHost(leader.pid, ['systemctl', '--failed', '--plain', '--no-legend'])
      : undefined;
  const failedUnits = (failed?.stdout ?? '')
    .split('\n')
    .map((line) => line.trim().split(/\s+/)[0] ?? '')
    .filter(Boolean);
  return { record, state, failedUnits };
}

/** The container's PID 1 is systemd-nspawn's child once it has exec'd systemd. */
function findLeader(nspawn: ProcessRecord): ProcessRecord | undefined {
  if (!isAlive(nspawn)) return undefined;
  const pid = childrenOf(nspawn.pid).find((child) => readProcStat(child)?.comm === 'systemd');
  return pid === undefined ? undefined : recordProcess(pid, 'leader');
}

/** nspawn leaves its (empty) propagation directory when /run is not a tmpfs, as on this machine kind. */
export function removeNspawnLeftovers(hash: string, n: number): void {
  // Both names derived here, never read from a record: a record is the state directory's word.
  rmSync(`/run/systemd/nspawn/propagate/${machineName(hash, n)}`, { recursive: true, force: true });
  // The container's cgroups, deepest first (rmdir is how a cgroup is removed; its files are not).
  for (const hierarchy of CGROUP_HIERARCHIES) removeCgroup(join(hierarchy, hostCgroup(hash, n)));
}

/** The cgroup hierarchies nspawn uses on this kind of machine (hybrid: name=systemd + unified). */
const CGROUP_HIERARCHIES = ['/sys/fs/cgroup/systemd', '/sys/fs/cgroup/unified', '/sys/fs/cgroup'];

/** sh: move this shell into cgroup $SVC_CGROUP of every hierarchy that takes processes. */
const JOIN_OWN_CGROUP = String.raw`for h in /sys/fs/cgroup/systemd /sys/fs/cgroup/unified /sys/fs/cgroup; do
  [ -e "$h/cgroup.procs" ] || continue
  mkdir -p "$h/$SVC_CGROUP" && echo $$ > "$h/$SVC_CGROUP/cgroup.procs" || exit 1
done
unset SVC_CGROUP`;

function removeCgroup(dir: string): void {
  let entries: string[];
  try {
    entries = readdirSync(dir, { withFileTypes: true })
      .filter((entry) => entry.isDirectory())
      .map((entry) => entry.name);
  } catch {
    return;
  }
  for (const entry of entries) removeCgroup(join(dir, entry));
  try {
    rmdirSync(dir);
  } catch {
    // still busy: a later down tries again
  }
}

/**
 * TERM to systemd-nspawn asks the container to power off cleanly; a container that does not
 * finish in time is killed (its PID 1 first: the kernel then ends everything inside). Returns
 * every process it signalled, for the caller to wait on.
 */
export async function stopSystemdHost(
  processes: readonly ProcessRecord[],
): Promise<ProcessRecord[]> {
  const nspawn = processes.find((p) => p.role === 'nspawn');
  const leaders = processes.filter((p) => p.role === 'leader');
  // svc may have died before it recorded the leader: it is still nspawn's child.
  const found = nspawn && leaders.length === 0 ? findLeader(nspawn) : undefined;
  const all = [...processes, ...(found ? [found] : [])];
  if (nspawn && isAlive(nspawn)) {
    signal(nspawn, 'SIGTERM');
    await waitForExit(all, POWEROFF_TIMEOUT_MS);
  }
  for (const p of [...leaders, ...(found ? [found] : []), ...all]) signal(p, 'SIGKILL');
  return all;
}
