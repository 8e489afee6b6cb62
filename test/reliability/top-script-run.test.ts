// svc top's reader run by a real sh on this machine against a real process tree (a node server
// with a child, keeping three connections open and busy half of the time), with the layout's
// paths and monitrc moved into a scratch directory. What it reports is held to what the kernel
// says of the same processes, read here independently (/proc/PID/status, /proc/PID/fd). One
// reader answers request after request (what changed between two is in the next sample: monit's
// log, the live release, the live slot of a switch service), runs only a few programs for a
// later sample (strace counts them), and ends when its stdin does, leaving nothing behind.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import {
  appendFileSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  renameSync,
  rmSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotPidfile, slotsOf, upstreamFile, upstreamText } from '../../src/core/cutover.js';
import { hostLayout } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { parseTopOutput, topRow } from '../../src/core/top-sample.js';
import { TOP_REQUEST, topReader } from '../../src/core/top-script.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

const NAME = 'api-toptest';

// The server: a child that sleeps, three connections kept open, a busy loop half of each 100 ms.
const SERVER = String.raw`
const http = require('http');
const { spawn } = require('child_process');
spawn('sleep', ['600'], { stdio: 'ignore' });
setInterval(() => { const end = Date.now() + 50; while (Date.now() < end); }, 100);
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

let dir = '';
let server: ChildProcess;
let port = 0;
const clients: Socket[] = [];

function statusField(pid: number, field: string): number {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(new RegExp(`^${field}:\\s+(\\d+)`, 'm').exec(text)?.[1]);
}

function children(pid: number): number[] {
  return readdirSync('/proc')
    .filter((entry) => /^\d+$/.test(entry))
    .filter((entry) => {
      try {
        return (
          readFileSync(`/proc/${entry}/stat`, 'utf8').replace(/.*\) /s, '').split(' ')[1] ===
          String(pid)
        );
      } catch {
        return false;
      }
    })
    .map(Number);
}

/** CPU seconds the tree has used so far, and when it was read, as the kernel counts them. */
function cpuNow(pids: number[]): { seconds: number; at: number } {
  const ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim());
  let used = 0;
  for (const pid of pids) {
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/.*\) /s, '').split(' ');
    used += Number(fields[11]) + Number(fields[12]); // utime, stime
  }
  return { seconds: used / ticks, at: Date.now() / 1000 };
}

/**
 * The kernel's CPU % of the tree between two readings, which enclose the reader's own window:
 * the busy loop's share shrinks when the machine is loaded, for both alike.
 */
function expectCpuNear(
  reported: number | undefined,
  from: ReturnType<typeof cpuNow>,
  to: ReturnType<typeof cpuNow>,
) {
  const kernel = ((to.seconds - from.seconds) / (to.at - from.at)) * 100;
  expect(kernel).toBeGreaterThan(0);
  expect(reported, `svc ${reported}% vs the kernel's ${kernel.toFixed(1)}%`).toBeGreaterThan(
    kernel * 0.4,
  );
  expect(reported).toBeLessThan(kernel * 2.5 + 5);
}

/** The script with the pidfile, `current` and monitrc moved below the scratch directory. */
function moved(script: string): string {
  const layout = hostLayout(NAME);
  let text = script;
  for (const path of [layout.current, layout.pidfile, layout.records, '/etc/monit/monitrc'])
    text = text.replaceAll(path, `${dir}${path}`);
  return text;
}

/** The reader, run by sh: one sample per ask(), until end(). */
class Reader {
  readonly child: ChildProcess;
  private text = '';
  private stderr = '';
  private waiting: ((sample: string) => void) | undefined;
  readonly exited: Promise<number | null>;

