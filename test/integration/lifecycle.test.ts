// The lifecycle commands on a real sandbox host (init: monit): status, stop with killproc
// semantics on a process that ignores TERM, start, restart, logs (and -f: streamed in bounded
// memory, ended by Ctrl-C or svc's death with nothing left on the host), releases, rollback, unlock.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import type { Readable } from 'node:stream';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { holdLock, lockState } from '../helpers/lock.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });

const LOG = '/var/log/api-orders/api-orders.log';

/** Like onHost, without blocking the event loop: a running `svc logs -f` is read meanwhile. */
function onHostAsync(command: string): Promise<string> {
  const [file, ...args] = sbx.sshArgs('sbx-1', 'root');
  return new Promise((resolve, reject) =>
    execFile(file!, [...args, command], { maxBuffer: 1 << 20 }, (error, stdout, stderr) =>
      error ? reject(new Error(`${command}: ${stderr}`)) : resolve(stdout),
    ),
  );
}

/** The service user's tail processes on the host, and the -f watcher (pgrep prints nothing). */
const followersOnHost = () =>
  sbx.ssh('sbx-1', "pgrep -u api-orders -x tail; pgrep -f 'cat >/dev/null; kill'", { user: 'root' })
    .stdout;

interface Follower {
  pid: number;
  /** Bytes received so far on stdout; only the last 4 KiB are kept, as `tail`. */
  bytes: number;
  tail: string;
  /** Whether the line END-OF-FLOOD came through. */
  floodEnded: boolean;
  stderr: string;
  /** The largest VmRSS of the svc process seen, in kB, sampled every 100 ms. */
  maxRssKb: number;
  /** VmRSS when the first output arrived (node loaded, connection open). */
  startRssKb: number;
  exited: Promise<number | null>;
  stdout: Readable;
}

function vmRssKb(pid: number): number {
  try {
    return Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);
  } catch {
    return 0;
  }
}

/** Followers a failed test left running: killed after each test. */
const running = new Set<ChildProcess>();

