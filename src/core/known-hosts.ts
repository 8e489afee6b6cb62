// Host-key verification against OpenSSH known_hosts files (sshd(8), "SSH_KNOWN_HOSTS FILE
// FORMAT"), with OpenSSH's verdicts: known, unknown, changed (same key type, other key) and
// revoked. Pure: the text comes in, a verdict goes out. node:crypto is computation (HMAC-SHA1 of
// hashed entries, SHA-256 fingerprints), not I/O.
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';

/** One key line of a known_hosts file. */
export interface KnownHostEntry {
  file: string;
  /** 1-based line number in `file`. */
  line: number;
  marker?: 'revoked' | 'cert-authority';
  hosts: HostPatterns;
  /** The key type named on the line, e.g. ssh-ed25519. */
  keyType: string;
  /** The SSH wire-format public key blob (the base64 field, decoded). */
  key: Buffer;
}

export type HostPatterns =
  | { kind: 'patterns'; patterns: { pattern: string; negated: boolean }[] }
  | { kind: 'hashed'; salt: Buffer; hash: Buffer };

/** A line that is neither a key, a comment nor blank: skipped, kept so it can be reported. */
export interface MalformedKnownHostsLine {
  file: string;
  line: number;
  reason: string;
}

export interface KnownHostsText {
  entries: KnownHostEntry[];
  malformed: MalformedKnownHostsLine[];
}

export type HostKeyVerdict =
  | { kind: 'known'; entry: KnownHostEntry }
  | {
      /** Nothing is recorded for the host (OpenSSH's HOST_NEW). */
      kind: 'unknown';
      fingerprint: string;
      keyType: string;
      /**
       * A @cert-authority line for the host: ssh would take a certificate it signed, which svc
       * (ssh2) cannot check, so the refusal names it.
       */
      certAuthority?: { file: string; line: number };
    }
  | {
      kind: 'changed';
      fingerprint: string;
      keyType: string;
      conflicts: { file: string; line: number; keyType: string }[];
    }
  | { kind: 'revoked'; entry: KnownHostEntry; fingerprint: string; keyType: string };

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const HASH_MAGIC = '|1|';

function decodeBase64(text: string): Buffer | undefined {
  if (!BASE64.test(text) || text.length % 4 !== 0) return undefined;
  return Buffer.from(text, 'base64');
}

/** The key type inside a wire-format blob (its first string), or undefined if it has none. */
export function blobKeyType(key: Buffer): string | undefined {
  if (key.length < 4) return undefined;
  const length = key.readUInt32BE(0);
  if (length === 0 || length > 64 || 4 + length > key.length) return undefined;
  const type = key.subarray(4, 4 + length).toString('latin1');
  return /^[\x21-\x7e]+$/.test(type) ? type : undefined;
}

function parseHosts(field: string): HostPatterns | string {
  if (field.startsWith(HASH_MAGIC)) {
    const [salt64, hash64, ...rest] = field.slice(HASH_MAGIC.length).split('|');
    const salt = salt64 === undefined ? undefined : decodeBase64(salt64);
    const hash = hash64 === undefined ? undefined : decodeBase64(hash64);
    // hostfile.c takes a hashed name only with a 20-byte salt and a 20-byte SHA-1 HMAC.
    if (rest.length > 0 || salt?.length !== 20 || hash?.length !== 20) {
      return 'hashed host is not |1|salt|hash (20-byte salt and hash)';
    }
    return { kind: 'hashed', salt, hash };
  }
  // An empty pattern (`a,,b`, `host,`) is kept: like OpenSSH's match_pattern_list it matches no
  // name, and the rest of the line still counts (dropping the line would hide a pinned key).
  const patterns = field.split(',').map((part) => ({
    pattern: part.startsWith('!') ? part.slice(1) : part,
    negated: part.startsWith('!'),
  }));
  return { kind: 'patterns', patterns };
}

