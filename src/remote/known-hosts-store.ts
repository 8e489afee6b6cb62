// The known_hosts files on disk: read them for verification, append to one to trust a host. The
// decisions live in core/known-hosts.ts; this file only reads and writes.
import {
  closeSync,
  fstatSync,
  mkdirSync,
  openSync,
  readFileSync,
  readSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { SvcError } from '../core/errors.js';
import {
  KRL_MAGIC,
  parseRevokedKeys,
  scanKnownHosts,
  type KnownHostEntry,
  type KnownHostsText,
  type MalformedKnownHostsLine,
} from '../core/known-hosts.js';
import { SANDBOX_KNOWN_HOSTS_FILE, sandboxStateDir } from '../core/sandbox-inventory.js';
import { DEFAULT_GLOBAL_KNOWN_HOSTS } from '../core/ssh-config.js';
import type { HostKeyPolicy } from '../core/targets.js';

type Env = Readonly<Record<string, string | undefined>>;

/** The user's ~/.ssh/known_hosts. */
export function userKnownHostsFile(home: string = homedir()): string {
  return join(home, '.ssh', 'known_hosts');
}

/** ~/.ssh/known_hosts, then the sandbox's known_hosts. */
export function defaultKnownHostsFiles(env: Env = process.env, home: string = homedir()): string[] {
  return [userKnownHostsFile(home), join(sandboxStateDir(env), SANDBOX_KNOWN_HOSTS_FILE)];
}

function readIfExists(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new SvcError(`${file}: cannot read: ${(error as Error).message}`);
  }
}

/** OpenSSH's defaults, for a host no ssh_config lookup has described. */
export function defaultHostKeyPolicy(home: string = homedir()): HostKeyPolicy {
  return {
    userFiles: [userKnownHostsFile(home), join(home, '.ssh', 'known_hosts2')],
    globalFiles: [...DEFAULT_GLOBAL_KNOWN_HOSTS],
    hash: false,
  };
}

/**
 * Every entry that vouches for or revokes a key under a policy: the UserKnownHostsFiles, the
 * GlobalKnownHostsFiles (with their @revoked lines), the sandbox's known_hosts (svc's own
 * addition, read last, never written) and RevokedHostKeys. A RevokedHostKeys file that cannot be
 * read refuses the connection, as in ssh; so does a binary KRL, which svc does not parse.
 */
export function loadHostKeyEntries(
  policy: HostKeyPolicy,
  env: Env = process.env,
): KnownHostEntry[] {
  const entries = loadKnownHosts(checkedKnownHostsFiles(policy, env));
  if (policy.revokedFile === undefined) return entries;
  let data: Buffer;
  try {
    data = readFileSync(policy.revokedFile);
  } catch (error) {
    throw new SvcError(
      `${policy.revokedFile}: RevokedHostKeys cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): refusing to connect, as ssh does`,
    );
  }
  if (data.subarray(0, KRL_MAGIC.length).toString('latin1') === KRL_MAGIC) {
    throw new SvcError(
      `${policy.revokedFile}: RevokedHostKeys is a binary KRL, which svc cannot read: refusing to connect`,
    );
  }
  const revoked = parseRevokedKeys(data.toString('utf8'), policy.revokedFile);
  const bad = revoked.malformed[0];
  if (bad !== undefined) {
    // ssh refuses every connection when a line of the file is not a key ("invalid format"):
    // skipping it could let through the very key it was meant to revoke.
    throw new SvcError(
      `${bad.file}:${bad.line}: RevokedHostKeys line is not a public key (${bad.reason}): refusing to connect, as ssh does`,
    );
  }
  return [...entries, ...revoked.entries];
}

/** The known_hosts files whose entries count under a policy, in the order they are read. */
export function checkedKnownHostsFiles(policy: HostKeyPolicy, env: Env = process.env): string[] {
  return [
    ...policy.userFiles,
    ...policy.globalFiles,
    join(sandboxStateDir(env), SANDBOX_KNOWN_HOSTS_FILE),
  ];
}

/**
 * The first line of the checked known_hosts files that svc could not parse, if any. ssh skips such
 * lines; svc skips them too when verifying, but never records a new key while one exists: it might
 * be the host's pinned key in a form svc misreads, and a second key would then be trusted beside it.
 */
export function firstUnparsedKnownHostsLine(
  policy: HostKeyPolicy,
  env: Env = process.env,
): MalformedKnownHostsLine | undefined {
  return readKnownHostsFiles(checkedKnownHostsFiles(policy, env)).malformed[0];
}

/** Entries and malformed lines of every file that exists; a missing file is an empty one. */
export function readKnownHostsFiles(
  files: readonly string[] = defaultKnownHostsFiles(),
): KnownHostsText {
  const all: KnownHostsText = { entries: [], malformed: [] };
  for (const file of files) {
    const text = readIfExists(file);
    if (text === undefined) continue;
    const { entries, malformed } = scanKnownHosts(text, file);
    all.entries.push(...entries);
    all.malformed.push(...malformed);
  }
  return all;
}

/** The key entries of every file that exists, in order. */
export function loadKnownHosts(
  files: readonly string[] = defaultKnownHostsFiles(),
): KnownHostEntry[] {
  return readKnownHostsFiles(files).entries;
}

/**
 * Appends one line (from knownHostsLine) to a known_hosts file, creating its directory (0700) and
 * the file (0600) when missing. One write to an O_APPEND descriptor, so a concurrent ssh or svc
 * appending to the same file cannot interleave inside the line; a file whose last line lacks its
 * newline gets one first, so the new entry never runs into it.
 */
export function appendKnownHost(file: string, line: string): void {
  if (line.includes('\n')) throw new Error('appendKnownHost: one line only');
  try {
    mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
    const fd = openSync(file, 'a+', 0o600);
    try {
      const { size } = fstatSync(fd);
      const last = Buffer.alloc(1);
      const needsNewline = size > 0 && readSync(fd, last, 0, 1, size - 1) === 1 && last[0] !== 0x0a;
      const bytes = Buffer.from(`${needsNewline ? '\n' : ''}${line}\n`, 'utf8');
      const written = writeSync(fd, bytes);
      if (written !== bytes.length)
        throw new Error(`short write (${written} of ${bytes.length} bytes)`);
    } finally {
      closeSync(fd);
    }
  } catch (error) {
    throw new SvcError(`${file}: cannot add the host key: ${(error as Error).message}`);
  }
}
