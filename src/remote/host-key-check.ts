// Host-key checking for one endpoint, as OpenSSH checks it: the entries of the endpoint's
// known_hosts files (core/known-hosts.ts decides), the exact algorithm list to offer
// (core/host-key-algorithms.ts orders it), and accept-new's write to the first
// UserKnownHostsFile, with the name hashed under HashKnownHosts.
import { randomBytes } from 'node:crypto';
import { homedir } from 'node:os';
import type { ServerHostKeyAlgorithm } from 'ssh2';
import { SvcError } from '../core/errors.js';
import { orderHostKeyAlgorithms, SSH2_HOST_KEY_ALGORITHMS } from '../core/host-key-algorithms.js';
import {
  hostKeyMessage,
  knownHostsRecord,
  knownKeyTypes,
  verifyHostKey,
  type KnownHostEntry,
} from '../core/known-hosts.js';
import type { HostKeyPolicy } from '../core/targets.js';
import {
  appendKnownHost,
  defaultHostKeyPolicy,
  firstUnparsedKnownHostsLine,
  loadHostKeyEntries,
} from './known-hosts-store.js';

interface Endpoint {
  name: string;
  address: string;
  port: number;
  hostKeys?: HostKeyPolicy;
}

export function policyOf(endpoint: Endpoint): HostKeyPolicy {
  return endpoint.hostKeys ?? defaultHostKeyPolicy();
}

/** Every entry that counts for the endpoint (throws when RevokedHostKeys cannot be read). */
export function hostKeyEntries(endpoint: Endpoint): KnownHostEntry[] {
  return loadHostKeyEntries(policyOf(endpoint));
}

/** The exact server host key algorithm list for ssh2, in OpenSSH's order. */
export function hostKeyAlgorithms(
  endpoint: Endpoint,
  entries: readonly KnownHostEntry[],
): ServerHostKeyAlgorithm[] {
  const policy = policyOf(endpoint);
  const known = knownKeyTypes(entries, endpoint.address, endpoint.port, {
    ...(policy.alias !== undefined ? { alias: policy.alias } : {}),
  });
  const list = orderHostKeyAlgorithms(known, policy.algorithms);
  if (list.length === 0) {
    throw new SvcError(
      `${endpoint.name}: HostKeyAlgorithms ${policy.algorithms ?? ''} leaves no algorithm svc can verify (it has ${[...SSH2_HOST_KEY_ALGORITHMS].join(', ')})`,
    );
  }
  return list as ServerHostKeyAlgorithm[];
}

/** The line accept-new or svc trust appends for this host and key. */
export function recordLine(endpoint: Endpoint, key: Buffer): string {
  const policy = policyOf(endpoint);
  return knownHostsRecord(endpoint.address, endpoint.port, key, {
    ...(policy.alias !== undefined ? { alias: policy.alias } : {}),
    ...(policy.hash ? { hashSalt: randomBytes(20) } : {}),
  });
}

/**
 * Why a new key must not be recorded for the endpoint now, or undefined: a line of its known_hosts
 * files that svc could not parse (see firstUnparsedKnownHostsLine). One line naming file:line.
 */
export function recordingBlocked(endpoint: Endpoint): string | undefined {
  const bad = firstUnparsedKnownHostsLine(policyOf(endpoint));
  if (bad === undefined) return undefined;
  const home = homedir();
  const file = bad.file.startsWith(`${home}/`) ? `~${bad.file.slice(home.length)}` : bad.file;
  return `${file}:${bad.line}: svc cannot parse this known_hosts line (${bad.reason}), so it will not record a key for ${endpoint.name} that the line might contradict: fix or remove the line first`;
}

/**
 * CheckHostIP, as sshconnect.c checks it once the name is known: another key recorded for the
 * address is refused (ssh refuses it under StrictHostKeyChecking yes, accept-new, and ask in batch
 * mode; svc never turns checking off). Nothing recorded for the address is fine; ssh would add
 * it to known_hosts, svc does not write.
 */
function ipKeyProblem(
  endpoint: Endpoint,
  key: Buffer,
  entries: readonly KnownHostEntry[],
  ip: string | undefined,
): string | undefined {
  if (ip === undefined) return undefined;
  const verdict = verifyHostKey(entries, ip, endpoint.port, key);
  if (verdict.kind !== 'changed' && verdict.kind !== 'revoked') return undefined;
  const home = homedir();
  const where =
    verdict.kind === 'changed'
      ? verdict.conflicts.map((c) => `${shownPath(c.file, home)}:${c.line}`).join(', ')
      : `${shownPath(verdict.entry.file, home)}:${verdict.entry.line}`;
  return `the host key of ${endpoint.address} is known, but ${where} records another key for its address ${ip} (CheckHostIP yes): refusing to connect, as ssh does`;
}

function shownPath(file: string, home: string): string {
  return file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

/** undefined when the key is known (or newly recorded under accept-new); else why not. */
export function checkHostKey<E extends Endpoint>(
  endpoint: E,
  key: Buffer,
  entries: readonly KnownHostEntry[],
  options: {
    acceptNew?: boolean;
    onHostKey?: (endpoint: E, key: Buffer) => void;
    /** CheckHostIP: the address connected to, whose recorded key must not be another one. */
    ip?: string;
  },
): string | undefined {
  options.onHostKey?.(endpoint, key);
  const policy = policyOf(endpoint);
  const verdict = verifyHostKey(entries, endpoint.address, endpoint.port, key, {
    ...(policy.alias !== undefined ? { alias: policy.alias } : {}),
  });
  if (verdict.kind === 'known') return ipKeyProblem(endpoint, key, entries, options.ip);
  const writeTo = policy.userFiles[0];
  if (verdict.kind === 'unknown' && options.acceptNew && writeTo !== undefined) {
    const blocked = recordingBlocked(endpoint);
    if (blocked !== undefined) return blocked;
    appendKnownHost(writeTo, recordLine(endpoint, key));
    return undefined;
  }
  const message = hostKeyMessage(
    verdict,
    policy.alias ?? endpoint.address,
    policy.alias ? 22 : endpoint.port,
    {
      target: endpoint.name,
      home: homedir(),
    },
  );
  // ssh would have taken this key (a new one; a changed one too under no/off): say why svc does not.
  const lax = policy.notStrict;
  const sshTakes =
    lax !== undefined &&
    (verdict.kind === 'unknown' || (verdict.kind === 'changed' && lax.value !== 'accept-new'));
  return sshTakes
    ? `${message} (svc does not take StrictHostKeyChecking ${lax.value} from ${lax.where}: it always checks host keys)`
    : message;
}