/** Entries and malformed lines of one known_hosts file's text. */
export function scanKnownHosts(text: string, file: string): KnownHostsText {
  const entries: KnownHostEntry[] = [];
  const malformed: MalformedKnownHostsLine[] = [];
  const lines = text.split('\n');
  for (let index = 0; index < lines.length; index++) {
    const line = index + 1;
    const content = lines[index]!.replace(/\r$/, '').trim();
    if (content === '' || content.startsWith('#')) continue;
    const problem = (reason: string) => malformed.push({ file, line, reason });
    let rest = content;
    let marker: KnownHostEntry['marker'];
    if (rest.startsWith('@')) {
      // hostfile.c's check_markers: the marker ends at the first space of the line (a tab only
      // when there is no space), so `@revoked<TAB>host key` is an unknown marker: ssh skips it.
      const space = rest.indexOf(' ');
      const end = space >= 0 ? space : rest.indexOf('\t');
      const name = end >= 0 ? rest.slice(0, end) : rest;
      if (name === '@revoked') marker = 'revoked';
      else if (name === '@cert-authority') marker = 'cert-authority';
      else {
        problem(`unknown marker ${JSON.stringify(name)}`);
        continue;
      }
      rest = rest.slice(name.length).trimStart();
    }
    // A fourth field and beyond is the comment.
    const [hostField, keyType, key64] = rest.split(/[ \t]+/);
    if (hostField === undefined || keyType === undefined || key64 === undefined) {
      problem('expected hosts, key type and key');
      continue;
    }
    const hosts = parseHosts(hostField);
    const key = decodeBase64(key64);
    if (typeof hosts === 'string') problem(hosts);
    else if (key === undefined) problem('key is not base64');
    else if (blobKeyType(key) !== keyType) problem(`key is not of type ${keyType}`);
    else entries.push({ file, line, ...(marker ? { marker } : {}), hosts, keyType, key });
  }
  return { entries, malformed };
}

/** The key entries of a known_hosts file's text; malformed lines are skipped (see scanKnownHosts). */
export function parseKnownHosts(text: string, file: string): KnownHostEntry[] {
  return scanKnownHosts(text, file).entries;
}

/**
 * The name OpenSSH looks up: the HostKeyAlias when there is one (never with a port), else `host` on
 * port 22 and `[host]:port` otherwise (no fall-back to the port-less name); lower case.
 */
export function knownHostsName(host: string, port: number, alias?: string): string {
  if (alias !== undefined) return alias.toLowerCase();
  const name = host.toLowerCase();
  return port === 22 ? name : `[${name}]:${port}`;
}

/** How a host's key is looked up, beyond its address and port (ssh_config). */
export interface HostKeyLookup {
  /** HostKeyAlias. */
  alias?: string;
}

/** OpenSSH's match_pattern: `*` any run of characters, `?` exactly one. */
function globMatches(pattern: string, text: string): boolean {
  const source = [...pattern.toLowerCase()]
    .map((char) =>
      char === '*' ? '.*' : char === '?' ? '.' : char.replace(/[.+^${}()|[\]\\/-]/g, '\\$&'),
    )
    .join('');
  return new RegExp(`^${source}$`, 's').test(text);
}

function hostsMatch(hosts: HostPatterns, name: string): boolean {
  if (hosts.kind === 'hashed') {
    const hash = createHmac('sha1', hosts.salt).update(name).digest();
    return timingSafeEqual(hash, hosts.hash);
  }
  let matched = false;
  for (const { pattern, negated } of hosts.patterns) {
    if (!globMatches(pattern, name)) continue;
    if (negated) return false; // a negated match wins over every positive one
    matched = true;
  }
  return matched;
}

