// Real sandbox hosts for tests, through the real CLI (bin/svc, so dist/ must be built).
//
//   let sbx: Sandbox;
//   beforeAll(async () => { sbx = await startSandbox({ count: 2 }); });
//   afterAll(() => sbx?.down());
//
// Each call gets its own state directory (mkdtemp) and a random private /16, so test files
// running in parallel never share a host, a namespace or a subnet; a /16 that another sandbox
// holds is detected by `up` (route or interface already there) and another is drawn.
// Needs root and the Debian packages in .ci/run; `sandboxSupport()` says why not, for skipIf.
import { execFile, spawnSync } from 'node:child_process';
import { randomInt } from 'node:crypto';
import {
  accessSync,
  constants,
  existsSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  parseSandboxInventory,
  SANDBOX_INVENTORY_FILE,
  type SandboxHost,
  type SandboxInventory,
} from '../../src/core/sandbox-inventory.js';
import { installOpenrc } from './openrc.js';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
export const SVC = join(REPO, 'bin', 'svc');

export interface SandboxOptions {
  count: number;
  systemd?: boolean;
  /** Light hosts made OpenRC hosts (Debian's OpenRC unpacked into them; see openrc.ts). */
  openrc?: boolean;
  /** The login user written to the inventory (default deploy). */
  user?: 'root' | 'deploy';
  /** Light hosts whose root may load eBPF tracing programs (`svc sandbox up --ebpf`). */
  ebpf?: boolean;
}

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface Sandbox {
  stateDir: string;
  /** The /16 prefix its hosts use, e.g. 10.187. */
  net: string;
  inventory: SandboxInventory;
  /** process.env plus SVC_SANDBOX_DIR: pass it to bin/svc so `sandbox` / sbx-N resolve here. */
  env: NodeJS.ProcessEnv;
  host(name: string): SandboxHost;
  /** argv for the real OpenSSH client: sandbox key, sandbox known_hosts, strict checking. */
  sshArgs(name: string, user?: string): string[];
  /** Run a shell command on a host with the real ssh client (user defaults to the inventory's). */
  ssh(name: string, command: string, options?: { user?: string; input?: string }): CommandResult;
  /** bin/svc with this sandbox's env. */
  svc(args: readonly string[]): Promise<CommandResult>;
  /** Re-read inventory.json (after `svc sandbox up` grew the sandbox, say). */
  reload(): SandboxInventory;
  /** `svc sandbox down`; safe to call twice; throws if anything could not be removed. */
  down(): Promise<void>;
}

/** undefined when sandbox tests can run here; else the reason, for describe.skipIf. */
export function sandboxSupport(): string | undefined {
  if (process.getuid?.() !== 0) return 'sandbox tests need root';
  if (!existsSync(join(REPO, 'dist', 'bundle', 'svc.mjs')))
    return 'dist/ is missing: npm run build';
  for (const tool of ['/usr/sbin/sshd', '/usr/bin/monit', '/usr/bin/ssh', '/usr/bin/unshare']) {
    try {
      accessSync(tool, constants.X_OK);
    } catch {
      return `${tool} is missing (see .ci/run)`;
    }
  }
  return undefined;
}

