// The sandbox state directory. Besides inventory.json (the public contract, written last), each
// host has hosts/sbx-N/record.json, written BEFORE anything is created for it and updated as
// processes start. So whatever point `up` dies at, `down` knows exactly what might exist.
import {
  closeSync,
  existsSync,
  lstatSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { z } from 'zod';
import { SvcError } from '../core/errors.js';
import {
  parseSandboxInventory,
  SANDBOX_INVENTORY_FILE,
  SANDBOX_KNOWN_HOSTS_FILE,
  type SandboxInventory,
} from '../core/sandbox-inventory.js';
import {
  hostNumber,
  stateDirHash,
  stateDirProblem,
  stateDirTrustProblem,
  type DirFacts,
} from './names.js';
import { isAlive, recordProcess, type ProcessRecord } from './proc.js';

export interface SandboxPaths {
  dir: string;
  /** Tag of the real state directory path: names every kernel object of this sandbox. */
  hash: string;
  inventory: string;
  knownHosts: string;
  key: string;
  settings: string;
  lock: string;
  hosts: string;
}

export function sandboxPaths(realDir: string): SandboxPaths {
  return {
    dir: realDir,
    hash: stateDirHash(realDir),
    inventory: join(realDir, SANDBOX_INVENTORY_FILE),
    knownHosts: join(realDir, SANDBOX_KNOWN_HOSTS_FILE),
    key: join(realDir, 'id_ed25519'),
    settings: join(realDir, 'sandbox.json'),
    lock: join(realDir, 'lock'),
    hosts: join(realDir, 'hosts'),
  };
}

function dirFacts(path: string): DirFacts {
  const stat = lstatSync(path);
  return {
    path,
    uid: stat.uid,
    mode: stat.mode,
    isDirectory: stat.isDirectory(),
    isSymbolicLink: stat.isSymbolicLink(),
  };
}

/** hosts/ and every hosts/sbx-N must be real directories: a link would redirect deletes and writes. */
function linkProblem(paths: SandboxPaths): string | undefined {
  const isRealDir = (path: string) => {
    const facts = dirFacts(path);
    return facts.isDirectory && !facts.isSymbolicLink;
  };
  const never = 'svc never follows a link in its state directory; remove it';
  if (!existsSync(paths.hosts) && !isSymlink(paths.hosts)) return undefined;
  if (!isRealDir(paths.hosts)) return `${paths.hosts} is not a directory (a link?): ${never}`;
  for (const name of readdirSync(paths.hosts)) {
    if (hostNumber(name) === undefined) continue;
    const dir = join(paths.hosts, name);
    if (!isRealDir(dir)) return `${dir} is not a directory (a link?): ${never}`;
  }
  return undefined;
}

function isSymlink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * Resolve (and for `up`, create) the state directory; names are derived from its real path.
 * `trusted`: `up` and `down`, which act as root on what the directory says, also refuse one another
 * user could change and links inside it (`list` only reads).
 */
export function openStateDir(
  dir: string,
  create: boolean,
  trusted = create,
): SandboxPaths | undefined {
  const absolute = resolve(dir);
  // Checked before creating it (nothing made in a refused place) and after (a symlink's target).
  const refuse = (problem: string | undefined) => {
    if (problem) throw new SvcError(problem);
  };
  refuse(stateDirProblem(absolute));
  if (create) mkdirSync(absolute, { recursive: true, mode: 0o700 });
  else if (!existsSync(absolute)) return undefined;
  const real = realpathSync(absolute);
  refuse(stateDirProblem(real));
  const paths = sandboxPaths(real);
  if (trusted) {
    const ancestors: DirFacts[] = [];
    for (let parent = dirname(real); ; parent = dirname(parent)) {
      ancestors.push(dirFacts(parent));
      if (parent === '/') break;
    }
    refuse(stateDirTrustProblem(dirFacts(real), ancestors, process.getuid?.() ?? 0));
    refuse(linkProblem(paths));
  }
  return paths;
}

export function hostDir(paths: SandboxPaths, name: string): string {
  return join(paths.hosts, name);
}

/** Remove a host's directory; a link in its place is removed itself, never what it points to. */
export function removeHostDir(paths: SandboxPaths, name: string): void {
  const dir = hostDir(paths, name);
  if (isSymlink(paths.hosts)) return;
  if (isSymlink(dir)) rmSync(dir, { force: true });
  else rmSync(dir, { recursive: true, force: true });
}

const processSchema = z.strictObject({
  pid: z.number().int(),
  start: z.string(),
  role: z.string(),
  boot: z.string(),
});

const settingsSchema = z.strictObject({
  version: z.literal(1),
  net: z.string(),
  kind: z.enum(['light', 'systemd']),
  user: z.enum(['root', 'deploy']),
  /** SHA256 fingerprint of the client key svc generated: a key in the directory is used only if it matches. */
  key: z.string().optional(),
});
export type SandboxSettings = z.infer<typeof settingsSchema>;

const recordSchema = z.strictObject({
  version: z.literal(1),
  name: z.string(),
  n: z.number().int(),
  kind: z.enum(['light', 'systemd']),
  netns: z.string(),
  veth: z.string(),
  address: z.string(),
  /** systemd hosts: systemd-nspawn's machine name. */
  machine: z.string().optional(),
  processes: z.array(processSchema),
});
export type HostRecord = z.infer<typeof recordSchema>;

/**
 * Write a file whole or not at all: a reader never sees half of it. The temporary file is created
 * new (O_EXCL does not follow a link left in its place), and rename replaces a link, not its target.
 */
export function writeFileAtomic(file: string, text: string, mode = 0o600): void {
  const temp = `${file}.tmp-${process.pid}`;
  rmSync(temp, { force: true });
  writeFileSync(temp, text, { mode, flag: 'wx' });
  renameSync(temp, file);
}

function readJson<T>(file: string, schema: z.ZodType<T>): T | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  try {
    const result = schema.safeParse(JSON.parse(text));
    return result.success ? result.data : undefined;
  } catch {
    return undefined;
  }
}