/** `SHA256:<base64 without padding>`, exactly as `ssh-keygen -lf` prints it. */
export function fingerprintSha256(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

const KEY_LABELS: Record<string, string> = {
  'ssh-ed25519': 'ED25519',
  'ssh-rsa': 'RSA',
  'ssh-dss': 'DSA',
  'ecdsa-sha2-nistp256': 'ECDSA',
  'ecdsa-sha2-nistp384': 'ECDSA',
  'ecdsa-sha2-nistp521': 'ECDSA',
  'sk-ssh-ed25519@openssh.com': 'ED25519-SK',
  'sk-ecdsa-sha2-nistp256@openssh.com': 'ECDSA-SK',
};

/** The short name ssh-keygen -l shows in parentheses: ED25519, RSA, ECDSA, ... */
export function keyTypeLabel(keyType: string): string {
  // Own keys only: a known_hosts line may name any type, `constructor` or `toString` included.
  return Object.hasOwn(KEY_LABELS, keyType) ? KEY_LABELS[keyType]! : keyType;
}

/**
 * OpenSSH's decision for the key a host presented. `key` is the wire-format blob (what ssh2's
 * hostVerifier receives). Revoked beats everything; any exact match is known; a host entry of the
 * same type with another key is a change; entries of other types only do not vouch for this one.
 */
export function verifyHostKey(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  key: Buffer,
  lookup: HostKeyLookup = {},
): HostKeyVerdict {
  const keyType = blobKeyType(key) ?? 'unknown';
  const fingerprint = fingerprintSha256(key);
  const name = knownHostsName(host, port, lookup.alias);
  // @cert-authority lines vouch for certificates, never for a plain key: neither marker below.
  const forHost = entries.filter((entry) => hostsMatch(entry.hosts, name));
  const revoked = forHost.find((entry) => entry.marker === 'revoked' && entry.key.equals(key));
  if (revoked) return { kind: 'revoked', entry: revoked, fingerprint, keyType };
  const plain = forHost.filter((entry) => entry.marker === undefined);
  const exact = plain.find((entry) => entry.keyType === keyType && entry.key.equals(key));
  if (exact) return { kind: 'known', entry: exact };
  const where = (entry: KnownHostEntry) => ({
    file: entry.file,
    line: entry.line,
    keyType: entry.keyType,
  });
  // OpenSSH (check_hostkeys_by_key_or_type): any other key recorded for the host, of any type,
  // makes the key "changed", never "new": accept-new and svc trust must not add a second one.
  const conflicts = plain.map(where);
  if (conflicts.length > 0) return { kind: 'changed', fingerprint, keyType, conflicts };
  // Nothing at all recorded for [host]:port: ssh 9.2 then checks "without port identifier", and
  // takes that entry only if it is this very key (another key there still leaves it unknown).
  if (port !== 22 && lookup.alias === undefined) {
    const portless = verifyHostKey(entries, host, 22, key);
    if (portless.kind === 'known') return portless;
  }
  const authority = forHost.find((entry) => entry.marker === 'cert-authority');
  return {
    kind: 'unknown',
    fingerprint,
    keyType,
    ...(authority ? { certAuthority: { file: authority.file, line: authority.line } } : {}),
  };
}

/**
 * The key types known_hosts holds for a host, in file order: what to ask the server for first
 * (as OpenSSH orders its host key algorithms), so a host known by its RSA key is not met with an
 * "unknown" ED25519 key it also has.
 */
export function knownKeyTypes(
  entries: readonly KnownHostEntry[],
  host: string,
  port: number,
  lookup: HostKeyLookup = {},
): string[] {
  const name = knownHostsName(host, port, lookup.alias);
  // A recorded key that is also revoked does not count (what ssh 9.2 does, checked by the
  // differential test).
  const forHost = entries.filter((entry) => hostsMatch(entry.hosts, name));
  const revoked = forHost.filter((entry) => entry.marker === 'revoked');
  const types = forHost
    .filter((entry) => entry.marker === undefined)
    .filter((entry) => !revoked.some((r) => r.key.equals(entry.key)))
    .map((entry) => entry.keyType);
  return [...new Set(types)];
}

/** The line to append for a host (or its HostKeyAlias), its name hashed when `hashSalt` is given. */
export function knownHostsRecord(
  host: string,
  port: number,
  key: Buffer,
  options: HostKeyLookup & { hashSalt?: Buffer } = {},
): string {
  const plain = knownHostsLine(options.alias ?? host, options.alias ? 22 : port, key);
  if (options.hashSalt === undefined) return plain;
  const name = knownHostsName(host, port, options.alias);
  const hash = createHmac('sha1', options.hashSalt).update(name).digest('base64');
  return `${HASH_MAGIC}${options.hashSalt.toString('base64')}|${hash}${plain.slice(plain.indexOf(' '))}`;
}

/**
 * A RevokedHostKeys file of public keys (`type base64 [comment]` lines) as @revoked entries. A
 * binary KRL is not read by svc: the caller refuses rather than guess. A line that is not a key
 * is in `malformed`: ssh then refuses every connection ("invalid format"), and so must the caller.
 */
export function parseRevokedKeys(text: string, file: string): KnownHostsText {
  const asKnownHosts = text
    .split('\n')
    .map((line) => {
      const content = line.replace(/\r$/, '').trim();
      return content === '' || content.startsWith('#') ? '' : `@revoked * ${content}`;
    })
    .join('\n');
  return scanKnownHosts(asKnownHosts, file);
}

export const KRL_MAGIC = 'SSHKRL\n\0';

/** The line to append to a known_hosts file for this host and key (no newline). */
export function knownHostsLine(host: string, port: number, key: Buffer): string {
  if (!/^[^\s,*?!|@[\]#]+$/.test(host)) {
    throw new Error(`knownHostsLine: "${host}" is not a host name or address`);
  }
  const keyType = blobKeyType(key);
  if (keyType === undefined) throw new Error('knownHostsLine: not an SSH public key blob');
  return `${knownHostsName(host, port)} ${keyType} ${key.toString('base64')}`;
}

export interface HostKeyMessageOptions {
  /** What the user typed, for the `svc trust TARGET` hint; default host[:port]. */
  target?: string;
  /** The user's home directory, shown as ~ in file names. */
  home?: string;
}

function shownFile(file: string, home: string | undefined): string {
  return home && file.startsWith(`${home}/`) ? `~${file.slice(home.length)}` : file;
}

function shownTarget(host: string, port: number): string {
  const name = host.includes(':') ? `[${host}]` : host;
  return port === 22 ? host : `${name}:${port}`;
}

/** One line for the user about a verdict other than `known` (which needs no words). */
export function hostKeyMessage(
  verdict: HostKeyVerdict,
  host: string,
  port: number,
  options: HostKeyMessageOptions = {},
): string {
  const target = options.target ?? shownTarget(host, port);
  const at = (where: { file: string; line: number }) =>
    `${shownFile(where.file, options.home)}:${where.line}`;
  const shown = shownTarget(host, port);
  switch (verdict.kind) {
    case 'known':
      return `host key of ${shown} is known (${at(verdict.entry)})`;
    case 'revoked':
      return (
        `host key of ${shown} (${keyTypeLabel(verdict.keyType)} ${verdict.fingerprint}) is ` +
        `REVOKED (${at(verdict.entry)}): refusing to connect`
      );
    case 'unknown':
      return (
        `host key of ${shown} is unknown (${keyTypeLabel(verdict.keyType)} ${verdict.fingerprint}` +
        `): check it, then run svc trust ${target} or pass --accept-new` +
        (verdict.certAuthority
          ? ` (the @cert-authority line ${at(verdict.certAuthority)} covers this host, but svc cannot check host certificates: it was shown the plain key)`
          : '')
      );
    case 'changed': {
      // A host pinned by a key of another type (its RSA key, say) is told which.
      const otherTypes = [
        ...new Set(
          verdict.conflicts
            .filter((conflict) => conflict.keyType !== verdict.keyType)
            .map((conflict) => keyTypeLabel(conflict.keyType)),
        ),
      ];
      const lines =
        verdict.conflicts.map(at).join(', ') +
        (otherTypes.length > 0 ? ` (${otherTypes.join(', ')})` : '');
      const several = verdict.conflicts.length > 1;
      return (
        `HOST KEY OF ${shown} HAS CHANGED (now ${keyTypeLabel(verdict.keyType)} ` +
        `${verdict.fingerprint}; ${lines} ${several ? 'have' : 'has'} another): possible ` +
        `man-in-the-middle; refusing to connect. If the change is expected, remove ` +
        `${several ? 'those lines' : 'that line'} and run svc trust ${target}`
      );
    }
  }
}
