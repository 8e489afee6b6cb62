// `svc sandbox up`: decide (plan-up.ts), then start the missing hosts in parallel, and only when
// every one answers SSH write known_hosts and inventory.json. A failed or interrupted (SIGINT,
// SIGTERM, SIGHUP) `up` removes the hosts it started; one killed with SIGKILL leaves records that
// `down` (or the next `up`) cleans.
import { existsSync, lstatSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SvcError } from '../core/errors.js';
import type { SandboxHost, SandboxInventory } from '../core/sandbox-inventory.js';
import { buildInventory, HOST_KEY_FILE, inventoryHost, knownHostsLine } from './files.js';
import { catchInterrupts, interrupted, type Interrupt } from './interrupt.js';
import { startLightHost } from './light.js';
import {
  hostAddress,
  hostName,
  hostNumber,
  keyFingerprint,
  machineName,
  netnsName,
  parseNet,
  vethName,
  type Net,
} from './names.js';
import { checkSubnetsFree, createNetwork } from './network.js';
import { decideSettings, planHosts, type UpRequest } from './plan-up.js';
import { isAlive, run, waitUntil } from './proc.js';
import { requireRoot, requireTools } from './requirements.js';
import {
  acquireLock,
  hostDir,
  openStateDir,
  readInventory,
  readRecords,
  readSettings,
  writeFileAtomic,
  writeRecord,
  writeSettings,
  type HostRecord,
  type SandboxPaths,
  type SandboxSettings,
} from './state.js';
import { ensureRootBind, releaseRootBind, startSystemdHost } from './systemd.js';
import { teardownHost } from './teardown.js';

const SSH_TIMEOUT_MS = 15_000;
/** Hosts started at once: enough for seconds per ten, few enough not to swamp a small machine. */
const PARALLEL = 16;

export interface UpResult {
  stateDir: string;
  inventory: SandboxInventory;
  added: string[];
  kept: string[];
  elapsedMs: number;
  /** One line per thing worth knowing that is not an error (a degraded systemd host). */
  notes: string[];
}

/** Resolves once ADDRESS:22 answers with an SSH banner: sshd is listening, not just starting. */
function sshBanner(address: string): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port: 22, timeout: 1_000 });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.once('data', (data) => done(data.toString('latin1').startsWith('SSH-')));
    socket.once('error', () => done(false));
    socket.once('timeout', () => done(false));
  });
}

function lstatOrUndefined(path: string) {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/**
 * The client key every host accepts for root. Only a key svc generated itself is used: its
 * fingerprint is recorded in sandbox.json when it is made, and a key found later must be a plain
 * file of the caller's, closed to others, with that fingerprint. Anything else (a key another user
 * planted, a link) is refused rather than trusted with root on the hosts. Returns the public key.
 */
async function ensureClientKey(
  paths: SandboxPaths,
  recorded: string | undefined,
): Promise<{ publicKey: string; fingerprint: string }> {
  const found = lstatOrUndefined(paths.key);
  if (found || lstatOrUndefined(`${paths.key}.pub`)) {
    const refuse = (why: string) =>
      new SvcError(
        `${paths.key}: ${why}; svc uses only a key it created: remove it and its .pub, or run svc sandbox down`,
      );
    if (!recorded) throw refuse(`no fingerprint of it is recorded in ${paths.settings}`);
    if (!found?.isFile()) throw refuse('not a plain file');
    if (found.uid !== (process.getuid?.() ?? 0) || (found.mode & 0o077) !== 0) {
      throw refuse(`owned by uid ${found.uid} with mode 0${(found.mode & 0o777).toString(8)}`);
    }
    // The public half from the private key itself: a .pub beside it proves nothing.
    const publicKey = (await run(['ssh-keygen', '-y', '-P', '', '-f', paths.key])).stdout.trim();
    const fingerprint = keyFingerprint(publicKey);
    if (fingerprint !== recorded)
      throw refuse(`its fingerprint ${fingerprint} is not the recorded ${recorded}`);
    return { publicKey, fingerprint };
  }
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'svc-sandbox', '-f', paths.key]);
  const publicKey = readFileSync(`${paths.key}.pub`, 'utf8').trim();
  return { publicKey, fingerprint: keyFingerprint(publicKey) };
}

async function startHost(
  paths: SandboxPaths,
  settings: SandboxSettings,
  net: Net,
  n: number,
  start: { root: string | undefined; publicKey: string; interrupt: Interrupt; ebpf?: boolean },
  notes: string[],
): Promise<HostRecord> {
  const { root, publicKey, interrupt } = start;
  interrupt.check();
  const name = hostName(n);
  const dir = hostDir(paths, name);
  mkdirSync(paths.hosts, { recursive: true, mode: 0o700 });
  // Not recursive: a fresh directory of ours (teardown removed any earlier one), never one found.
  mkdirSync(dir, { mode: 0o700 });
  let record: HostRecord = {
    version: 1,
    name,
    n,
    kind: settings.kind,
    netns: netnsName(paths.hash, n),
    veth: vethName(net, n),
    address: hostAddress(net, n),
    ...(settings.kind === 'systemd' ? { machine: machineName(paths.hash, n) } : {}),
    processes: [],
  };
  writeRecord(paths, record);
  await createNetwork(record, net, n, paths.hash);
  interrupt.check();
  await run([
    'ssh-keygen',
    '-q',
    '-t',
    'ed25519',
    '-N',
    '',
    '-C',
    name,
    '-f',
    join(dir, HOST_KEY_FILE),
  ]);
  interrupt.check();
  if (root) {
    const boot = await startSystemdHost(paths, record, publicKey, root);
    record = boot.record;
    if (boot.state === 'degraded') {
      notes.push(
        `${name}: systemd is degraded; failed units: ${boot.failedUnits.join(', ') || '(none listed)'}`,
      );
    }
  } else {
    record = await startLightHost(
      paths,
      record,
      publicKey,
      () => interrupt.signal !== undefined,
      start.ebpf,
    );
  }
  interrupt.check();
  const answered = await waitUntil(
    async () => interrupt.signal !== undefined || (await sshBanner(record.address)),
    SSH_TIMEOUT_MS,
    100,
  );
  interrupt.check();
  if (!answered) {
    throw new SvcError(`${name}: sshd on ${record.address}:22 did not answer`);
  }
  return record;
}

