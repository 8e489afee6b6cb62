// TARGET -> the hosts it names. A TARGET is a comma-separated list; each item is a group or host of
// the inventory (svc.yaml `hosts:`, or the sandbox's), or `[user@]host[:port]`, which ~/.ssh/config
// may turn into another address, user, port, identity or jump host. An explicit user@ or :port
// applies to groups and inventory hosts as well. Precedence, highest first: the TARGET's user@ and
// :port, the inventory's fields, ~/.ssh/config, the defaults (port 22, the local user).
import { SvcError } from './errors.js';
import { closest } from './suggest.js';
import type { Manifest } from './manifest.js';
import { SANDBOX_GROUP, type SandboxHost, type SandboxInventory } from './sandbox-inventory.js';

export type HostVars = Record<string, string | number | boolean>;

/**
 * How a host's key is checked, from ssh_config: the known_hosts files (UserKnownHostsFile, then
 * GlobalKnownHostsFile, expanded; the first user file is the one written), HostKeyAlias,
 * HashKnownHosts, RevokedHostKeys and HostKeyAlgorithms.
 */
export interface HostKeyPolicy {
  userFiles: string[];
  globalFiles: string[];
  alias?: string;
  hash: boolean;
  revokedFile?: string;
  algorithms?: string;
  /**
   * A StrictHostKeyChecking below yes (no, off, false, accept-new) from ssh_config, and the
   * file:line that set it: svc does not take it, and says so when it refuses a key ssh would
   * have taken.
   */
  notStrict?: { value: string; where: string };
  /** CheckHostIP yes: the key recorded for the address connected to must not be another one. */
  checkHostIp?: boolean;
}

/** What ~/.ssh/config says about a host: HostName (or the host itself), and what it sets. */
export interface SshConfigEntry {
  hostName: string;
  user?: string;
  port?: number;
  /** The identity files ssh would try: the configured ones, else OpenSSH's defaults. */
  identityFiles: string[];
  /** Whether identityFiles came from the config (not the defaults). */
  identityFilesConfigured?: boolean;
  proxyJump?: string;
  identitiesOnly?: boolean;
  /** IdentityAgent: a socket path, or 'none'. */
  identityAgent?: string;
  hostKeys?: HostKeyPolicy;
}

/** A user and port given explicitly (like ssh -l and -p): they win, and fill %r and %p. */
export interface SshConfigGiven {
  user?: string;
  port?: number;
}

export type SshConfigLookup = (host: string, given?: SshConfigGiven) => SshConfigEntry;

export interface HostSpec {
  /** The inventory or sandbox name, or the host as written in the TARGET. */
  name: string;
  group?: string;
  /** Where to connect: after ~/.ssh/config's HostName. */
  address: string;
  port: number;
  user: string;
  identityFiles: string[];
  /** identityFiles are OpenSSH's defaults (~/.ssh/id_rsa, ...): the config names none. */
  defaultIdentities?: true;
  proxyJump?: string;
  /** Only the identity files (and agent keys matching them) are offered. */
  identitiesOnly?: boolean;
  identityAgent?: string;
  hostKeys?: HostKeyPolicy;
  vars: HostVars;
  source: 'inventory' | 'sandbox' | 'ssh-config' | 'literal';
}

export type Inventory = NonNullable<Manifest['hosts']>;

export interface TargetContext {
  inventory?: Manifest['hosts'];
  sandbox?: SandboxInventory;
  sshConfig: SshConfigLookup;
  /** The local user's name: ssh's default login. */
  defaultUser: string;
}

/** One item of a TARGET, split into its parts. `bracketed` hosts are never inventory names. */
export interface TargetItem {
  user?: string;
  host: string;
  port?: number;
  bracketed: boolean;
}

const USER = /^[A-Za-z0-9_][A-Za-z0-9._-]*\$?$/;
const HOST = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;
const SANDBOX_HOST = /^sbx-\d+$/;

function isIpv6(text: string): boolean {
  // Stryker disable next-line StringLiteral: equivalent; without the ':' test a colon-free hex word
  // (abc) reaches the URL parser, which refuses it as an IPv6 address all the same.
  if (!text.includes(':') || !/^[0-9A-Fa-f:.]+$/.test(text)) return false;
  try {
    new URL(`ssh://[${text}]/`);
    return true;
  } catch {
    return false;
  }
}

