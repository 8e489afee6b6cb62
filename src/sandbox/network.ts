// A host's network: a namespace with a veth pair to the machine, machine side .1, host side .2,
// on the host's own /24. No forwarding or NAT is set up, so packets never leave the machine.
import { SvcError } from '../core/errors.js';
import { machineAddress, subnet, vethAlias, type Net } from './names.js';
import { run } from './proc.js';
import { conflictingRoute, parseRoutes } from './routes.js';
import type { HostRecord } from './state.js';

/** The peer's name inside the host (its own namespace, so the same name in every host). */
const HOST_INTERFACE = 'eth0';

/** Refuse, before creating anything, a /24 the machine already routes (a real network, or
 * another sandbox's host: its veth route covers the /24). */
export async function checkSubnetsFree(net: Net, numbers: readonly number[]): Promise<void> {
  const routes = parseRoutes((await run(['ip', '-4', '-j', 'route', 'show'])).stdout);
  for (const n of numbers) {
    const cidr = subnet(net, n);
    const route = conflictingRoute(routes, cidr);
    if (route) {
      throw new SvcError(
        `${cidr} is already routed on this machine (${route.dst}${route.dev ? ` dev ${route.dev}` : ''}): choose another --net`,
      );
    }
  }
}

export async function createNetwork(record: HostRecord, net: Net, n: number, hash: string) {
  const { netns, veth } = record;
  await run(['ip', 'netns', 'add', netns]);
  try {
    await run([
      'ip',
      'link',
      'add',
      veth,
      'type',
      'veth',
      'peer',
      'name',
      HOST_INTERFACE,
      'netns',
      netns,
    ]);
  } catch (error) {
    if (/File exists/.test((error as Error).message)) {
      throw new SvcError(
        `${subnet(net, n)} is already used by another sandbox (interface ${veth} exists): choose another --net`,
      );
    }
    throw error;
  }
  // Batches: one ip process per side instead of one per setting (start-up time is the budget).
  await run(['ip', '-batch', '-'], {
    input: [
      `link set dev ${veth} alias ${vethAlias(hash)}`,
      `addr add ${machineAddress(net, n)}/24 dev ${veth}`,
      `link set dev ${veth} up`,
      '',
    ].join('\n'),
  });
  await run(['ip', '-n', netns, '-batch', '-'], {
    input: [
      `addr add ${record.address}/24 dev ${HOST_INTERFACE}`,
      `link set dev ${HOST_INTERFACE} up`,
      'link set dev lo up',
      '',
    ].join('\n'),
  });
}

interface LinkInfo {
  ifname?: string;
  ifalias?: string;
}

async function links(argv: string[]): Promise<LinkInfo[]> {
  try {
    const { stdout } = await run(argv);
    const data: unknown = JSON.parse(stdout || '[]');
    return Array.isArray(data) ? (data as LinkInfo[]) : [];
  } catch {
    return [];
  }
}

export async function listNetns(): Promise<string[]> {
  const { stdout } = await run(['ip', '-j', 'netns', 'list']);
  const data: unknown = JSON.parse(stdout.trim() || '[]');
  return Array.isArray(data) ? data.map((entry: { name?: string }) => entry.name ?? '') : [];
}

/** Veths whose alias says they belong to this state directory, wherever a record went missing. */
export async function listOwnVeths(hash: string): Promise<string[]> {
  const all = await links(['ip', '-j', 'link', 'show', 'type', 'veth']);
  return all
    .filter((link) => link.ifalias === vethAlias(hash) && link.ifname)
    .map((link) => link.ifname!);
}

/** Delete the veth only if it is ours (its alias): a /24 may since belong to another sandbox. */
export async function removeVeth(veth: string, hash: string): Promise<void> {
  const [link] = await links(['ip', '-j', 'link', 'show', 'dev', veth]);
  if (link && link.ifalias === vethAlias(hash)) await run(['ip', 'link', 'del', 'dev', veth]);
}

export async function removeNetns(netns: string): Promise<void> {
  if ((await listNetns()).includes(netns)) await run(['ip', 'netns', 'del', netns]);
}