/** `svc logs sandbox -f -n 1`, consumed as fast as it comes, counting, never collecting. */
function follow(): Follower {
  const child = spawn(SVC, ['logs', 'sandbox', '-f', '-n', '1', '--dir', project], {
    env: { ...sbx.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  child.once('close', () => running.delete(child));
  const follower: Follower = {
    pid: child.pid!,
    bytes: 0,
    tail: '',
    floodEnded: false,
    stderr: '',
    maxRssKb: 0,
    startRssKb: 0,
    exited: new Promise((resolve) => child.once('close', (code) => resolve(code))),
    stdout: child.stdout,
  };
  const sampler = setInterval(() => {
    follower.maxRssKb = Math.max(follower.maxRssKb, vmRssKb(follower.pid));
  }, 100);
  void follower.exited.then(() => clearInterval(sampler));
  child.stdout.on('data', (chunk: Buffer) => {
    if (follower.bytes === 0) follower.startRssKb = vmRssKb(follower.pid);
    follower.bytes += chunk.length;
    const text = follower.tail.slice(-64) + chunk.toString('latin1');
    follower.floodEnded ||= text.includes('sbx-1 | END-OF-FLOOD\n');
    follower.tail = (follower.tail + chunk.toString('latin1')).slice(-4096);
  });
  child.stderr.on('data', (chunk: Buffer) => (follower.stderr += chunk.toString()));
  return follower;
}

async function until(check: () => boolean, seconds: number, what: string): Promise<void> {
  const deadline = Date.now() + seconds * 1000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

function onHost(command: string): string {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

interface Status {
  hosts: {
    host: string;
    release: string;
    running: boolean;
    pid?: number;
    health?: number;
    monit?: string;
  }[];
}

async function status() {
  const result = await svc(['status', 'sandbox', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as Status).hosts[0]!;
}

/** A project whose server ignores TERM, with a 3 s stop timeout everywhere it is written down. */
function ignoreTerm(dir: string): void {
  const edit = (path: string, from: string | RegExp, to: string) => {
    const file = join(dir, path);
    const text = readFileSync(file, 'utf8');
    const changed = text.replace(from, to);
    expect(changed).not.toBe(text);
    writeFileSync(file, changed);
  };
  edit(
    'server.js',
    /process\.on\('SIGTERM', \(\) => \{[\s\S]*?\n\}\);/,
    "process.on('SIGTERM', () => log('SIGTERM ignored'));",
  );
  edit('svc.yaml', 'stopTimeout: 30', 'stopTimeout: 3');
  edit('config/usr/local/lib/svc/api-orders/ctl', 'TERM/30/KILL/5', 'TERM/3/KILL/5');
  edit('config/etc/monit/conf.d/api-orders', 'with timeout 40 seconds', 'with timeout 13 seconds');
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-lifecycle-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  ignoreTerm(project);
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 120_000);

afterEach(() => {
  for (const child of running) child.kill('SIGKILL');
});

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('lifecycle', () => {
  it('status shows the release, pid, health and monit', async () => {
    // The deploy ends once /ok answers; monit may still be finishing its start program then
    // (ctl start checks the process is alive 2 s after starting it): a "pending" state is
    // transient, so give monit a few seconds to settle.
    let host = await status();
    for (let tries = 0; tries < 20 && host.monit !== 'OK'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      host = await status();
    }
    expect(host).toMatchObject({ host: 'sbx-1', running: true, health: 200, monit: 'OK' });
    expect(host.release).toMatch(/^[0-9a-f]{12}$/);
    const text = await svc(['status', 'sandbox']);
    expect(text.stdout).toMatch(
      /^HOST +RELEASE +STATE +PID +UPTIME +HEALTH +MONIT +LAST DEPLOY \(UTC\)\nsbx-1 +[0-9a-f]{12} +running +\d+ /,
    );
  });

  it('stop ends a process that ignores TERM: TERM, the stop timeout, then KILL', async () => {
    const { pid } = await status();
    const stopped = await svc(['stop', 'sandbox']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toBe('sbx-1: stopped\n');
    expect(sbx.ssh('sbx-1', `kill -0 ${pid}`, { user: 'root' }).code).not.toBe(0);
    expect(onHost('tail -n 5 /var/log/api-orders/api-orders.log')).toContain('SIGTERM ignored');
    expect(await status()).toMatchObject({ running: false, health: 0 });
  }, 60_000);

  it('start and restart bring it back, restart with a new pid', async () => {
    const started = await svc(['start', 'sandbox']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^sbx-1: running \(pid \d+\)\n$/);
    const before = (await status()).pid;
    const restarted = await svc(['restart', 'sandbox']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect((await status()).pid).not.toBe(before);
  }, 60_000);

  it('logs shows the last lines of the service log', async () => {
    const logs = await svc(['logs', 'sandbox', '-n', '3']);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^sbx-1 \| /);
  });

  it('logs -f streams 512 MiB in bounded memory, then Ctrl-C ends it: exit 0, no tail left on the host', async () => {
    const follower = follow();
    await until(() => follower.bytes > 0, 30, `the first line (${follower.stderr})`);
    // 32 rounds of 16 MiB of 100-byte lines, written as the service user, the way a busy service
    // writes. The old svc kept every chunk (and a string of each line): its RSS grew by over 1 GiB
    // for half this. Streamed, it grows by what V8 has not collected yet (about 80 MiB here, the
    // same for 900 MiB): a quarter of the data is the bound, far from holding it.
    const line = 'x'.repeat(99);
    const lines = 32 * 167_772;
    await onHostAsync(
      `runuser -u api-orders -- sh -c 'for i in $(seq 32); do yes ${line} | head -n 167772; sleep 0.2; done >> ${LOG}; echo END-OF-FLOOD >> ${LOG}'`,
    );
    await until(() => follower.floodEnded, 300, `the end of the flood (${follower.bytes} bytes)`);
    // Every line arrived, each with its host prefix.
    expect(follower.bytes).toBeGreaterThan(lines * `sbx-1 | ${line}\n`.length);
    expect(follower.tail).toContain(`sbx-1 | ${line}\n`);
    const grewMb = (follower.maxRssKb - follower.startRssKb) / 1024;
    expect(grewMb, `RSS ${follower.startRssKb} kB -> ${follower.maxRssKb} kB`).toBeLessThan(128);
    process.kill(follower.pid, 'SIGINT');
    expect(await follower.exited, follower.stderr).toBe(0);
    expect(follower.stderr).toBe('');
    expect(await eventually(() => followersOnHost() === '', 10), followersOnHost()).toBe(true);
    onHost(`truncate -s 0 ${LOG}`);
  }, 400_000);

  it('logs -f | head: the reader going away ends svc, and its tail on the host', async () => {
    const follower = follow();
    await until(() => follower.bytes > 0, 30, `the first line (${follower.stderr})`);
    follower.stdout.destroy();
    // The next line svc writes meets the closed pipe.
    onHost(`runuser -u api-orders -- sh -c 'echo after-the-reader-left >> ${LOG}'`);
    // 128 + SIGPIPE, as for `tail -f | head` (README: Exit codes and output).
    expect(await follower.exited, follower.stderr).toBe(141);
    expect(await eventually(() => followersOnHost() === '', 10), followersOnHost()).toBe(true);
  }, 60_000);

  it('logs -f: Ctrl-C on a quiet log ends it at once; svc killed outright leaves no tail either', async () => {
    // Stopped, the service writes nothing (no health checks): a tail left behind would never hit
    // a closed pipe, so only svc's own ending can stop it.
    expect((await svc(['stop', 'sandbox'])).code).toBe(0);
    try {
      await quietFollowers();
    } finally {
      expect((await svc(['start', 'sandbox'])).code).toBe(0);
    }
  }, 120_000);

  async function quietFollowers(): Promise<void> {
    const quiet = follow();
    await until(() => quiet.bytes > 0, 30, `the first line (${quiet.stderr})`);
    expect(followersOnHost()).not.toBe('');
    process.kill(quiet.pid, 'SIGINT');
    expect(await quiet.exited, quiet.stderr).toBe(0);
    expect(await eventually(() => followersOnHost() === '', 10), followersOnHost()).toBe(true);

    // SIGKILL: svc cannot say goodbye; its connection closes, which ends tail's watcher on the host.
    const killed = follow();
    await until(() => killed.bytes > 0, 30, `the first line (${killed.stderr})`);
    process.kill(killed.pid, 'SIGKILL');
    await killed.exited;
    expect(await eventually(() => followersOnHost() === '', 10), followersOnHost()).toBe(true);
  }

  it('rollback returns to the previous good release and serves it; with none it refuses', async () => {
    const refused = await svc(['rollback', 'sandbox', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('no previous good release to roll back to');
    const first = (await status()).release;
    writeFileSync(join(project, 'VERSION'), 'two\n');
    expect((await svc(['deploy', 'sandbox', '--yes'])).code).toBe(0);
    const second = (await status()).release;
    expect(second).not.toBe(first);
    const back = await svc(['rollback', 'sandbox', '--yes']);
    expect(back.code, back.stdout).toBe(0);
    const host = await status();
    expect(host).toMatchObject({ release: first, running: true, health: 200 });
    const releases = await svc(['releases', 'sandbox']);
    expect(releases.stdout).toContain(`* ${first}  good`);
    expect(releases.stdout).toContain(`  ${second}  good`);
  }, 90_000);

  it("unlock names a running holder, stops it only with --force, and clears a killed one's note", async () => {
    const held = await holdLock(
      sbx,
      'sbx-1',
      'api-orders',
      '{"who":"ops@elsewhere","pid":1,"command":"svc deploy"}',
    );
    try {
      const refused = await svc(['unlock', 'sandbox']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `sbx-1: locked by ops@elsewhere (pid 1: svc deploy), whose deploy is still running on the host as pid ${held.hostPid}; pass --force to stop it (it undoes its changes)`,
      );
      expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('held');
      const forced = await svc(['unlock', 'sandbox', '--force']);
      expect(forced.stdout).toBe(
        'sbx-1: stopped the deploy of ops@elsewhere (pid 1: svc deploy); the lock is free\n',
      );
    } finally {
      await held.release();
    }
    // The TERMed shell never removed its note: that is what a killed deploy leaves.
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('stale');
    const cleared = await svc(['unlock', 'sandbox']);
    expect(cleared.stdout).toBe(
      'sbx-1: not locked (removed the note of a deploy that was killed before it finished)\n',
    );
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('free');
  });
});