/** Splits `[user@]host[:port]` (IPv6 as `[::1]:2222`, or bare `::1` without a port). */
export function parseTargetItem(item: string): TargetItem {
  const fail = (why: string): never => {
    throw new SvcError(`target "${item}": ${why}`);
  };
  const at = item.lastIndexOf('@');
  if (item.indexOf('@') !== at) fail('more than one @');
  const user = at >= 0 ? item.slice(0, at) : undefined;
  const rest = item.slice(at + 1);
  if (user === '') fail('no user before the @');
  if (user !== undefined && !USER.test(user)) fail(`"${user}" is not a user name`);
  if (rest === '') fail(at >= 0 ? 'no host after the @' : 'no host');

  let host: string;
  let portText: string | undefined;
  let bracketed = false;
  if (rest.startsWith('[')) {
    const close = rest.indexOf(']');
    if (close < 0) fail('[ without ]: write an IPv6 address as [::1] or [::1]:2222');
    host = rest.slice(1, close);
    const after = rest.slice(close + 1);
    if (after !== '' && !after.startsWith(':')) fail(`unexpected "${after}" after ]`);
    portText = after === '' ? undefined : after.slice(1);
    bracketed = true;
  } else if (isIpv6(rest)) {
    host = rest; // bare IPv6: every colon is the address's
  } else {
    const colon = rest.indexOf(':');
    host = colon < 0 ? rest : rest.slice(0, colon);
    portText = colon < 0 ? undefined : rest.slice(colon + 1);
  }
  if (host === '') fail('no host');
  if (!HOST.test(host) && !isIpv6(host)) fail(`"${host}" is not a host name or address`);
  let port: number | undefined;
  if (portText !== undefined) {
    port = /^\d{1,5}$/.test(portText) ? Number(portText) : 0;
    if (port < 1 || port > 65535) {
      fail(`port must be an integer between 1 and 65535 (got "${portText}")`);
    }
  }
  return {
    ...(user !== undefined ? { user } : {}),
    host,
    ...(port !== undefined ? { port } : {}),
    bracketed,
  };
}

function given(user: string | undefined, port: number | undefined): SshConfigGiven {
  return { ...(user !== undefined ? { user } : {}), ...(port !== undefined ? { port } : {}) };
}

/** The jump host, as an optional field that is absent (not undefined) when there is none. */
function jump(proxyJump: string | undefined): Pick<HostSpec, 'proxyJump'> {
  return proxyJump === undefined ? {} : { proxyJump };
}

/** IdentitiesOnly, IdentityAgent and the host key policy, each only when the config has it. */
function sshSettings(
  config: SshConfigEntry,
): Pick<HostSpec, 'identitiesOnly' | 'identityAgent' | 'hostKeys' | 'defaultIdentities'> {
  return {
    ...(config.identityFilesConfigured === false ? { defaultIdentities: true as const } : {}),
    ...(config.identitiesOnly !== undefined ? { identitiesOnly: config.identitiesOnly } : {}),
    ...(config.identityAgent !== undefined ? { identityAgent: config.identityAgent } : {}),
    ...(config.hostKeys !== undefined ? { hostKeys: config.hostKeys } : {}),
  };
}

/**
 * Where and as whom ssh_config and the flags say to connect: a flag first, then ssh_config, then
 * port 22 and the default user.
 */
function fromSshConfig(
  config: SshConfigEntry,
  explicit: SshConfigGiven,
  defaultUser: string,
): Omit<HostSpec, 'name' | 'group' | 'vars' | 'source'> {
  return {
    address: config.hostName,
    port: explicit.port ?? config.port ?? 22,
    user: explicit.user ?? config.user ?? defaultUser,
    identityFiles: config.identityFiles,
    ...jump(config.proxyJump),
    ...sshSettings(config),
  };
}

function inventoryHosts(
  item: TargetItem,
  groupName: string,
  hostNames: readonly string[],
  ctx: TargetContext,
): HostSpec[] {
  const group = ctx.inventory![groupName]!;
  return hostNames.map((name) => {
    const host = group.hosts[name]!;
    const explicit = given(item.user ?? host.user, item.port ?? host.port);
    const config = ctx.sshConfig(host.address, explicit);
    return {
      name,
      group: groupName,
      ...fromSshConfig(config, explicit, ctx.defaultUser),
      vars: { ...group.vars, ...host.vars },
      source: 'inventory',
    };
  });
}

function sandboxHost(item: TargetItem, host: SandboxHost): HostSpec {
  return {
    name: host.name,
    group: SANDBOX_GROUP,
    address: host.address,
    port: item.port ?? host.port,
    user: item.user ?? host.user,
    identityFiles: [host.keyFile],
    // Only the sandbox's key: an agent full of keys would use up sshd's MaxAuthTries first.
    identitiesOnly: true,
    vars: {},
    source: 'sandbox',
  };
}

