// svc trace with bpftrace, on a real sandbox host whose root may load eBPF tracing programs
// (`svc sandbox up --ebpf`: CAP_BPF and CAP_PERFMON; a host in its own pid namespace, so the
// script's pid mapping is exercised) and a service under a bounded load: bpftrace is chosen, with
// no slowdown warning, and its table shows the calls an HTTP server makes. Nothing stays attached
// when the trace ends on time, by Ctrl-C, or by svc killed outright: no bpftrace on the host, no
// process on the machine holding a tracepoint BPF program. With bpftrace hidden (an empty file
// bound over it, from the machine, in the host's mount namespace) the host falls back to strace
// and says why; with strace hidden too, one line names the packages.
// Needs `npm run build` first (bin/svc runs dist/), and tracefs (scripts/setup-machine).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/core/trace-report.js';
import { inPidNamespaceOf, tracepointPrograms } from '../helpers/bpf.js';
import { startLoad, type Load } from '../helpers/load.js';
import {
  eventually,
  runSvc,
  sandboxSupport,
  startSandbox,
  SVC,
  type Sandbox,
} from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;
const running = new Set<ChildProcess>();
let load: Load | undefined;

const env = () => ({ ...sbx.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' });
const svc = (args: string[]) => runSvc([...args, '--dir', project], env());

/** The host's processes (other test files trace their own services at the same time). */
const onHost = () => inPidNamespaceOf(sbx.host('sbx-1').pid);

/** No bpftrace on the host, and no process of the host holding a tracepoint program. */
function detached(): boolean {
  const bpftraces = sbx.ssh('sbx-1', 'pgrep -x bpftrace || true', { user: 'root' }).stdout.trim();
  return bpftraces === '' && tracepointPrograms(onHost()).length === 0;
}

/**
 * Runs sh as root in the host's mount and pid namespaces (its /proc is the pid namespace's), from
 * the machine: the host's own root cannot mount.
 */
function inHostMounts(command: string): void {
  execFileSync('nsenter', ['-t', String(sbx.host('sbx-1').pid), '-m', '-p', 'sh', '-c', command]);
}

/** Binds an empty root-only file over each tool, as if it were not installed; undone by show(). */
function hide(tools: string[]): void {
  inHostMounts(
    `f=/run/svc-test-hidden; : > "$f"; chmod 600 "$f"; for t in ${tools.join(' ')}; do mount --bind "$f" "/usr/bin/$t"; done`,
  );
}
function show(tools: string[]): void {
  inHostMounts(
    `for t in ${tools.join(' ')}; do ! mountpoint -q "/usr/bin/$t" || umount "/usr/bin/$t" || exit 1; done`,
  );
}

function startTrace(seconds: number): {
  child: ChildProcess;
  stderr: () => string;
  stdout: () => string;
  exited: Promise<number | null>;
} {
  const child = spawn(SVC, ['trace', 'sandbox', '--seconds', String(seconds), '--dir', project], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let stderr = '';
  let stdout = '';
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout!.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  const exited = new Promise<number | null>((done) => child.once('close', (code) => done(code)));
  void exited.then(() => running.delete(child));
  return { child, stderr: () => stderr, stdout: () => stdout, exited };
}

/** The trace's own bpftrace attached (fork, sys_enter, sys_exit), not the one-probe check. */
const attached = () => tracepointPrograms(onHost()).length >= 3;

beforeAll(async () => {
  const unsupported = sandboxSupport();
  if (unsupported) throw new Error(unsupported);
  sbx = await startSandbox({ count: 1, ebpf: true });
  work = mkdtempSync(join(tmpdir(), 'svc-trace-ebpf-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
    { env: { ...process.env, CI: '1' } },
  );
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 180_000);

afterEach(async () => {
  for (const child of running) child.kill('SIGKILL');
  await load?.stop();
  load = undefined;
});

afterAll(async () => {
  if (sbx) show(['bpftrace', 'strace']);
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

const startBoundedLoad = () =>
  startLoad({
    host: sbx.host('sbx-1').address,
    port: 3000,
    path: '/ok',
    slowPath: '/ok',
    header: 'x-none',
    maxRequests: 4000,
    seconds: 30,
    keepAliveWorkers: 2,
    newConnectionWorkers: 2,
    slowWorkers: 0,
  });

describe('an --ebpf sandbox host', () => {
  it('may load tracing programs (CAP_BPF, CAP_PERFMON) but still not mount, and reads tracefs only', () => {
    const result = sbx.ssh(
      'sbx-1',
      'grep CapBnd /proc/self/status; grep CapBnd /proc/1/status; : > /sys/kernel/tracing/tracing_on; echo "exit=$?"',
      { user: 'root' },
    );
    const [bounding, pid1, written] = result.stdout.split('\n');
    for (const line of [bounding!, pid1!]) {
      const mask = BigInt(`0x${line.split(/\s+/)[1]}`);
      expect(mask & (1n << 39n)).not.toBe(0n); // CAP_BPF
      expect(mask & (1n << 38n)).not.toBe(0n); // CAP_PERFMON
      expect(mask & (1n << 21n)).toBe(0n); // CAP_SYS_ADMIN
      expect(mask & (1n << 16n)).toBe(0n); // CAP_SYS_MODULE
    }
    expect(written).not.toBe('exit=0');
    expect(result.stderr).toMatch(/Read-only file system/);
  });
});

describe('svc trace with bpftrace', () => {
  it("shows an HTTP server's calls under load, without strace's warning, and detaches", async () => {
    load = startBoundedLoad();
    expect(detached()).toBe(true);
    const result = await svc(['trace', 'sandbox', '--seconds', '3', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe('svc: sbx-1: tracing api-orders for 3 s with bpftrace\n');
    const doc = JSON.parse(result.stdout) as { hosts: (TraceReport & { host: string })[] };
    const report = doc.hosts[0]!;
    expect(report.tool, JSON.stringify(report.skipped)).toBe('bpftrace');
    expect(report.skipped).toStrictEqual([]);
    const pid = Number(sbx.ssh('sbx-1', 'cat /run/api-orders.pid', { user: 'root' }).stdout);
    expect(report.pids[0]).toBe(pid);
    const names = report.syscalls.map((row) => row.name);
    for (const family of [
      /^accept4?$/,
      /^epoll_p?wait2?$/,
      /^(read|readv|recvfrom)$/,
      /^(write|writev|sendto)$/,
    ])
      expect(
        names.some((name) => family.test(name)),
        `${family}: ${names.join(' ')}`,
      ).toBe(true);
    expect(report.total!.calls).toBeGreaterThan(10);
    expect(report.open.some((o) => o.what === 'socket')).toBe(true);
    expect(report.waiting.length).toBeGreaterThan(0);
    expect(await eventually(detached, 10)).toBe(true);

    const text = await svc(['trace', 'sandbox', '--seconds', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(
      /^sbx-1: bpftrace, pids \d+\n +SYSCALL +CALLS +ERRORS +SECONDS +USECS\/CALL\n/,
    );
    expect(await eventually(detached, 10)).toBe(true);
  }, 120_000);

  it('Ctrl-C ends the trace early with what it saw, and nothing stays attached', async () => {
    load = startBoundedLoad();
    const trace = startTrace(60);
    expect(await eventually(attached, 40), trace.stderr()).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const began = Date.now();
    trace.child.kill('SIGINT');
    expect(await trace.exited, trace.stderr()).toBe(0);
    expect(Date.now() - began).toBeLessThan(15_000);
    expect(trace.stdout()).toMatch(/^sbx-1: bpftrace, pids \d+\n +SYSCALL +CALLS/);
    expect(await eventually(detached, 10)).toBe(true);
  }, 120_000);

  it('svc killed outright leaves nothing attached', async () => {
    const trace = startTrace(60);
    expect(await eventually(attached, 40), trace.stderr()).toBe(true);
    trace.child.kill('SIGKILL');
    await trace.exited;
    // Well before the 60 s the trace asked for: the host noticed svc was gone.
    expect(await eventually(detached, 15)).toBe(true);
  }, 120_000);

  it('falls back to strace when bpftrace is not there, and says why', async () => {
    hide(['bpftrace']);
    try {
      const result = await svc(['trace', 'sandbox', '--seconds', '1', '--json']);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stderr).toBe(
        'svc: sbx-1: tracing api-orders for 1 s with strace, which slows the traced processes while attached\n',
      );
      const report = (JSON.parse(result.stdout) as { hosts: TraceReport[] }).hosts[0]!;
      expect(report.tool).toBe('strace');
      expect(report.skipped[0]).toStrictEqual({ tool: 'bpftrace', reason: 'not installed' });
    } finally {
      show(['bpftrace']);
    }
  }, 60_000);

  it('names the packages in one line when no tracer is there', async () => {
    hide(['bpftrace', 'strace']);
    try {
      const result = await svc(['trace', 'sandbox', '--seconds', '1']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        'svc: error: sbx-1: no tracer: install bpftrace (eBPF, preferred) or strace (apt-get install bpftrace strace)\n',
      );
    } finally {
      show(['bpftrace', 'strace']);
    }
    expect(sbx.ssh('sbx-1', 'command -v bpftrace strace', { user: 'root' }).stdout).toBe(
      '/usr/bin/bpftrace\n/usr/bin/strace\n',
    );
  }, 60_000);
});
