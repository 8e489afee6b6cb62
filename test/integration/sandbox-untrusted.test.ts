// svc sandbox runs as root, so its state directory is untrusted input: a tampered record, a link
// in hosts/, a directory another user can write or a key svc did not make must never let `down`
// end or delete anything outside the sandbox, nor let `up` hand out root. And an `up` interrupted
// with SIGINT or SIGTERM removes the hosts it had started. Real hosts through the real bin/svc;
// every victim (a process, a directory, a network namespace) is the test's own.
//
// Needs root, a built dist/ and the packages in .ci/run. SVC_SKIP_SANDBOX=1 skips it.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  chmodSync,
  chownSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  drawNet,
  upOnFreeNet,
  isRunning,
  leftovers,
  runSvc,
  sandboxSupport,
  snapshotSandbox,
  startSandbox,
  SVC,
  type Sandbox,
} from '../helpers/sandbox.js';

const skip = process.env.SVC_SKIP_SANDBOX === '1';

interface Victim {
  pid: number;
  start: string;
  boot: string;
}

function identify(pid: number): Victim {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const start = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]!;
  const boot = readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
  return { pid, start, boot };
}

const alive = (v: Victim) => isRunning({ ...v, role: 'victim' });

/** A `sleep` the test owns, started outside any sandbox (or in `netns`), ended by its pid. */
async function startVictim(netns?: string): Promise<{ child: ChildProcess; victim: Victim }> {
  const argv = netns ? ['ip', 'netns', 'exec', netns, 'sleep', '600'] : ['sleep', '600'];
  const child = spawn(argv[0]!, argv.slice(1), { stdio: 'ignore' });
  // ip netns exec execs sleep in place: the pid stays, wait until it is sleep.
  for (let i = 0; i < 100; i++) {
    const comm = readFileSync(`/proc/${child.pid}/comm`, 'utf8').trim();
    if (comm === 'sleep') break;
    await sleep(20);
  }
  return { child, victim: identify(child.pid!) };
}

function victimDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'svc-victim-'));
  writeFileSync(join(dir, 'marker'), 'keep me\n');
  mkdirSync(join(dir, 'empty-subdir'));
  mkdirSync(join(dir, 'sbx-1'));
  writeFileSync(join(dir, 'sbx-1', 'marker'), 'keep me too\n');
  return dir;
}

function intact(dir: string): boolean {
  return (
    readFileSync(join(dir, 'marker'), 'utf8') === 'keep me\n' &&
    existsSync(join(dir, 'empty-subdir')) &&
    readFileSync(join(dir, 'sbx-1', 'marker'), 'utf8') === 'keep me too\n'
  );
}

function editRecord(
  stateDir: string,
  name: string,
  edit: (record: Record<string, unknown>) => void,
) {
  const file = join(stateDir, 'hosts', name, 'record.json');
  const record = JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  edit(record);
  writeFileSync(file, JSON.stringify(record));
}

