// Ending hosts: only processes svc recorded (checked by pid AND start time), then the kernel
// objects named after this state directory, then the state. Works from whatever a crash left:
// a record without inventory, an inventory without records, a namespace without either.
import { readdirSync, rmdirSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { SvcError } from '../core/errors.js';
import type { SandboxHost } from '../core/sandbox-inventory.js';
import { hostNumber, netnsName, netnsPrefix, parseNet, vethName } from './names.js';
import { listNetns, listOwnVeths, removeNetns, removeVeth } from './network.js';
import {
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
  hostDir,
  readInventory,
  readRecords,
  readSettings,
  type HostRecord,
  type SandboxPaths,
  type SandboxSettings,
} from './state.js';
import { releaseRootBind, removeNspawnLeftovers, stopSystemdHost } from './systemd.js';

const EXIT_TIMEOUT_MS = 5_000;

/**
 * An inventory lists pids without start times. Such a pid is taken as ours only while the process
 * is still inside the host's network namespace: a recycled pid would not be.
 */
function verifiedByNetns(pids: readonly number[], netns: string): ProcessRecord[] {
  const inode = netnsInode(netns);
  if (inode === undefined) return [];
  return pids
    .filter((pid) => netnsOf(pid) === `net:[${inode}]`)
    .map((pid) => recordProcess(pid, 'inventory'))
    .filter((p) => p !== undefined);
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

/** Tear one host down; returns the problems left (a process that would not end). */
export async function teardownHost(
  paths: SandboxPaths,
  host: HostToRemove,
  settings: SandboxSettings | undefined,
): Promise<string[]> {
  const n = hostNumber(host.name)!;
  const netns = host.record?.netns ?? host.inventory?.netns ?? netnsName(paths.hash, n);
  const veth = host.record?.veth ?? (settings ? vethName(parseNet(settings.net), n) : undefined);
  const processes = host.record
    ? host.record.processes
    : verifiedByNetns(host.inventory?.pids ?? [], netns);
  const kind = host.record?.kind ?? host.inventory?.kind ?? 'light';
  let signalled: ProcessRecord[] = [...processes];
  const inode = netnsInode(netns);
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
    return [`${host.name}: ${alive.map((p) => `${p.role} pid ${p.pid}`).join(', ')} did not end`];
  }
  if (veth) await removeVeth(veth, paths.hash);
  await removeNetns(netns);
  if (host.record?.machine) removeNspawnLeftovers(host.record.machine);
  rmSync(hostDir(paths, host.name), { recursive: true, force: true });
  return [];
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
}

export async function downSandbox(paths: SandboxPaths): Promise<DownResult> {
  const release = acquireLock(paths);
  let released = false;
  try {
    const settings = readSettings(paths);
    const hosts = hostsToRemove(paths);
    const problems = (
      await Promise.all(hosts.map((host) => teardownHost(paths, host, settings)))
    ).flat();
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
    return { removed: hosts.map((host) => host.name), stateRemoved };
  } finally {
    if (!released) release();
  }
}