  constructor(script: string, env: Record<string, string> = {}, argv = ['sh', '-c', script]) {
    // TZ=UTC: the host's zone, in which the script writes the deploy's time as monit would.
    this.child = spawn(argv[0]!, argv.slice(1), {
      env: { ...process.env, TZ: 'UTC', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout!.on('data', (chunk: Buffer) => {
      this.text += chunk.toString('utf8');
      const end = this.text.indexOf('\nE\n');
      if (end >= 0 && this.waiting) {
        const sample = this.text.slice(0, end + 3);
        this.text = this.text.slice(end + 3);
        const done = this.waiting;
        this.waiting = undefined;
        done(sample);
      }
    });
    this.child.stderr!.on('data', (chunk: Buffer) => (this.stderr += chunk.toString('utf8')));
    this.exited = new Promise((resolve) => this.child.once('close', (code) => resolve(code)));
  }

  ask(first = false): Promise<string> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`no sample in 20 s: ${this.stderr}`)),
        20_000,
      );
      this.waiting = (sample) => {
        clearTimeout(timer);
        resolve(sample);
      };
      this.child.stdin!.write(first ? TOP_REQUEST.first : TOP_REQUEST.next);
    });
  }

  async end(): Promise<{ code: number | null; stderr: string }> {
    this.child.stdin!.end();
    const code = await this.exited;
    return { code, stderr: this.stderr };
  }
}

/** One first sample from a reader of its own (ended after it). */
async function run(script: string): Promise<string> {
  const reader = new Reader(script);
  try {
    return await reader.ask(true);
  } finally {
    await reader.end();
  }
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svc-top-run-'));
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    server.once('exit', () => reject(new Error('the test server exited')));
  });
  for (let i = 0; i < 3; i++) {
    const socket = connect(port, '127.0.0.1');
    await new Promise((resolve) => socket.once('connect', resolve));
    clients.push(socket);
  }
  const layout = hostLayout(NAME);
  mkdirSync(`${dir}${layout.releases}/abc123abc123`, { recursive: true });
  symlinkSync('releases/abc123abc123', `${dir}${layout.current}`);
  mkdirSync(dirname(`${dir}${layout.pidfile}`), { recursive: true });
  writeFileSync(`${dir}${layout.pidfile}`, `${server.pid}\n`);
  mkdirSync(`${dir}/etc/monit`, { recursive: true });
  writeFileSync(`${dir}/etc/monit/monitrc`, `set daemon 5\n  set   log ${dir}/monit.log\n`);
  // Restarts by monit since the deploy finished (the records' mtime, 07:00:30 UTC): not the
  // deploy's own start before it, not one in the same second, not the one svc restart asks for,
  // not another service's; a continuation line naming the service is skipped.
  const records = `${dir}${hostLayout(NAME).records}/installed.json`;
  mkdirSync(dirname(records), { recursive: true });
  writeFileSync(records, '{}');
  const finished = new Date('2026-12-06T07:00:30Z');
  utimesSync(records, finished, finished);
  const at = (time: string) => `[2026-12-06T${time}+0000]`;
  writeFileSync(
    `${dir}/monit.log`,
    [
      `${at('06:59:00')} info     : '${NAME}' trying to restart`,
      `${at('07:00:22')} error    : '${NAME}' process is not running`,
      `${at('07:00:22')} info     : '${NAME}' trying to restart`,
      `${at('07:00:30')} info     : '${NAME}' trying to restart`,
      `${at('07:01:00')} error    : '${NAME}' process is not running`,
      `${at('07:01:00')} info     : '${NAME}' trying to restart`,
      `${at('07:01:05')} info     : '${NAME}2' trying to restart`,
      `${at('07:01:30')} info     : '${NAME}' restart on user request`,
      `${at('07:01:30')} info     : '${NAME}' trying to restart`,
      ` continued: '${NAME}' trying to restart`,
      `${at('07:02:00')} info     : '${NAME}' trying to restart`,
      '',
    ].join('\n'),
  );
}, 30_000);