describe.skipIf(skip)('svc sandbox down: a tampered state directory', () => {
  let sbx: Sandbox;
  const victimNetns = `svc-victim-${randomBytes(4).toString('hex')}`;
  const children: ChildProcess[] = [];
  const dirs: string[] = [];

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    sbx = await startSandbox({ count: 2 });
    expect(spawnSync('ip', ['netns', 'add', victimNetns]).status).toBe(0);
  });

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL'); // by pid, only if not reaped yet
    spawnSync('ip', ['netns', 'del', victimNetns]);
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
    await sbx?.down();
  });

  it('ends and removes only its own: records naming another netns, a ../ machine, an outside pid', async () => {
    const outside = await startVictim();
    const inVictimNetns = await startVictim(victimNetns);
    children.push(outside.child, inVictimNetns.child);
    const dir = victimDir();
    dirs.push(dir);
    const snapshot = snapshotSandbox(sbx.stateDir);
    // sbx-1: its namespace names another one by path traversal; a systemd machine name that
    // climbs out of /run/systemd/nspawn/propagate and out of the cgroup tree to the victim.
    editRecord(sbx.stateDir, 'sbx-1', (record) => {
      record.netns = `../../run/netns/${victimNetns}`;
      record.machine = `../../../../../../..${dir}`;
    });
    // sbx-2: a process the test started outside, recorded with its real pid, start time, boot id.
    editRecord(sbx.stateDir, 'sbx-2', (record) => {
      (record.processes as object[]).push({ ...outside.victim, role: 'sshd' });
    });

    const result = await sbx.svc(['sandbox', 'down', '--state-dir', sbx.stateDir]);

    expect(alive(outside.victim)).toBe(true);
    expect(alive(inVictimNetns.victim)).toBe(true);
    expect(intact(dir)).toBe(true);
    expect(spawnSync('ip', ['netns', 'list'], { encoding: 'utf8' }).stdout).toContain(victimNetns);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(result.stdout).toContain(
      `sbx-2: the record names pid ${outside.victim.pid} (sshd), which is not a process of this sandbox; left alone`,
    );
    // Its own hosts are gone all the same.
    expect(leftovers(snapshot)).toEqual([]);
  });
});

describe.skipIf(skip)('svc sandbox: links in the state directory are never followed', () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it.each([
    [
      'hosts/ a link to the victim',
      (state: string, victim: string) => symlinkSync(victim, join(state, 'hosts')),
    ],
    [
      'hosts/sbx-1 a link to the victim',
      (state: string, victim: string) => {
        mkdirSync(join(state, 'hosts'), { mode: 0o700 });
        symlinkSync(join(victim, 'sbx-1'), join(state, 'hosts', 'sbx-1'));
      },
    ],
  ])('%s: down refuses in one line and deletes nothing', async (_, plant) => {
    const sandboxSupported = sandboxSupport();
    if (sandboxSupported) throw new Error(sandboxSupported);
    const state = mkdtempSync(join(tmpdir(), 'svc-sandbox-test-'));
    const victim = victimDir();
    dirs.push(state, victim);
    plant(state, victim);
    for (const command of ['down', 'up']) {
      const args = command === 'up' ? ['--net', drawNet()] : [];
      const result = await runSvc(['sandbox', command, '--state-dir', state, ...args], process.env);
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(
        /^svc: error: \S+\/hosts(\/sbx-1)? is not a directory \(a link\?\): svc never follows a link in its state directory; remove it\n$/,
      );
      expect(intact(victim)).toBe(true);
      expect(readdirSync(victim).sort()).toEqual(['empty-subdir', 'marker', 'sbx-1']);
    }
  });
});

