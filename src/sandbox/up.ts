// `svc sandbox up`: decide (plan-up.ts), then start the missing hosts in parallel, and only when
// every one answers SSH write known_hosts and inventory.json. A failed `up` removes the hosts it
// started; a killed one leaves records that `down` (or the next `up`) cleans.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SvcError } from '../core/errors.js';
import type { SandboxHost, SandboxInventory } from '../core/sandbox-inventory.js';
import { buildInventory, HOST_KEY_FILE, inventoryHost, knownHostsLine } from './files.js';
import { startLightHost } from './light.js';
import {
  hostAddress,
  hostName,
  hostNumber,
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

async function ensureClientKey(paths: SandboxPaths): Promise<void> {
  if (existsSync(paths.key) && existsSync(`${paths.key}.pub`)) return;
  await run(['ssh-keygen', '-q', '-t', 'ed25519', '-N', '', '-C', 'svc-sandbox', '-f', paths.key]);
}

async function startHost(
  paths: SandboxPaths,
  settings: SandboxSettings,
  net: Net,
  n: number,
  root: string | undefined,
  notes: string[],
): Promise<HostRecord> {
  const name = hostName(n);
  const dir = hostDir(paths, name);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
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
  if (root) {
    const boot = await startSystemdHost(paths, record, `${paths.key}.pub`, root);
    record = boot.record;
    if (boot.state === 'degraded') {
      notes.push(
        `${name}: systemd is degraded; failed units: ${boot.failedUnits.join(', ') || '(none listed)'}`,
      );
    }
  } else {
    record = await startLightHost(paths, record, `${paths.key}.pub`);
  }
  if (!(await waitUntil(() => sshBanner(record.address), SSH_TIMEOUT_MS, 100))) {
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
  try {
    const entries = readRecords(paths);
    const settings = decideSettings(readSettings(paths), request, entries.length > 0, paths.dir);
    const net = parseNet(settings.net, request.net === undefined ? 'net' : '--net');
    writeSettings(paths, settings);
    await ensureClientKey(paths);

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
      const problems = await teardownHost(
        paths,
        { name: hostName(n), record: existing.find((e) => e.n === n)?.record },
        settings,
      );
      if (problems.length > 0) throw new SvcError(problems.join('\n'));
    }
    const toStart = [...plan.replace, ...plan.create].sort((x, y) => x - y);
    await checkSubnetsFree(net, toStart);
    const root =
      settings.kind === 'systemd' && toStart.length > 0
        ? await ensureRootBind(paths.hash)
        : undefined;
    const notes: string[] = [];
    const results = await pool(toStart, PARALLEL, (n) =>
      startHost(paths, settings, net, n, root, notes),
    );
    const failure = results.find((result) => result.status === 'rejected');
    const kept = existing.filter((e) => plan.keep.includes(e.n)).map((e) => e.record!);
    if (failure) {
      // Leave no half of this `up` behind: remove every host it started, then report the first error.
      const records = new Map(readRecords(paths).map((entry) => [entry.name, entry.record]));
      await Promise.all(
        toStart.map((n) => {
          const name = hostName(n);
          return teardownHost(paths, { name, record: records.get(name) }, settings);
        }),
      );
      if (existsSync(paths.inventory)) writeInventory(paths, settings, kept);
      if (root && kept.length === 0) await releaseRootBind(paths.hash);
      throw failure.reason;
    }
    const added = results.map((result) => (result as PromiseFulfilledResult<HostRecord>).value);
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
  } finally {
    release();
  }
}
