// Ending hosts: only processes svc recorded (checked by pid, start time and boot id) that are
// also inside the host, then the kernel objects named after this state directory, then the state.
// Works from whatever a crash left: a record without inventory, an inventory without records, a
// namespace without either. The state directory is read as untrusted: nothing in it names a path,
// a namespace or a process that `down` acts on without that being checked.
import { readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import type { SandboxHost } from '../core/sandbox-inventory.js';
import {
  hostCgroup,
  hostNumber,
  inCgroup,
  netnsName,
  netnsPrefix,
  parseNet,
  vethName,
} from './names.js';
import { listNetns, listOwnVeths, removeNetns, removeVeth } from './network.js';
import {
  cgroupsOf,
  isAlive,
  livePidsInNetns,
  netnsOf,
  recordProcess,
  signal,
  waitForExit,
  waitUntil,
  type ProcessRecord,
} from './proc.js';
import {
  acquireLock,
  readInventory,
  readRecords,
  readSettings,
  removeHostDir,
  type HostRecord,
  type SandboxPaths,
  type SandboxSettings,
} from './state.js';
import { releaseRootBind, removeNspawnLeftovers, stopSystemdHost } from './systemd.js';

const EXIT_TIMEOUT_MS = 5_000;

/**
 * Whether a process is one of host N's: inside its network namespace (a light host's processes,
 * and a systemd host's container) or in its cgroup (systemd-nspawn itself). Both are named after
 * the state directory's hash and the host number, so a record naming any other process, however
 * well it matches that process's pid, start time and boot id, is not obeyed.
 */
function belongsToHost(pid: number, netnsInodeNow: number | undefined, cgroup: string): boolean {
  if (netnsInodeNow !== undefined && netnsOf(pid) === `net:[${netnsInodeNow}]`) return true;
  return inCgroup(cgroupsOf(pid), cgroup);
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // already gone
  }
}

function netnsInode(netns: string): number | undefined {
  try {
    return statSync(`/run/netns/${netns}`).ino;
  } catch {
    return undefined;
  }
}

/** The holder is PID 1 of the host's PID namespace: killing it ends everything inside. */
function stopLightHost(processes: readonly ProcessRecord[]): void {
  const holderFirst = [...processes].sort(
    (x, y) => Number(y.role === 'holder') - Number(x.role === 'holder'),
  );
  for (const p of holderFirst) signal(p, 'SIGKILL');
}

export interface HostToRemove {
  name: string;
  record?: HostRecord;
  inventory?: SandboxHost;
}

export interface TeardownResult {
  /** A process of the host that would not end: the host's directory is kept for another try. */
  problems: string[];
  /** Recorded processes that are not this host's: left alone. */
  ignored: string[];
}

function settingsVeth(settings: SandboxSettings | undefined, n: number): string | undefined {
  try {
    return settings ? vethName(parseNet(settings.net), n) : undefined;
  } catch {
    return undefined; // the sweep by link alias in downSandbox still finds it
  }
}

/**
 * Tear one host down. Every name and path comes from the state directory's hash and the host
 * number, never from the record (netns, veth, machine there are ignored): the record only says
 * which processes may be running, and each is checked to be inside the host before it is signalled.
 */