describe.skipIf(skip)('svc sandbox: a state directory another user could change', () => {
  const dirs: string[] = [];
  afterAll(async () => {
    for (const dir of dirs) {
      // Whatever an old svc may have started there, ended by svc itself.
      chmodSync(dir, 0o700);
      chownSync(dir, 0, 0);
      await runSvc(['sandbox', 'down', '--state-dir', dir], process.env);
      rmSync(dir, { recursive: true, force: true });
    }
  });

  const fresh = () => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-sandbox-test-'));
    dirs.push(dir);
    return dir;
  };

  it.each([
    [
      'mode 0777',
      (dir: string) => chmodSync(dir, 0o777),
      (dir: string) =>
        `svc: error: state directory ${dir} is open to other users (mode 0777): chmod 700 it, or choose another --state-dir\n`,
    ],
    [
      'owned by nobody',
      (dir: string) => chownSync(dir, 65534, 65534),
      (dir: string) =>
        `svc: error: state directory ${dir} is owned by uid 65534, not by you (uid 0): svc sandbox runs as root and acts on what is in it; choose another --state-dir\n`,
    ],
  ])('%s: up and down refuse in one line, and up creates nothing', async (_, spoil, message) => {
    const dir = fresh();
    spoil(dir);
    for (const args of [['up', '--net', drawNet()], ['down']]) {
      const result = await runSvc(
        ['sandbox', args[0]!, '--state-dir', dir, ...args.slice(1)],
        process.env,
      );
      expect(result).toMatchObject({ code: 1, stderr: message(dir) });
    }
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a parent directory others can write (and no sticky bit): refused', async () => {
    const parent = fresh();
    chmodSync(parent, 0o777);
    const dir = join(parent, 'state');
    const result = await runSvc(
      ['sandbox', 'up', '--state-dir', dir, '--net', drawNet()],
      process.env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `svc: error: state directory ${dir}: ${parent} above it is writable by other users (mode 0777), who could replace it: svc sandbox runs as root and acts on what is in it; choose another --state-dir\n`,
    );
  });

  it('a key svc did not create is refused, not given root on the hosts', async () => {
    const dir = fresh();
    const planted = join(dir, 'id_ed25519');
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', planted]).status).toBe(
      0,
    );
    const before = readFileSync(planted, 'utf8');
    const result = await runSvc(
      ['sandbox', 'up', '--state-dir', dir, '--net', drawNet()],
      process.env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      `svc: error: ${planted}: no fingerprint of it is recorded in ${join(dir, 'sandbox.json')}; svc uses only a key it created: remove it and its .pub, or run svc sandbox down\n`,
    );
    expect(existsSync(join(dir, 'hosts'))).toBe(false);
    expect(readFileSync(planted, 'utf8')).toBe(before);
  });

  it('a key swapped after up is refused by the next up', async () => {
    const dir = fresh();
    const { net, result: up } = await upOnFreeNet(
      ['sandbox', 'up', '--state-dir', dir],
      process.env,
    );
    expect(up.code, up.stderr).toBe(0);
    const key = join(dir, 'id_ed25519');
    rmSync(key);
    rmSync(`${key}.pub`);
    expect(spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key]).status).toBe(0);
    const result = await runSvc(
      ['sandbox', 'up', '2', '--state-dir', dir, '--net', net],
      process.env,
    );
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(
        `^svc: error: ${key}: its fingerprint SHA256:\\S+ is not the recorded SHA256:\\S+; svc uses only a key it created`,
      ),
    );
    expect(existsSync(join(dir, 'hosts', 'sbx-2'))).toBe(false);
  });
});

describe.skipIf(skip)('svc sandbox up: interrupted midway', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)(
    '%s tears down the hosts it started: no namespace, mount or process left',
    async (signal) => {
      const unsupported = sandboxSupport();
      if (unsupported) throw new Error(unsupported);
      const stateDir = mkdtempSync(join(tmpdir(), 'svc-sandbox-test-'));
      try {
        // A net drawn at random may be taken by another test's sandbox running beside this one:
        // `up` then refuses at once, before any host. Draw again (3 tries), never on a signal.
        let up!: ReturnType<typeof spawn>;
        let stderr = '';
        let exited!: Promise<number | null>;
        const refusals: string[] = [];
        // Midway: a host has processes running but `up` is not done.
        const running = () => {
          try {
            return snapshotSandbox(stateDir).processes.length > 0;
          } catch {
            return false;
          }
        };
        // Bounded by time, not by tries: on a loaded machine the first host takes seconds.
        let caught = false;
        const until = Date.now() + 20_000;
        for (let attempt = 0; attempt < 3 && !caught && Date.now() < until; attempt++) {
          const net = drawNet();
          up = spawn(SVC, ['sandbox', 'up', '8', '--state-dir', stateDir, '--net', net], {
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          stderr = '';
          up.stderr!.on('data', (data: Buffer) => (stderr += data.toString()));
          const child = up;
          exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
          while (!caught && up.exitCode === null && Date.now() < until) {
            caught = running();
            if (!caught) await sleep(2);
          }
          if (!caught && up.exitCode !== null) refusals.push(`${net}: ${stderr.trim()}`);
        }
        expect(caught, refusals.join('\n')).toBe(true);
        const snapshot = snapshotSandbox(stateDir);
        expect(up.exitCode).toBeNull(); // still starting hosts
        up.kill(signal);
        // Whatever it recorded after the snapshot is checked through the hash (netns, links).
        expect(await exited).toBe(130);
        expect(stderr).toBe(
          `svc: ${signal}: removing the hosts this up started...\nsvc: interrupted\n`,
        );
        expect(snapshot.hash).toMatch(/^[0-9a-f]{8}$/);
        expect(leftovers(snapshot).filter((line) => !line.startsWith('state '))).toEqual([]);
        expect(readdirSync(join(stateDir, 'hosts'))).toEqual([]);
      } finally {
        await runSvc(['sandbox', 'down', '--state-dir', stateDir], process.env);
        rmSync(stateDir, { recursive: true, force: true });
      }
    },
  );
});

