// Names and addresses of sandbox hosts: pure, so the rules that keep two sandboxes apart (and a
// sandbox away from the machine's own networks) are unit-tested without root.
import { createHash } from 'node:crypto';
import { SvcError } from '../core/errors.js';

/** Host N owns A.B.N.0/24, so N is a usable third octet. */
export const MAX_HOSTS = 254;
export const DEFAULT_NET = '10.231';

export interface Net {
  a: number;
  b: number;
  /** "A.B", as written in the inventory. */
  text: string;
}

const OCTET = /^(0|[1-9]\d{0,2})$/;

/**
 * The /16 prefix hosts are carved from. Only RFC 1918 space: a sandbox must never shadow a route
 * to a real network, and private space is the only space no one else will route to us.
 */
export function parseNet(text: string, source = '--net'): Net {
  const parts = text.split('.');
  if (parts.length !== 2 || !parts.every((part) => OCTET.test(part))) {
    throw new SvcError(`${source} ${text}: expected the first two octets of a /16, like 10.231`);
  }
  const [a, b] = parts.map(Number) as [number, number];
  if (a > 255 || b > 255) throw new SvcError(`${source} ${text}: an octet is above 255`);
  const isPrivate = a === 10 || (a === 172 && b >= 16 && b <= 31) || (a === 192 && b === 168);
  if (!isPrivate) {
    throw new SvcError(
      `${source} ${text}: not private address space (use 10.x, 172.16-31.x or 192.168)`,
    );
  }
  return { a, b, text: `${a}.${b}` };
}

export function parseHostCount(text: string): number {
  if (!/^\d+$/.test(text) || Number(text) < 1 || Number(text) > MAX_HOSTS) {
    throw new SvcError(`host count ${text}: must be a whole number from 1 to ${MAX_HOSTS}`);
  }
  return Number(text);
}

export function hostName(n: number): string {
  return `sbx-${n}`;
}

export function hostNumber(name: string): number | undefined {
  const match = /^sbx-([1-9]\d{0,2})$/.exec(name);
  const n = match ? Number(match[1]) : NaN;
  return n >= 1 && n <= MAX_HOSTS ? n : undefined;
}

export function subnet(net: Net, n: number): string {
  return `${net.text}.${n}.0/24`;
}

/** The host's end of the veth pair. */
export function hostAddress(net: Net, n: number): string {
  return `${net.text}.${n}.2`;
}

/** The machine's end of the veth pair. */
export function machineAddress(net: Net, n: number): string {
  return `${net.text}.${n}.1`;
}

/** A short, stable tag of the (real) state directory: every kernel object is named after it. */
export function stateDirHash(realStateDir: string): string {
  return createHash('sha256').update(realStateDir).digest('hex').slice(0, 8);
}

/** `ip netns list` shows these; `down` finds leftovers of its own sandbox by this prefix. */
export function netnsPrefix(hash: string): string {
  return `svc-${hash}-`;
}

export function netnsName(hash: string, n: number): string {
  return `${netnsPrefix(hash)}${hostName(n)}`;
}

/** systemd-nspawn's machine name: unique on the machine, like the network namespace's. */
export function machineName(hash: string, n: number): string {
  return netnsName(hash, n);
}

/**
 * The machine-side veth, named after its /24 (svsb + the three octets in hex, 10 characters of
 * the kernel's 15). Interface names are unique on the machine, so creating it is an atomic claim
 * of the /24: two sandboxes racing for one subnet cannot both win. The link's alias names the
 * state directory, so `down` deletes only its own.
 */
export function vethName(net: Net, n: number): string {
  const hex = (octet: number) => octet.toString(16).padStart(2, '0');
  return `svsb${hex(net.a)}${hex(net.b)}${hex(n)}`;
}

export function vethAlias(hash: string): string {
  return `svc-sandbox:${hash}`;
}