export function readSettings(paths: SandboxPaths): SandboxSettings | undefined {
  return readJson(paths.settings, settingsSchema);
}

export function writeSettings(paths: SandboxPaths, settings: SandboxSettings): void {
  writeFileAtomic(paths.settings, `${JSON.stringify(settings, null, 2)}\n`);
}

export function writeRecord(paths: SandboxPaths, record: HostRecord): void {
  writeFileAtomic(
    join(hostDir(paths, record.name), 'record.json'),
    `${JSON.stringify(record, null, 2)}\n`,
  );
}

/** Every host directory, with its record when the record is readable (a crash may leave none). */
export function readRecords(paths: SandboxPaths): { name: string; record?: HostRecord }[] {
  let names: string[];
  try {
    if (isSymlink(paths.hosts)) return [];
    names = readdirSync(paths.hosts);
  } catch {
    return [];
  }
  return names
    .filter((name) => hostNumber(name) !== undefined && !isSymlink(hostDir(paths, name)))
    .sort((x, y) => hostNumber(x)! - hostNumber(y)!)
    .map((name) => {
      const record = readJson(join(hostDir(paths, name), 'record.json'), recordSchema);
      return record ? { name, record } : { name };
    });
}

/** The inventory, if there is a valid one; `strict` turns an invalid file into an error. */
export function readInventory(paths: SandboxPaths, strict: boolean): SandboxInventory | undefined {
  let text: string;
  try {
    text = readFileSync(paths.inventory, 'utf8');
  } catch {
    return undefined;
  }
  try {
    return parseSandboxInventory(text, paths.inventory);
  } catch (error) {
    if (strict) throw new SvcError((error as Error).message);
    return undefined;
  }
}

/**
 * One `svc sandbox up` or `down` at a time per state directory. The lock holds the holder's pid
 * and start time, so a lock left by a killed process is recognised and taken over.
 */
export function acquireLock(paths: SandboxPaths): () => void {
  const self = recordProcess(process.pid, 'svc');
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const fd = openSync(paths.lock, 'wx', 0o600);
      writeSync(fd, JSON.stringify(self));
      closeSync(fd);
      return () => rmSync(paths.lock, { force: true });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readJson(paths.lock, processSchema);
      if (holder && isAlive(holder)) {
        throw new SvcError(
          `another svc sandbox command (pid ${holder.pid}) is working on ${paths.dir}`,
        );
      }
      rmSync(paths.lock, { force: true });
    }
  }
  throw new SvcError(`${paths.lock}: cannot take the lock`);
}

export function hostProcesses(record: HostRecord | undefined): ProcessRecord[] {
  return record?.processes ?? [];
}