export async function teardownHost(
  paths: SandboxPaths,
  host: HostToRemove,
  settings: SandboxSettings | undefined,
): Promise<TeardownResult> {
  const n = hostNumber(host.name)!;
  const netns = netnsName(paths.hash, n);
  const veth = settingsVeth(settings, n);
  const inode = netnsInode(netns);
  const cgroup = hostCgroup(paths.hash, n);
  // The inventory lists pids without start times: the process now running under that pid.
  const claimed: ProcessRecord[] = [
    ...(host.record?.processes ?? []),
    ...(host.inventory?.pids ?? []).map((pid) => recordProcess(pid, 'inventory')),
  ].filter((p) => p !== undefined && isAlive(p)) as ProcessRecord[];
  const processes = claimed.filter((p) => belongsToHost(p.pid, inode, cgroup));
  const ignored = claimed
    .filter((p) => !processes.includes(p))
    .map(
      (p) =>
        `${host.name}: the record names pid ${p.pid} (${p.role}), which is not a process of this sandbox; left alone`,
    );
  const kind = host.record?.kind ?? host.inventory?.kind ?? 'light';
  let signalled: ProcessRecord[] = [...processes];
  if (kind === 'systemd') signalled = await stopSystemdHost(processes);
  else stopLightHost(processes);
  const alive = await waitForExit(signalled, EXIT_TIMEOUT_MS);
  // The kernel ends the rest of a host's PID namespace after its PID 1, not at the same instant
  // (also processes an interrupted `up` never recorded): wait for the namespace to empty.
  if (inode !== undefined) {
    // Anything still alive in this host's namespace was started by this sandbox (the namespace is
    // named after its state directory) but never recorded, e.g. when `up` was killed midway.
    for (const pid of livePidsInNetns(inode)) killQuietly(pid);
    await waitUntil(() => livePidsInNetns(inode).length === 0, EXIT_TIMEOUT_MS);
  }
  if (alive.length > 0) {
    // Keep the record: a later `down` can try again.
    return {
      problems: [
        `${host.name}: ${alive.map((p) => `${p.role} pid ${p.pid}`).join(', ')} did not end`,
      ],
      ignored,
    };
  }
  if (veth) await removeVeth(veth, paths.hash);
  await removeNetns(netns);
  if (kind === 'systemd') removeNspawnLeftovers(paths.hash, n);
  removeHostDir(paths, host.name);
  return { problems: [], ignored };
}

/** Every host this state directory knows of, by record and by inventory. */
export function hostsToRemove(paths: SandboxPaths): HostToRemove[] {
  const hosts = new Map<string, HostToRemove>();
  for (const { name, record } of readRecords(paths)) hosts.set(name, { name, record });
  for (const host of readInventory(paths, false)?.hosts ?? []) {
    if (hostNumber(host.name) === undefined) continue;
    hosts.set(host.name, { ...hosts.get(host.name), name: host.name, inventory: host });
  }
  return [...hosts.values()];
}

/** Files svc puts in a state directory; anything else there is left alone. */
function removeState(paths: SandboxPaths): boolean {
  for (const file of [
    paths.inventory,
    paths.knownHosts,
    paths.key,
    `${paths.key}.pub`,
    paths.settings,
  ]) {
    rmSync(file, { force: true });
  }
  for (const entry of readdirSync(paths.dir)) {
    if (/\.tmp-\d+$/.test(entry)) rmSync(join(paths.dir, entry), { force: true });
  }
  try {
    rmdirSync(paths.hosts);
  } catch {
    // absent, or holds something that is not a host
  }
  rmSync(paths.lock, { force: true });
  try {
    rmdirSync(paths.dir);
    return true;
  } catch {
    return false;
  }
}

export interface DownResult {
  removed: string[];
  /** False when the state directory held files svc did not put there (they are kept). */
  stateRemoved: boolean;
  /** One line per recorded process that was not the sandbox's, and so was left alone. */
  ignored: string[];
}

export async function downSandbox(paths: SandboxPaths): Promise<DownResult> {
  const release = acquireLock(paths);
  let released = false;
  try {
    const settings = readSettings(paths);
    const hosts = hostsToRemove(paths);
    const results = await Promise.all(hosts.map((host) => teardownHost(paths, host, settings)));
    const problems = results.flatMap((result) => result.problems);
    // A crash between creating a kernel object and recording it cannot happen (records come
    // first), but a record can be lost; these names carry this state directory's tag.
    for (const netns of await listNetns()) {
      if (netns.startsWith(netnsPrefix(paths.hash))) await removeNetns(netns);
    }
    for (const veth of await listOwnVeths(paths.hash)) await removeVeth(veth, paths.hash);
    if (problems.length > 0) throw new SvcError(problems.join('\n'));
    await releaseRootBind(paths.hash);
    const stateRemoved = removeState(paths);
    released = true;
    return {
      removed: hosts.map((host) => host.name),
      stateRemoved,
      ignored: results.flatMap((result) => result.ignored),
    };
  } finally {
    if (!released) release();
  }
}