/** One bind mount of / per state directory, booted (with a volatile overlay) by every systemd host. */
export function rootBindDir(hash: string): string {
  return `${ROOT_BIND_PARENT}/${hash}`;
}
export const ROOT_BIND_PARENT = '/run/svc-sandbox-root';

/**
 * Trees a light host lays an overlay over. The upper directories live in the state directory,
 * so a state directory inside one of them would be an overlay over itself.
 */
export const OVERLAID_TREES = ['/etc', '/usr', '/var', '/opt'] as const;

export function stateDirProblem(realStateDir: string): string | undefined {
  if (realStateDir === '/') return 'the state directory cannot be /';
  const tree = OVERLAID_TREES.find(
    (dir) => realStateDir === dir || realStateDir.startsWith(`${dir}/`),
  );
  if (tree) {
    return `state directory ${realStateDir} is inside ${tree}, which sandbox hosts overlay; choose one outside ${OVERLAID_TREES.join(', ')}`;
  }
  return undefined;
}

/** A path in systemd-nspawn's --bind-ro=SOURCE:DEST, where `:` separates and `\` escapes. */
export function nspawnBindPath(path: string): string {
  return path.replaceAll('\\', '\\\\').replaceAll(':', '\\:');
}

/** The cgroup systemd host N runs in (below every hierarchy's root); its processes are inside it. */
export function hostCgroup(hash: string, n: number): string {
  return `svc-sandbox-${machineName(hash, n)}`;
}

/** Whether a process whose cgroup paths are `paths` runs in cgroup `name` or below it. */
export function inCgroup(paths: readonly string[], name: string): boolean {
  return paths.some((path) => path === `/${name}` || path.startsWith(`/${name}/`));
}

/** What lstat says of a directory, for the checks below. */
export interface DirFacts {
  path: string;
  uid: number;
  mode: number;
  isDirectory: boolean;
  isSymbolicLink: boolean;
}

const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/**
 * svc sandbox runs as root and acts on what its state directory says (which processes to end,
 * which key the hosts accept), so only the caller may be able to change it: the directory owned
 * by the caller and closed to everyone else, and no directory above it writable by another user
 * (who could rename it away and put their own in its place), except with the sticky bit, as /tmp.
 * `ancestors` run from the parent up to /.
 */
export function stateDirTrustProblem(
  dir: DirFacts,
  ancestors: readonly DirFacts[],
  uid: number,
): string | undefined {
  const fix = 'svc sandbox runs as root and acts on what is in it; choose another --state-dir';
  if (dir.isSymbolicLink || !dir.isDirectory) {
    return `state directory ${dir.path} is not a directory: ${fix}`;
  }
  if (dir.uid !== uid) {
    return `state directory ${dir.path} is owned by uid ${dir.uid}, not by you (uid ${uid}): ${fix}`;
  }
  if ((dir.mode & 0o077) !== 0) {
    return `state directory ${dir.path} is open to other users (mode ${octal(dir.mode)}): chmod 700 it, or choose another --state-dir`;
  }
  for (const parent of ancestors) {
    if (parent.uid !== 0 && parent.uid !== uid) {
      return `state directory ${dir.path}: ${parent.path} above it is owned by uid ${parent.uid}, who could replace it: ${fix}`;
    }
    if ((parent.mode & 0o022) !== 0 && (parent.mode & 0o1000) === 0) {
      return `state directory ${dir.path}: ${parent.path} above it is writable by other users (mode ${octal(parent.mode)}), who could replace it: ${fix}`;
    }
  }
  return undefined;
}

/** OpenSSH's SHA256 fingerprint of a public key line ("TYPE BASE64 [COMMENT]"). */
export function keyFingerprint(publicKey: string): string {
  const blob = publicKey.trim().split(/\s+/)[1];
  if (!blob) throw new Error('not an OpenSSH public key');
  const digest = createHash('sha256').update(Buffer.from(blob, 'base64')).digest('base64');
  return `SHA256:${digest.replace(/=+$/, '')}`;
}