/** Run `task` over `items`, at most `limit` at a time; every result is collected. */
async function pool<T, R>(items: readonly T[], limit: number, task: (item: T) => Promise<R>) {
  const results: PromiseSettledResult<R>[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) {
      try {
        results[i] = { status: 'fulfilled', value: await task(items[i]!) };
      } catch (reason) {
        results[i] = { status: 'rejected', reason };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

function writeInventory(
  paths: SandboxPaths,
  settings: SandboxSettings,
  records: readonly HostRecord[],
): SandboxInventory {
  const hosts: SandboxHost[] = records.map((record) =>
    inventoryHost(record, settings.user, paths.key),
  );
  const lines = records.map((record) =>
    knownHostsLine(
      record.address,
      readFileSync(join(hostDir(paths, record.name), `${HOST_KEY_FILE}.pub`), 'utf8'),
    ),
  );
  writeFileAtomic(paths.knownHosts, lines.map((line) => `${line}\n`).join(''), 0o644);
  const inventory = buildInventory(settings.net, paths.knownHosts, hosts);
  writeFileAtomic(paths.inventory, `${JSON.stringify(inventory, null, 2)}\n`, 0o644);
  return inventory;
}

export async function upSandbox(stateDir: string, request: UpRequest): Promise<UpResult> {
  requireRoot();
  requireTools(request.kind);
  const started = performance.now();
  const paths = openStateDir(stateDir, true)!;
  const release = acquireLock(paths);
  const interrupt = catchInterrupts();
  try {
    return await upLocked(paths, request, started, interrupt);
  } finally {
    interrupt.dispose();
    release();
  }
}

/** Tear down the hosts this `up` started (by their records, wherever they got to). */
async function removeStarted(
  paths: SandboxPaths,
  settings: SandboxSettings,
  numbers: readonly number[],
): Promise<void> {
  const records = new Map(readRecords(paths).map((entry) => [entry.name, entry.record]));
  await Promise.all(
    numbers.map((n) => {
      const name = hostName(n);
      return teardownHost(paths, { name, record: records.get(name) }, settings);
    }),
  );
}

async function upLocked(
  paths: SandboxPaths,
  request: UpRequest,
  started: number,
  interrupt: Interrupt,
): Promise<UpResult> {
  const entries = readRecords(paths);
  const previous = readSettings(paths);
  const decided = decideSettings(previous, request, entries.length > 0, paths.dir);
  const net = parseNet(decided.net, request.net === undefined ? 'net' : '--net');
  const key = await ensureClientKey(paths, previous?.key);
  const settings: SandboxSettings = { ...decided, key: key.fingerprint };
  writeSettings(paths, settings);

  const listed = new Set(readInventory(paths, false)?.hosts.map((host) => host.name));
  const existing = entries.map(({ name, record }) => ({
    n: hostNumber(name)!,
    record,
    healthy:
      listed.has(name) &&
      record !== undefined &&
      record.processes.length > 0 &&
      record.processes.every(isAlive),
  }));
  const plan = planHosts(request.count, existing);
  for (const n of plan.replace) {
    const { problems } = await teardownHost(
      paths,
      { name: hostName(n), record: existing.find((e) => e.n === n)?.record },
      settings,
    );
    if (problems.length > 0) throw new SvcError(problems.join('\n'));
  }
  const toStart = [...plan.replace, ...plan.create].sort((x, y) => x - y);
  const kept = existing.filter((e) => plan.keep.includes(e.n)).map((e) => e.record!);
  let root: string | undefined;
  let failure: unknown;
  let added: HostRecord[] = [];
  try {
    interrupt.check();
    await checkSubnetsFree(net, toStart);
    if (settings.kind === 'systemd' && toStart.length > 0) root = await ensureRootBind(paths.hash);
    const notes: string[] = [];
    const results = await pool(toStart, PARALLEL, (n) =>
      startHost(
        paths,
        settings,
        net,
        n,
        { root, publicKey: key.publicKey, interrupt, ebpf: request.ebpf },
        notes,
      ),
    );
    failure = results.find((result) => result.status === 'rejected')?.reason;
    if (failure === undefined) {
      added = results.map((result) => (result as PromiseFulfilledResult<HostRecord>).value);
      interrupt.check();
      const inventory = writeInventory(
        paths,
        settings,
        [...kept, ...added].sort((x, y) => x.n - y.n),
      );
      return {
        stateDir: paths.dir,
        inventory,
        added: added.map((record) => record.name),
        kept: kept.map((record) => record.name),
        elapsedMs: performance.now() - started,
        notes,
      };
    }
  } catch (error) {
    failure = error;
  }
  // Leave no half of this `up` behind: remove every host it started, then report the first error
  // (or the interruption, whichever error a host start happened to see first).
  await removeStarted(paths, settings, toStart);
  if (existsSync(paths.inventory)) writeInventory(paths, settings, kept);
  if (root && kept.length === 0) await releaseRootBind(paths.hash);
  if (interrupt.signal) throw interrupted(interrupt.signal);
  throw failure;
}