function literalHost(item: TargetItem, ctx: TargetContext): HostSpec {
  const explicit = given(item.user, item.port);
  const config = ctx.sshConfig(item.host, explicit);
  const configured =
    config.hostName !== item.host.toLowerCase() ||
    config.user !== undefined ||
    config.port !== undefined ||
    (config.identityFilesConfigured ?? config.identityFiles.length > 0) ||
    config.proxyJump !== undefined;
  return {
    name: item.host,
    ...fromSshConfig(config, explicit, ctx.defaultUser),
    vars: {},
    source: configured ? 'ssh-config' : 'literal',
  };
}

/** The inventory group holding a host name (names are unique across groups: the schema says so). */
function groupOfHost(inventory: Inventory | undefined, name: string): string | undefined {
  if (!inventory) return undefined;
  return Object.keys(inventory).find((group) => Object.hasOwn(inventory[group]!.hosts, name));
}

function resolveItem(itemText: string, ctx: TargetContext): HostSpec[] {
  const item = parseTargetItem(itemText);
  if (item.bracketed) return [literalHost(item, ctx)];
  const { inventory, sandbox } = ctx;
  const name = item.host;
  if (inventory && Object.hasOwn(inventory, name)) {
    const hostNames = Object.keys(inventory[name]!.hosts);
    if (hostNames.length === 0)
      throw new SvcError(`target "${itemText}": group ${name} has no hosts`);
    return inventoryHosts(item, name, hostNames, ctx);
  }
  if (name === SANDBOX_GROUP) {
    if (!sandbox || sandbox.hosts.length === 0) {
      throw new SvcError(
        `target "${itemText}": the sandbox has no hosts (svc sandbox up starts them)`,
      );
    }
    return sandbox.hosts.map((host) => sandboxHost(item, host));
  }
  const group = groupOfHost(inventory, name);
  if (group !== undefined) return inventoryHosts(item, group, [name], ctx);
  const sandboxed = sandbox?.hosts.find((host) => host.name === name);
  if (sandboxed) return [sandboxHost(item, sandboxed)];
  if (SANDBOX_HOST.test(name)) {
    const names = sandbox?.hosts.map((host) => host.name).join(', ');
    throw new SvcError(
      `target "${itemText}": no sandbox host ${name} (${names ? `the sandbox has ${names}` : 'the sandbox has no hosts'})`,
    );
  }
  return [literalHost(item, ctx)];
}

/**
 * The hosts a TARGET names, in order, each once: a host reached twice (`web,web1`) keeps its first
 * appearance. Throws SvcError naming the target when an item is not a usable target.
 */
export function resolveTarget(target: string, ctx: TargetContext): HostSpec[] {
  const items = target.split(',').map((item) => item.trim());
  if (target.trim() === '') {
    throw new SvcError(
      'empty target: name a group or host of the inventory, or [user@]host[:port]',
    );
  }
  if (items.some((item) => item === ''))
    throw new SvcError(`target "${target}": empty name between commas`);
  const seen = new Set<string>();
  const hosts: HostSpec[] = [];
  for (const item of items) {
    for (const spec of resolveItem(item, ctx)) {
      const key = `${spec.user}@${spec.address}:${spec.port}`;
      if (seen.has(key)) continue;
      seen.add(key);
      hosts.push(spec);
    }
  }
  return hosts;
}

/** `user@address:port`, with an IPv6 address in brackets. */
export function hostLogin(spec: Pick<HostSpec, 'user' | 'address' | 'port'>): string {
  const address = spec.address.includes(':') ? `[${spec.address}]` : spec.address;
  return `${spec.user}@${address}:${spec.port}`;
}

/**
 * A host taken as written that is a bare word (no dot, no address): `webservers`. Such a word is
 * more often a group name svc does not know than a host, so the caller checks that it resolves.
 */
export function isBareWord(spec: HostSpec): boolean {
  return (
    spec.source === 'literal' && /^[A-Za-z0-9_-]+$/.test(spec.name) && !/^\d+$/.test(spec.name)
  );
}

/** What a bare word that is no group, alias or resolvable name is told, with what there is. */
export function unknownWordMessage(word: string, ctx: TargetContext): string {
  const groups = [
    ...Object.keys(ctx.inventory ?? {}),
    ...(ctx.sandbox && ctx.sandbox.hosts.length > 0 ? [SANDBOX_GROUP] : []),
  ];
  const meant = closest(word, groups);
  const known =
    meant !== undefined
      ? `did you mean ${meant}?`
      : groups.length > 0
        ? `the groups are ${groups.join(', ')}`
        : 'svc.yaml has no hosts: section';
  return `target "${word}": not an inventory group, an ~/.ssh/config alias or a host name that resolves (${known})`;
}
