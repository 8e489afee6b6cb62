// svc trace on a real sandbox host (init: monit) under a bounded load (to the sandbox's own
// address, a fixed count and time): bpftrace is there but may not attach (the host's root has no
// CAP_BPF), so strace is used, and the report says why; strace's table shows the calls an HTTP server makes, and no
// tracer stays attached afterwards, whether the trace ends on time, by Ctrl-C, or by svc being
// killed outright (every thread's TracerPid is 0 again, no strace left on the host).
// Needs `npm run build` first (bin/svc runs dist/).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { TraceReport } from '../../src/core/trace-report.js';
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

function onHost(command: string): string {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** The service's pid and every one of its threads' TracerPid, read on the host. */
function tracers(): { pid: number; tracerPids: number[]; straces: string } {
  const pid = Number(onHost('cat /run/api-orders.pid').trim());
  const tracerPids = onHost(
    `cat /proc/${pid}/task/*/status | sed -n 's/^TracerPid:[[:space:]]*//p'`,
  )
    .trim()
    .split('\n')
    .map(Number);
  const straces = sbx.ssh('sbx-1', 'pgrep -x strace || true', { user: 'root' }).stdout.trim();
  return { pid, tracerPids, straces };
}

const detached = () => {
  const now = tracers();
  return now.tracerPids.every((p) => p === 0) && now.straces === '';
};

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

beforeAll(async () => {
  const unsupported = sandboxSupport();
  if (unsupported) throw new Error(unsupported);
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-trace-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
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
    seconds: 20,
    keepAliveWorkers: 2,
    newConnectionWorkers: 2,
    slowWorkers: 0,
  });

describe('svc trace', () => {
  it("shows an HTTP server's calls under load, says it slows the process, and detaches", async () => {
    load = startBoundedLoad();
    const result = await svc(['trace', 'sandbox', '--seconds', '3', '--json']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toBe(
      'svc: sbx-1: tracing api-orders for 3 s with strace, which slows the traced processes while attached\n',
    );
    const doc = JSON.parse(result.stdout) as { hosts: (TraceReport & { host: string })[] };
    const report = doc.hosts[0]!;
    expect(report.tool).toBe('strace');
    // bpftrace is installed (scripts/setup-machine) but a sandbox host's root may not load
    // tracing programs (no CAP_BPF, CAP_PERFMON): its probe cannot attach, and the report says so.
    expect(report.skipped.map((s) => s.tool)).toEqual(['bpftrace', 'sysdig']);
    expect(report.skipped[0]!.reason).toBe(
      'not permitted: needs CAP_BPF and CAP_PERFMON (or CAP_SYS_ADMIN)',
    );
    expect(report.skipped[1]!.reason).toBe('its kernel driver is not loaded (no /dev/scap0)');
    const names = report.syscalls.map((row) => row.name);
    expect(
      names.some((name) => /^accept4?$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^epoll_(p?wait2?)$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^(read|readv|recvfrom|recvmsg)$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^(write|writev|sendto|sendmsg)$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(report.total!.calls).toBeGreaterThan(10);
    expect(
      report.touched.some((t) => /^TCP:\[[\d.]+:3000->[\d.]+\]$/.test(t.what)),
      JSON.stringify(report.touched),
    ).toBe(true);
    expect(report.open.some((o) => o.what === 'socket')).toBe(true);
    expect(report.waiting.length).toBeGreaterThan(0);
    expect(detached()).toBe(true);

    const text = await svc(['trace', 'sandbox', '--seconds', '1']);
    expect(text.code, text.stderr).toBe(0);
    expect(text.stdout).toMatch(/^sbx-1: strace, pids \d+/);
    expect(text.stdout).toMatch(/\n +SYSCALL +CALLS +ERRORS +SECONDS +USECS\/CALL\n/);
    expect(detached()).toBe(true);
  }, 90_000);

  it('Ctrl-C ends the trace early with what it saw, and detaches', async () => {
    load = startBoundedLoad();
    const trace = startTrace(60);
    expect(
      await eventually(() => tracers().tracerPids.some((p) => p !== 0), 20),
      trace.stderr(),
    ).toBe(true);
    // Attached and seeing calls for a moment (an idle server may finish none in a short trace).
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const began = Date.now();
    trace.child.kill('SIGINT');
    expect(await trace.exited, trace.stderr()).toBe(0);
    expect(Date.now() - began).toBeLessThan(15_000);
    // What it saw until then: the table.
    expect(trace.stdout()).toMatch(/^sbx-1: strace, pids \d+[\s\S]*\n +SYSCALL +CALLS/);
    expect(await eventually(detached, 10), JSON.stringify(tracers())).toBe(true);
  }, 90_000);

  it('svc killed outright leaves no tracer attached', async () => {
    const trace = startTrace(60);
    expect(
      await eventually(() => tracers().tracerPids.some((p) => p !== 0), 20),
      trace.stderr(),
    ).toBe(true);
    trace.child.kill('SIGKILL');
    await trace.exited;
    // Well before the 60 s the trace asked for: the host noticed svc was gone.
    expect(await eventually(detached, 15), JSON.stringify(tracers())).toBe(true);
  }, 90_000);

  it('refuses --host that is not in TARGET, and --seconds out of range, in one line', async () => {
    const host = await svc(['trace', 'sandbox', '--host', 'sbx-9']);
    expect(host.code).toBe(1);
    expect(host.stderr).toBe("svc: error: --host: sbx-9 is not one of sandbox's hosts (sbx-1)\n");
    const seconds = await svc(['trace', 'sandbox', '--seconds', '61']);
    expect(seconds.code).toBe(1);
    expect(seconds.stderr).toBe(
      'svc: error: --seconds: must be a whole number from 1 to 60 (got "61")\n',
    );
  });
});