afterAll(() => {
  for (const socket of clients) socket.destroy();
  if (server?.pid) {
    for (const child of children(server.pid)) process.kill(child, 'SIGKILL');
    server.kill('SIGKILL');
  }
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('the top script on a real process tree', () => {
  it('reports the pid, tree, CPU, memory, descriptors, connections, restarts, health, release', async () => {
    const manifest: Manifest = { ...base, name: NAME, init: 'monit', monit: true, port };
    const pid = server.pid!;
    const tree = [pid, ...children(pid)];
    expect(tree).toHaveLength(2);
    const before = cpuNow(tree);
    const sample = parseTopOutput(await run(moved(topReader(manifest))), 'local');
    const after = cpuNow(tree);
    const row = topRow('local', sample);

    expect(row.pid).toBe(pid);
    expect(sample.processes.map((p) => p.pid).sort()).toStrictEqual([...tree].sort());
    expect(row.threads).toBe(tree.reduce((sum, p) => sum + statusField(p, 'Threads'), 0));
    const rssKb = tree.reduce((sum, p) => sum + statusField(p, 'VmRSS'), 0);
    expect(row.rssBytes! / 1024).toBeGreaterThan(rssKb * 0.8);
    expect(row.rssBytes! / 1024).toBeLessThan(rssKb * 1.25);
    const fds = tree.reduce((sum, p) => sum + readdirSync(`/proc/${p}/fd`).length, 0);
    expect(Math.abs(row.fds! - fds), `${row.fds} vs ${fds}`).toBeLessThanOrEqual(2);
    // The server's ends of the three connections; the clients' ends are this process's.
    expect(row.connections).toBe(3);
    // Busy 50 ms in 100: about half a core, less when the machine is loaded.
    expectCpuNear(row.cpuPercent, before, after);
    expect(row.cpuPercent).toBeLessThan(80);
    expect(row.restarts).toBe(2);
    expect(row.health).toBe(200);
    expect(row.healthMs).toBeGreaterThanOrEqual(0);
    expect(row.release).toBe('abc123abc123');
    const linkTime = Math.floor(lstatSync(`${dir}${hostLayout(NAME).current}`).mtimeMs / 1000);
    expect(sample.deployedAt).toBe(linkTime);
    expect(row.state).toBe('running');
    expect(row.uptimeSeconds).toBeGreaterThanOrEqual(0);
    expect(row.uptimeSeconds).toBeLessThan(120);
  }, 40_000);

  it('a stopped service: no pid, no tree, nothing counted, the health URL unanswered', async () => {
    // OpenRC without monit: no pid (no supervise-daemon child_pid), no source of restarts.
    const manifest: Manifest = {
      ...base,
      name: 'api-toptest-none',
      init: 'openrc',
      monit: false,
      port: 1,
    };
    const sample = parseTopOutput(await run(topReader(manifest)), 'local');
    expect(topRow('local', sample)).toMatchObject({ state: 'stopped', health: 0 });
    expect(sample.pid).toBeUndefined();
    expect(sample.processes).toStrictEqual([]);
    expect(sample.restarts).toBeUndefined();
  });

  it('a command name with spaces, parentheses and a newline does not shift the fields', async () => {
    // node sets its own name (prctl PR_SET_NAME, 15 bytes at most) from process.title.
    const odd = spawn(
      process.execPath,
      ['-e', "process.title = 'x) S 1\\n1 (y'; setTimeout(() => {}, 60000)"],
      { stdio: 'ignore' },
    );
    try {
      const named = () =>
        readFileSync(`/proc/${odd.pid}/stat`, 'utf8').includes('(x) S 1\n1 (y) S ');
      for (let waited = 0; waited < 100 && !named(); waited++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      const name = 'api-toptest-odd';
      const layout = hostLayout(name);
      mkdirSync(dirname(`${dir}${layout.pidfile}`), { recursive: true });
      writeFileSync(`${dir}${layout.pidfile}`, `${odd.pid}\n`);
      const manifest: Manifest = {
        ...base,
        name,
        init: 'monit',
        monit: false,
        port: undefined,
        health: undefined,
      };
      const script = topReader(manifest).replaceAll(layout.pidfile, `${dir}${layout.pidfile}`);
      const comm = readFileSync(`/proc/${odd.pid}/stat`, 'utf8');
      expect(comm).toContain('(x) S 1\n1 (y) S ');
      const sample = parseTopOutput(await run(script), 'local');
      expect(sample.processes[0]).toMatchObject({
        pid: odd.pid,
        threads: statusField(odd.pid!, 'Threads'),
      });
    } finally {
      odd.kill('SIGKILL');
    }
  });

  it('one reader answers sample after sample, each with what changed since', async () => {
    const manifest: Manifest = { ...base, name: NAME, init: 'monit', monit: true, port };
    const layout = hostLayout(NAME);
    const log = readFileSync(`${dir}/monit.log`, 'utf8');
    const reader = new Reader(moved(topReader(manifest)));
    try {
      const tree = [server.pid!, ...children(server.pid!)];
      const first = parseTopOutput(await reader.ask(true), 'local');
      const before = cpuNow(tree);
      expect(first.first).toBeDefined();
      expect(first.restarts).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const second = parseTopOutput(await reader.ask(), 'local');
      const after = cpuNow(tree);
      // A later sample reads CPU once: against the previous sample.
      expect(second.first).toBeUndefined();
      expectCpuNear(topRow('local', second, first).cpuPercent, before, after);
      expect(second).toMatchObject({ pid: server.pid, restarts: 2, release: 'abc123abc123' });
      // monit restarts it once more, after the deploy: counted in the next sample.
      appendFileSync(
        `${dir}/monit.log`,
        `[2026-12-06T07:03:00+0000] info     : '${NAME}' trying to restart\n`,
      );
      expect(parseTopOutput(await reader.ask(), 'local').restarts).toBe(3);
      // Another release goes live (a link renamed over `current`, as the deploy does).
      mkdirSync(`${dir}${layout.releases}/def456def456`, { recursive: true });
      symlinkSync('releases/def456def456', `${dir}${layout.current}.new`);
      renameSync(`${dir}${layout.current}.new`, `${dir}${layout.current}`);
      const fourth = parseTopOutput(await reader.ask(), 'local');
      expect(fourth.release).toBe('def456def456');
      expect(fourth.deployedAt).toBe(
        Math.floor(lstatSync(`${dir}${layout.current}`).mtimeMs / 1000),
      );
    } finally {
      await reader.end();
      writeFileSync(`${dir}/monit.log`, log);
      symlinkSync('releases/abc123abc123', `${dir}${layout.current}.new`);
      renameSync(`${dir}${layout.current}.new`, `${dir}${layout.current}`);
    }
  }, 40_000);

  it('loses no sample to a /proc/PID/stat that fails to read (a process gone between open and read)', async () => {
    // A process that exits between the open and the read of its /proc/PID/stat makes the read
    // fail (ESRCH); under process churn on a host that happens now and then. Here it happens
    // every time: in a mount namespace of the reader's own, another process's stat is a file
    // whose read fails (its /proc/PID/mem, read at 0: EIO). Before, awk read each stat itself,
    // and mawk ends on a read error: the sample had no tree (CI saw it once under load).
    const bystander = spawn('sleep', ['120'], { stdio: 'ignore' });
    const manifest: Manifest = { ...base, name: NAME, init: 'systemd', monit: false, port };
    const script = moved(topReader(manifest));
    const broken =
      'mount --make-rprivate / && mount --bind "/proc/$1/mem" "/proc/$1/stat" && exec sh -c "$2"';
    const reader = new Reader(script, {}, [
      'unshare',
      '-m',
      'sh',
      '-c',
      broken,
      'sh',
      String(bystander.pid),
      script,
    ]);
    try {
      const samples = [await reader.ask(true), await reader.ask(), await reader.ask()];
      for (const sample of samples.map((text) => parseTopOutput(text, 'local'))) {
        expect(sample.processes.map((process) => process.pid).sort((x, y) => x - y)).toEqual(
          [server.pid!, ...children(server.pid!)].sort((x, y) => x - y),
        );
        expect(sample.fds).toBeGreaterThan(0);
        expect(sample.connections).toBe(3);
      }
    } finally {
      bystander.kill('SIGKILL');
      await reader.end();
    }
  }, 60_000);

  it('a file the service opens named like a socket (`x socket:[N]`, `x -> socket:[N]`) is not a connection', async () => {
    // N: an established socket in this network namespace that is not the process's own (the
    // server's end of a client connection). ls ends the open file's line the way a socket's ends.
    const established = readFileSync(`/proc/${server.pid}/net/tcp`, 'utf8')
      .split('\n')
      .slice(1)
      .map((line) => line.trim().split(/\s+/))
      .find((fields) => fields[3] === '01');
    const inode = established?.[9];
    expect(inode).toMatch(/^[1-9][0-9]*$/);
    const files = [`x socket:[${inode}]`, `x -> socket:[${inode}]`].map((name) => join(dir, name));
    for (const file of files) writeFileSync(file, '');
    const holder = spawn('sh', ['-c', 'exec 3<"$1" 4<"$2"; exec sleep 120', 'sh', ...files], {
      stdio: 'ignore',
    });
    const name = 'api-toptest-named';
    const layout = hostLayout(name);
    try {
      const holds = () => readdirSync(`/proc/${holder.pid}/fd`).length >= 5;
      for (let waited = 0; waited < 100 && !holds(); waited++)
        await new Promise((resolve) => setTimeout(resolve, 100));
      expect(readlinkSync(`/proc/${holder.pid}/fd/4`)).toBe(files[1]);
      mkdirSync(dirname(`${dir}${layout.pidfile}`), { recursive: true });
      writeFileSync(`${dir}${layout.pidfile}`, `${holder.pid}\n`);
      const manifest: Manifest = {
        ...base,
        name,
        init: 'systemd',
        monit: false,
        port: undefined,
        health: undefined,
      };
      const reader = new Reader(
        topReader(manifest).replaceAll(layout.pidfile, `${dir}${layout.pidfile}`),
      );
      try {
        // The first sample lists the descriptors by itself, a later one in its one scan.
        for (const text of [await reader.ask(true), await reader.ask()]) {
          const sample = parseTopOutput(text, 'local');
          expect(sample.pid).toBe(holder.pid);
          expect(sample.fds).toBe(readdirSync(`/proc/${holder.pid}/fd`).length);
          expect(sample.connections).toBe(0);
        }
      } finally {
        await reader.end();
      }
    } finally {
      holder.kill('SIGKILL');
      for (const file of files) rmSync(file, { force: true });
    }
  }, 40_000);

  // Review 11: Alpine's ls and awk are busybox's, whose ls has no -q ("invalid option -- 'q'",
  // hidden by 2>/dev/null): no descriptor line reaches awk, and the sample says 0 descriptors and
  // 0 connections as if measured.
  it.each(['ls', 'awk', 'ls and awk'])(
    'busybox %s first on PATH: the same descriptors and connections',
    async (tools) => {
      const shims = mkdtempSync(join(tmpdir(), 'svc-top-busybox-'));
      try {
        for (const tool of tools.split(' and ')) symlinkSync('/usr/bin/busybox', join(shims, tool));
        const manifest: Manifest = { ...base, name: NAME, init: 'monit', monit: true, port };
        const pid = server.pid!;
        const tree = [pid, ...children(pid)];
        // The script sets PATH itself (lifecycle.ts): the shims go first in it.
        const script = moved(topReader(manifest));
        expect(script).toContain(' PATH=/usr/local/sbin:');
        const reader = new Reader(
          script.replace(' PATH=/usr/local/sbin:', ` PATH=${shims}:/usr/local/sbin:`),
        );
        try {
          for (const text of [await reader.ask(true), await reader.ask()]) {
            const row = topRow('local', parseTopOutput(text, 'local'));
            const fds = tree.reduce((sum, p) => sum + readdirSync(`/proc/${p}/fd`).length, 0);
            expect(Math.abs(row.fds! - fds), `${row.fds} vs ${fds}`).toBeLessThanOrEqual(2);
            expect(row.connections).toBe(3);
          }
        } finally {
          await reader.end();
        }
      } finally {
        rmSync(shims, { recursive: true, force: true });
      }
    },
    40_000,
  );

  it('a switch service: the live slot, followed when the upstream file switches, and the other', async () => {
    const name = 'api-toptest-sw';
    const manifest: Manifest = {
      ...base,
      name,
      init: 'monit',
      monit: true,
      port,
      cutover: 'switch',
      slotPorts: [14999, 24999],
    };
    const [a, b] = slotsOf(manifest);
    const paths = [upstreamFile(name), slotPidfile(name, a), slotPidfile(name, b)];
    let script = topReader(manifest);
    for (const path of paths) {
      mkdirSync(dirname(`${dir}${path}`), { recursive: true });
      script = script.replaceAll(path, `${dir}${path}`);
    }
    const sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
    const reader = new Reader(script);
    try {
      writeFileSync(`${dir}${upstreamFile(name)}`, upstreamText(name, a));
      writeFileSync(`${dir}${slotPidfile(name, a)}`, `${server.pid}\n`);
      const onA = parseTopOutput(await reader.ask(true), 'local');
      expect(onA).toMatchObject({ pid: server.pid, slot: 'a' });
      expect(onA.idleSlot).toBeUndefined();
      // A deploy starts slot b and switches nginx to it; slot a drains.
      writeFileSync(`${dir}${slotPidfile(name, b)}`, `${sleeper.pid}\n`);
      writeFileSync(`${dir}${upstreamFile(name)}`, upstreamText(name, b));
      const onB = parseTopOutput(await reader.ask(), 'local');
      expect(onB).toMatchObject({
        pid: sleeper.pid,
        slot: 'b',
        idleSlot: { slot: 'a', pid: server.pid },
      });
      expect(onB.processes.map((p) => p.pid)).toStrictEqual([sleeper.pid]);
      // Drained: slot a's pidfile gone.
      rmSync(`${dir}${slotPidfile(name, a)}`);
      const drained = parseTopOutput(await reader.ask(), 'local');
      expect(drained.slot).toBe('b');
      expect(drained.idleSlot).toBeUndefined();
    } finally {
      await reader.end();
      sleeper.kill('SIGKILL');
    }
  }, 40_000);

  it('runs a few programs for a later sample: cat, ls and awk (tree, descriptors), curl', async () => {
    // Not watched by monit, no init system answering here (systemd is not PID 1): what is left
    // is one cat, one ls and one awk for the tree and its descriptors, and curl for the health URL.
    // Programs started (execve that succeeded), seen by strace with their time, each given to
    // the sample whose request was sent before it and whose answer came after it.
    const programsPerSample = async (manifest: Manifest, samples: number) => {
      const script = moved(topReader(manifest));
      const out = join(dir, `execs-${manifest.port ?? 'none'}`);
      const reader = new Reader(script, {}, [
        'strace',
        '-f',
        '-qq',
        '-ttt',
        '-e',
        'trace=execve',
        '-o',
        out,
        'sh',
        '-c',
        script,
      ]);
      expect(parseTopOutput(await reader.ask(true), 'local').pid).toBe(server.pid);
      const windows: Array<[number, number]> = [];
      for (let i = 0; i < samples; i++) {
        const asked = Date.now() / 1000;
        await reader.ask();
        windows.push([asked, Date.now() / 1000]);
      }
      expect((await reader.end()).code).toBe(0);
      // "PID SECONDS.MICROS execve(\"/usr/bin/ls\", ...) = 0", or an unfinished execve resumed
      // later (the path on the first line, the result on the second, the same PID).
      const path = new Map<string, string>();
      const ran = windows.map(() => [] as string[]);
      for (const line of readFileSync(out, 'utf8').split('\n')) {
        const [pid, at] = line.split(/ +/);
        const called = /execve\("([^"]*)"/.exec(line);
        if (called) path.set(pid!, called[1]!);
        if (!line.includes('execve') || !line.endsWith(' = 0')) continue;
        const index = windows.findIndex(([from, to]) => Number(at) >= from && Number(at) <= to);
        if (index >= 0) ran[index]!.push(basename(path.get(pid!) ?? '?'));
      }
      return ran.map((names) => names.sort().join(' '));
    };
    const quiet: Manifest = { ...base, name: NAME, init: 'systemd', monit: false, port };
    expect(await programsPerSample(quiet, 4)).toEqual(Array(4).fill('awk cat curl ls'));
    expect(await programsPerSample({ ...quiet, port: undefined, health: undefined }, 4)).toEqual(
      Array(4).fill('awk cat ls'),
    );
  }, 60_000);

  it('ends when its stdin ends, leaving no process and no file; refuses an unknown request', async () => {
    const manifest: Manifest = { ...base, name: NAME, init: 'monit', monit: true, port };
    // Its private directory (the mark monit's log is compared with) is /tmp/svc-top.PID.*, named
    // for its shell (core/private-tmp.ts), whatever TMPDIR says.
    const own = (pid: number) => readdirSync('/tmp').filter((n) => n.startsWith(`svc-top.${pid}.`));
    const scratch = mkdtempSync(join(tmpdir(), 'svc-top-tmp-'));
    try {
      const reader = new Reader(moved(topReader(manifest)), { TMPDIR: scratch });
      await reader.ask(true);
      const pid = reader.child.pid!;
      expect(own(pid)).toHaveLength(1);
      expect(await reader.end()).toStrictEqual({ code: 0, stderr: '' });
      expect(own(pid)).toStrictEqual([]);
      expect(children(pid)).toStrictEqual([]);

      const other = new Reader(moved(topReader(manifest)), { TMPDIR: scratch });
      other.child.stdin!.write('sample please\n');
      expect(await other.end()).toStrictEqual({ code: 2, stderr: 'svc top: unknown request\n' });
      expect(own(other.child.pid!)).toStrictEqual([]);
      expect(readdirSync(scratch)).toStrictEqual([]);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 40_000);
});