/** Polls until `check` passes, every 250 ms, for at most `seconds`; whether it did. */
export async function eventually(check: () => boolean, seconds: number): Promise<boolean> {
  for (let waited = 0; waited < seconds * 4; waited++) {
    if (check()) return true;
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
  return check();
}

export function runSvc(args: readonly string[], env: NodeJS.ProcessEnv): Promise<CommandResult> {
  return new Promise((resolve) => {
    execFile(
      SVC,
      [...args],
      { env: { ...env, NO_COLOR: '1', SVC_DEBUG: '' }, encoding: 'utf8', timeout: 180_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** A /16 unlikely to be taken: 10.128-254, never the default 10.231 a user's own sandbox uses. */
export function drawNet(): string {
  for (;;) {
    const b = randomInt(128, 255);
    if (b !== 231) return `10.${b}`;
  }
}

/**
 * `svc ARGS --net NET` (a `sandbox up`) on a drawn net, drawn again (6 tries in all) while the
 * net is taken by another test file's sandbox running beside this one: up refuses at once then.
 */
export async function upOnFreeNet(
  args: readonly string[],
  env: NodeJS.ProcessEnv,
): Promise<{ net: string; result: CommandResult }> {
  for (let attempt = 1; ; attempt++) {
    const net = drawNet();
    const result = await runSvc([...args, '--net', net], env);
    if (result.code === 0 || !/already (routed|used)/.test(result.stderr) || attempt === 6)
      return { net, result };
  }
}

export async function startSandbox(options: SandboxOptions): Promise<Sandbox> {
  const stateDir = mkdtempSync(join(tmpdir(), 'svc-sandbox-test-'));
  const env: NodeJS.ProcessEnv = { ...process.env, SVC_SANDBOX_DIR: stateDir };
  const base = ['sandbox', 'up', String(options.count), '--state-dir', stateDir];
  if (options.systemd) base.push('--systemd');
  if (options.user) base.push('--user', options.user);
  if (options.ebpf) base.push('--ebpf', '--light');
  const { net, result } = await upOnFreeNet(base, env);
  let downDone = false;
  const down = async () => {
    if (downDone) return;
    const res = await runSvc(['sandbox', 'down', '--state-dir', stateDir], env);
    if (res.code !== 0) throw new Error(`svc sandbox down failed: ${res.stderr.trim()}`);
    downDone = true;
    rmSync(stateDir, { recursive: true, force: true });
  };
  if (result.code !== 0) {
    await down().catch(() => undefined);
    throw new Error(`svc sandbox up failed: ${result.stderr.trim()}`);
  }
  let inventory = readInventoryFile(stateDir);
  const host = (name: string) => {
    const found = inventory.hosts.find((h) => h.name === name);
    if (!found) throw new Error(`no sandbox host ${name}`);
    return found;
  };
  const sshArgs = (name: string, user?: string) => sshArgv(inventory, host(name), user);
  const sandbox: Sandbox = {
    stateDir,
    net,
    get inventory() {
      return inventory;
    },
    env,
    host,
    sshArgs,
    ssh(name, command, opts = {}) {
      const [file, ...args] = sshArgs(name, opts.user);
      const res = spawnSync(file!, [...args, command], {
        encoding: 'utf8',
        input: opts.input ?? '',
        timeout: 60_000,
      });
      return { code: res.status ?? -1, stdout: res.stdout, stderr: res.stderr };
    },
    svc: (args) => runSvc(args, env),
    reload() {
      inventory = readInventoryFile(stateDir);
      return inventory;
    },
    down,
  };
  if (options.openrc) {
    try {
      installOpenrc(sandbox);
    } catch (error) {
      await down().catch(() => undefined);
      throw error;
    }
  }
  return sandbox;
}

export function readInventoryFile(stateDir: string): SandboxInventory {
  const file = join(stateDir, SANDBOX_INVENTORY_FILE);
  return parseSandboxInventory(readFileSync(file, 'utf8'), file);
}

export function sshArgv(inventory: SandboxInventory, host: SandboxHost, user?: string): string[] {
  return [
    'ssh',
    '-F',
    'none',
    '-i',
    host.keyFile,
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    `UserKnownHostsFile=${inventory.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-o',
    'BatchMode=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
    `${user ?? host.user}@${host.address}`,
  ];
}

// ---- What a sandbox leaves behind: for tests that check `down`. ----

interface RecordedProcess {
  pid: number;
  start: string;
  role: string;
}

export interface SandboxSnapshot {
  stateDir: string;
  /** The tag in this sandbox's namespace names and link aliases. */
  hash: string;
  processes: RecordedProcess[];
  /** Every process inside one of the hosts' network namespaces, found by the test. */
  inside: RecordedProcess[];
}

function startTime(pid: number): { start: string; state: string } | undefined {
  try {
    const text = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = text.slice(text.lastIndexOf(')') + 2).split(' ');
    return { state: fields[0]!, start: fields[19]! };
  } catch {
    return undefined;
  }
}

export function isRunning(p: RecordedProcess): boolean {
  const now = startTime(p.pid);
  return now !== undefined && now.start === p.start && now.state !== 'Z' && now.state !== 'X';
}

/** Processes whose network namespace is `netns` (a test's view; svc itself never scans). */
export function processesInNetns(netns: string): RecordedProcess[] {
  let inode: number;
  try {
    inode = statSync(`/run/netns/${netns}`).ino;
  } catch {
    return [];
  }
  const found: RecordedProcess[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/ns/net`) !== `net:[${inode}]`) continue;
    } catch {
      continue;
    }
    const stat = startTime(Number(entry));
    if (stat) found.push({ pid: Number(entry), start: stat.start, role: 'inside' });
  }
  return found;
}

/** Read every record (not just inventory.json) before `down`, to check afterwards. */
export function snapshotSandbox(stateDir: string): SandboxSnapshot {
  const hostsDir = join(stateDir, 'hosts');
  const processes: RecordedProcess[] = [];
  const inside: RecordedProcess[] = [];
  let hash = '';
  for (const name of existsSync(hostsDir) ? readdirSync(hostsDir) : []) {
    const file = join(hostsDir, name, 'record.json');
    if (!existsSync(file)) continue;
    const record = JSON.parse(readFileSync(file, 'utf8')) as {
      netns: string;
      processes: RecordedProcess[];
    };
    processes.push(...record.processes);
    inside.push(...processesInNetns(record.netns));
    hash = /^svc-([0-9a-f]{8})-/.exec(record.netns)?.[1] ?? hash;
  }
  return { stateDir, hash, processes, inside };
}

/** Everything of the sandbox still on the machine; [] when `down` left nothing. */
export function leftovers(snapshot: SandboxSnapshot): string[] {
  const found: string[] = [];
  const netns = spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout;
  for (const line of netns.split('\n')) {
    if (snapshot.hash && line.startsWith(`svc-${snapshot.hash}-`)) found.push(`netns ${line}`);
  }
  const links = spawnSync('ip', ['-j', 'link', 'show', 'type', 'veth'], { encoding: 'utf8' });
  for (const link of JSON.parse(links.stdout || '[]') as { ifname: string; ifalias?: string }[]) {
    if (snapshot.hash && link.ifalias === `svc-sandbox:${snapshot.hash}`) {
      found.push(`link ${link.ifname}`);
    }
  }
  for (const line of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const rootBind = snapshot.hash && line.includes(`/run/svc-sandbox-root/${snapshot.hash}`);
    if (line.includes(snapshot.stateDir) || rootBind) {
      found.push(`mount ${line}`);
    }
  }
  for (const p of [...snapshot.processes, ...snapshot.inside]) {
    if (isRunning(p)) found.push(`process ${p.pid} (${p.role})`);
  }
  if (existsSync(snapshot.stateDir)) found.push(`state ${snapshot.stateDir}`);
  return found;
}
