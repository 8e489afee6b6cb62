// Environments: which values and which secrets file a host is deployed with. The environment of a
// host is the inventory group the TARGET reached it through:
//   - a group name (`svc deploy production`): every host of it is deployed as that group;
//   - an inventory host name (`svc deploy web1`): as the one group listing it (host names are
//     unique across groups, the schema says so);
//   - anything else (an address, an ~/.ssh/config alias, the sandbox): as `default`, svc.yaml's
//     env: alone and .svc/secrets/default.
// Three ways one machine could get two environments are refused in one line, when the project
// uses environments at all (secrets:, or a group with env:): one address:port listed under two
// groups (whatever the TARGET: each deploy would rewrite the other's env file), a TARGET reaching
// the same address:port through two groups, and an address given directly that the inventory
// lists.
import { DEFAULT_ENVIRONMENT } from './environment-name.js';
import { SvcError } from './errors.js';
import type { Manifest } from './manifest.js';
import { SANDBOX_GROUP } from './sandbox-inventory.js';
import { resolveTarget, type HostSpec, type TargetContext } from './targets.js';

export { DEFAULT_ENVIRONMENT };

export function environmentOf(spec: Pick<HostSpec, 'group' | 'source'>): string {
  return spec.source === 'inventory' && spec.group !== undefined && spec.group !== SANDBOX_GROUP
    ? spec.group
    : DEFAULT_ENVIRONMENT;
}

/** svc.yaml's env: with the group's env: over it. */
export function environmentValues(manifest: Manifest, environment: string): Record<string, string> {
  const group = environment === DEFAULT_ENVIRONMENT ? undefined : manifest.hosts?.[environment];
  return { ...manifest.env, ...(group?.env ?? {}) };
}

/** Whether which group a host is deployed as can change what it gets. */
export function usesEnvironments(manifest: Manifest): boolean {
  return (
    (manifest.secrets ?? []).length > 0 ||
    Object.values(manifest.hosts ?? {}).some((group) => group.env !== undefined)
  );
}

const endpoint = (spec: Pick<HostSpec, 'address' | 'port'>) =>
  `${spec.address.toLowerCase()}:${spec.port}`;

/**
 * Refuses a TARGET that would deploy one machine in an environment other than its group's, or in
 * two: one line naming the target, the machine and the groups. `hosts` is resolveTarget's result.
 */
export function checkEnvironments(
  target: string,
  manifest: Manifest,
  ctx: TargetContext,
  hosts: readonly HostSpec[],
): void {
  if (!usesEnvironments(manifest)) return;
  const inventory = manifest.hosts ?? {};
  // Every inventory host, where it connects: the machines whose environment is their group's.
  const listed = new Map<string, { name: string; group: string }[]>();
  for (const group of Object.keys(inventory)) {
    if (Object.keys(inventory[group]!.hosts).length === 0) continue;
    for (const spec of resolveTarget(group, ctx)) {
      const at = endpoint(spec);
      listed.set(at, [...(listed.get(at) ?? []), { name: spec.name, group }]);
    }
  }
  // One machine in two groups would get each group's env file in turn, whichever was deployed
  // last: refused whatever the TARGET. Machines are compared where they connect, after
  // ~/.ssh/config (HostName, Port: what `ssh -G` says), so two aliases of one machine are one.
  for (const [at, entries] of listed) {
    const other = entries.find((entry) => entry.group !== entries[0]!.group);
    if (other !== undefined) {
      const first = entries[0]!;
      throw new SvcError(
        `svc.yaml: hosts: ${first.name} (group ${first.group}) and ${other.name} (group ${other.group}) are one machine, ${at}; it would get ${first.group}'s and ${other.group}'s environment in turn: list it in one group only`,
      );
    }
  }
  // Each item on its own: resolveTarget keeps a machine's first appearance only.
  const reached = new Map<string, Set<string>>();
  for (const item of target.split(',').map((text) => text.trim())) {
    for (const spec of resolveTarget(item, ctx)) {
      const at = endpoint(spec);
      reached.set(at, (reached.get(at) ?? new Set()).add(environmentOf(spec)));
    }
  }
  for (const spec of hosts) {
    const at = endpoint(spec);
    const entry = listed.get(at)?.[0];
    if (spec.source !== 'inventory' && entry !== undefined) {
      throw new SvcError(
        `target "${target}": ${spec.name} is ${entry.name} of group ${entry.group} in svc.yaml; deploy it by that name so it gets ${entry.group}'s environment`,
      );
    }
    const environments = [...(reached.get(at) ?? [])];
    if (environments.length > 1)
      throw new SvcError(
        `target "${target}": ${at} is reached as ${environments.join(' and ')}; a host is deployed as one environment at a time`,
      );
  }
}