// `svc deploy sandbox` reads inventory.json too: a planted one must not point svc at a key or a
// known_hosts file someone else wrote (a known_hosts with the attacker's key would "verify" the
// attacker's host), and a state directory others can change is refused as `up` refuses it.
describe.skipIf(skip)(
  'the group sandbox: inventory.json is trusted only as up and down trust it',
  () => {
    let sbx: Sandbox;
    let project: string;
    let scratch: string;
    beforeAll(async () => {
      sbx = await startSandbox({ count: 1 });
      scratch = mkdtempSync(join(tmpdir(), 'svc-planted-'));
      project = join(scratch, 'api-planted');
      const made = await runSvc(
        [
          'new',
          'api-planted',
          '--yes',
          '--cutover',
          'restart',
          '--init',
          'monit',
          '--dir',
          project,
        ],
        process.env,
      );
      expect(made.code).toBe(0);
    }, 120_000);
    afterAll(async () => {
      if (scratch !== undefined) rmSync(scratch, { recursive: true, force: true });
      await sbx?.down();
    });

    it('keyFile and knownHostsFile are the state directory own, whatever inventory.json says', async () => {
      const inventoryFile = join(sbx.stateDir, 'inventory.json');
      const original = readFileSync(inventoryFile, 'utf8');
      const plantedKey = join(scratch, 'planted_key');
      expect(
        spawnSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', plantedKey]).status,
      ).toBe(0);
      // The planted known_hosts vouches for the attacker's key at the sandbox host's address.
      const host = sbx.host('sbx-1');
      const plantedKnownHosts = join(scratch, 'planted_known_hosts');
      const attackerKey = readFileSync(`${plantedKey}.pub`, 'utf8')
        .split(' ')
        .slice(0, 2)
        .join(' ');
      writeFileSync(plantedKnownHosts, `${host.address} ${attackerKey}\n`);
      const planted = JSON.parse(original) as {
        knownHostsFile: string;
        hosts: { keyFile: string }[];
      };
      planted.knownHostsFile = plantedKnownHosts;
      for (const entry of planted.hosts) entry.keyFile = plantedKey;
      writeFileSync(inventoryFile, JSON.stringify(planted));
      try {
        // With the planted files the host's real key would not match and the planted key would
        // not log in: the plan works only because svc used the sandbox's own key and known_hosts.
        const result = await runSvc(['plan', 'sandbox', '--dir', project], sbx.env);
        expect(result.stderr).toBe('');
        expect(result.code).toBe(0);
        expect(result.stdout).toContain('sbx-1');
      } finally {
        writeFileSync(inventoryFile, original);
      }
    });

    it('a state directory open to other users is refused in one line, before any connection', async () => {
      chmodSync(sbx.stateDir, 0o755);
      try {
        const result = await runSvc(['plan', 'sandbox', '--dir', project], sbx.env);
        expect(result).toMatchObject({
          code: 1,
          stdout: '',
          stderr: `svc: error: state directory ${sbx.stateDir} is open to other users (mode 0755): chmod 700 it, or choose another --state-dir\n`,
        });
      } finally {
        chmodSync(sbx.stateDir, 0o700);
      }
    });
  },
);
