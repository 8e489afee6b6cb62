// Root never writes where another user can plant a link. Whoever can write a directory on the way
// to a path can replace what is below it (a link to /etc/shadow where root was about to write),
// so every directory the host resolves a path through must be one that only root changes.
// Pure: the facts (D and A records, facts.ts) say who owns each directory and where each path
// resolves; this file decides which of them root may write below.
import type { DirFact, HostFacts } from './facts.js';

/**
 * Why `dir` is not safe for root to write below, or undefined when it is. Trusted: root, and the
 * SSH login user (who becomes root through sudo for the deploy anyway: a link it plants gains it
 * nothing). Group-writable is trusted only for group root (gid 0) or the login user's own group
 * on its own directory. Anything writable by others is never trusted, sticky or not: the sticky
 * bit (/tmp) stops others removing root's files but not planting a name root has yet to write.
 */
export function untrustedReason(dir: DirFact, login: string): string | undefined {
  const mode = `${dir.mode.toString(8).padStart(4, '0')} ${dir.owner}:${dir.group}`;
  // An ACL entry can grant write to anyone whatever the mode says (stat shows the ACL mask): the
  // facts say only that there is one, so a directory with one is not trusted.
  if (dir.acl)
    return `marked with a POSIX ACL (+ in ls -ld), which can let other users write it whatever its mode says (${mode}; setfacl -b removes it)`;
  const ownerTrusted = dir.uid === 0 || dir.owner === login;
  if (!ownerTrusted) return `owned by ${dir.owner} (${mode})`;
  if (dir.mode & 0o002)
    return `writable by every user${dir.mode & 0o1000 ? ' (sticky)' : ''} (${mode})`;
  const groupTrusted = dir.gid === 0 || (dir.owner === login && dir.group === login);
  if (dir.mode & 0o020 && !groupTrusted) return `writable by group ${dir.group} (${mode})`;
  return undefined;
}

/** Whether a reason may be accepted with --allow-path DIR: only a root-owned, group-writable one. */
export function acceptable(dir: DirFact): boolean {
  return dir.uid === 0 && (dir.mode & 0o002) === 0 && !dir.acl;
}

const isBelow = (path: string, dir: string) =>
  dir === '/' ? path.startsWith('/') && path !== '/' : path.startsWith(`${dir}/`);

/** Where the host resolves `path` (itself when the facts do not say). */
export function resolvedPath(facts: HostFacts, path: string): string | undefined {
  return facts.resolved.has(path) ? facts.resolved.get(path) : path;
}

/**
 * The reported directories on the way to `path`: the ancestors of where it resolves, and each
 * directory holding a link on its way (K records, every hop) with its own ancestors.
 */
export function chainOf(facts: HostFacts, path: string): DirFact[] {
  const resolved = resolvedPath(facts, path) ?? path;
  const all = [...facts.dirs.values()];
  const chain = new Set(all.filter((dir) => isBelow(resolved, dir.path)));
  for (const holder of facts.linkHolders.get(path) ?? []) {
    for (const dir of all) if (dir.path === holder || isBelow(holder, dir.path)) chain.add(dir);
  }
  return [...chain];
}

export interface UnsafeDir {
  dir: DirFact;
  reason: string;
  /** The first path root would write below it, and how many more. */
  path: string;
  more: number;
}

/** Every untrusted directory on the way to any of `paths`, each once, deepest first. */
export function unsafeDirs(facts: HostFacts, paths: readonly string[]): UnsafeDir[] {
  const found = new Map<string, UnsafeDir>();
  for (const path of paths) {
    for (const dir of chainOf(facts, path)) {
      const reason = untrustedReason(dir, facts.login.user);
      if (reason === undefined) continue;
      const seen = found.get(dir.path);
      if (seen) seen.more++;
      else found.set(dir.path, { dir, reason, path, more: 0 });
    }
  }
  return [...found.values()].sort((a, b) => b.dir.path.length - a.dir.path.length);
}
