// `svc sandbox list`: the inventory, each host marked alive or not. Reads only; needs no root.
import type { SandboxHost } from '../core/sandbox-inventory.js';
import { isAlive, readProcStat } from './proc.js';
import { openStateDir, readInventory, readRecords } from './state.js';

export interface ListedHost extends SandboxHost {
  knownHostsFile: string;
  /** Every recorded process of the host is running. */
  alive: boolean;
}

export interface SandboxListing {
  stateDir: string;
  hosts: ListedHost[];
  /** Hosts with a record but not in inventory.json: a crashed or running `up`. */
  unlisted: string[];
}

/** The inventory has pids only; a pid counts while it is a live, non-zombie process. */
function running(pid: number): boolean {
  const stat = readProcStat(pid);
  return stat !== undefined && stat.state !== 'Z' && stat.state !== 'X';
}

export function listSandbox(stateDir: string): SandboxListing {
  const paths = openStateDir(stateDir, false);
  if (!paths) return { stateDir, hosts: [], unlisted: [] };
  const inventory = readInventory(paths, true);
  const records = new Map(readRecords(paths).map((entry) => [entry.name, entry.record]));
  const hosts = (inventory?.hosts ?? []).map((host) => {
    const record = records.get(host.name);
    const alive = record
      ? record.processes.length > 0 && record.processes.every(isAlive)
      : host.pids.every(running);
    return { ...host, knownHostsFile: inventory!.knownHostsFile, alive };
  });
  const listed = new Set(hosts.map((host) => host.name));
  return {
    stateDir: paths.dir,
    hosts,
    unlisted: [...records.keys()].filter((name) => !listed.has(name)),
  };
}
