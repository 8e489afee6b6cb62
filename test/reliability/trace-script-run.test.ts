// svc trace's script run by a real sh with the real bpftrace and strace on this machine (root),
// against a node HTTP server asked over loopback (the pidfile moved into a scratch directory): the
// table holds the calls such a server makes, whichever tracer the script chose, and the tracer is
// gone when the N seconds are up and, at once, when the script's stdin ends (what svc's Ctrl-C,
// death or a lost connection look like on the host): no process traces the server (TracerPid 0),
// no bpftrace runs, no process holds a tracepoint BPF program. strace is made the choice by
// hiding bpftrace (a bind mount in a mount namespace of the test's own); none at all, by hiding
// both. bpftrace needs tracefs on /sys/kernel/tracing (scripts/setup-machine mounts it).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { parseTraceOutput } from '../../src/core/trace-report.js';
import { traceScript } from '../../src/core/trace-script.js';
import { bpftraceProcesses, carries, tracepointPrograms } from '../helpers/bpf.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

const NAME = 'api-tracetest';
const SERVER = String.raw`
const http = require('http');
// Files held open, named in $HOLD (one per line): how svc trace lists what is open.
for (const name of (process.env.HOLD || '').split('\n').filter(Boolean)) require('fs').openSync(name, 'r');
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

/** Held open by the server: a path with a space, and a file named like a socket. */
const HELD = ['my data.db', 'x socket:[77]'];
let dir = '';
let server: ChildProcess;
let port = 0;
let asking: NodeJS.Timeout | undefined;

function tracerPids(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).map((task) =>
    Number(
      /^TracerPid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/task/${task}/status`, 'utf8'))?.[1],
    ),
  );
}

// Every script this file runs carries this in its environment (and so does every tracer it
// starts): other test files trace their own services at the same time.
const MARKER_NAME = 'SVC_TRACE_RUN_TEST';
const MARKER = `${MARKER_NAME}=${process.pid}`;
const ours = carries(MARKER);

/** No tracer of any kind left on the server, and none that this file started. */
function nothingAttached(): boolean {
  return (
    tracerPids(server.pid!).every((p) => p === 0) &&
    bpftraceProcesses(ours).length === 0 &&
    tracepointPrograms(ours).length === 0
  );
}

/**
 * Runs the script with sh, with the given tracers hidden (an empty file bound over each, in a
 * mount namespace of its own); stdin stays open until closeStdinAfterMs (never, when undefined),
 * or until `closeStdin` resolves.
 */
function run(
  script: string,
  closeStdinAfterMs?: number,
  hidden: string[] = [],
  closeStdin?: () => Promise<void>,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const began = Date.now();
  const hide = `for p in ${hidden.join(' ')}; do mount --bind "$HIDE" "$(command -v "$p")" || exit 99; done; exec sh -c "$0"`;
  const child = spawn(
    'unshare',
    ['--mount', '--propagation', 'private', 'sh', '-c', hide, script],
    {
      stdio: ['pipe', 'pipe', 'pipe'],
      env: {
        ...process.env,
        HIDE: join(dir, 'hidden'),
        [MARKER_NAME]: String(process.pid),
      },
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (closeStdinAfterMs !== undefined) setTimeout(() => child.stdin.end(), closeStdinAfterMs);
  void closeStdin?.().then(() => child.stdin.end());
  return new Promise((resolve) =>
    child.on('close', (code) => {
      child.stdin.destroy();
      resolve({ code, stdout, stderr, ms: Date.now() - began });
    }),
  );
}

const manifest: Manifest = { ...base, name: NAME, init: 'monit', monit: false };
const moved = (script: string) =>
  script.replaceAll(hostLayout(NAME).pidfile, `${dir}${hostLayout(NAME).pidfile}`);

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svc-trace-run-'));
  writeFileSync(join(dir, 'hidden'), '', { mode: 0o600 });
  for (const name of HELD) writeFileSync(join(dir, name), '');
  server = spawn(process.execPath, ['-e', SERVER], {
    stdio: ['ignore', 'pipe', 'inherit'],
    env: { ...process.env, HOLD: HELD.map((name) => join(dir, name)).join('\n') },
  });
  port = await new Promise<number>((resolve, reject) => {
    server.stdout!.once('data', (chunk: Buffer) => resolve(Number(chunk.toString().trim())));
    server.once('exit', () => reject(new Error('the test server exited')));
  });
  mkdirSync(dirname(`${dir}${hostLayout(NAME).pidfile}`), { recursive: true });
  writeFileSync(`${dir}${hostLayout(NAME).pidfile}`, `${server.pid}\n`);
  // A request every 20 ms on a new connection: accept, read, write, close, epoll.
  asking = setInterval(() => {
    get({ host: '127.0.0.1', port, path: '/ok', agent: false }, (res) => res.resume()).on(
      'error',
      () => undefined,
    );
  }, 20);
}, 30_000);

afterAll(() => {
  clearInterval(asking);
  server?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const TOOLS = [
  { tool: 'bpftrace', hidden: [] as string[], touched: false },
  { tool: 'strace', hidden: ['bpftrace'], touched: true },
] as const;

describe.each(TOOLS)('the trace script with the real $tool', ({ tool, hidden, touched }) => {
  it("shows an HTTP server's calls, and nothing is attached when the seconds are up", async () => {
    expect(nothingAttached()).toBe(true);
    const result = await run(moved(traceScript(manifest, 2)), undefined, [...hidden]);
    expect(result.code, result.stderr).toBe(0);
    const report = parseTraceOutput(result.stdout, 'local');
    expect(report.tool, JSON.stringify(report.skipped)).toBe(tool);
    const names = report.syscalls.map((row) => row.name);
    expect(report.pids[0]).toBe(server.pid);
    expect(
      names.some((name) => /^accept4?$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^epoll_p?wait2?$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^(read|readv|recvfrom)$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(
      names.some((name) => /^(write|writev|sendto)$/.test(name)),
      names.join(' '),
    ).toBe(true);
    expect(report.total!.calls).toBeGreaterThan(10);
    expect(
      report.touched.some((t) => /^TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1\]$/.test(t.what)),
      JSON.stringify(report.touched),
    ).toBe(touched);
    expect(report.open.some((o) => o.what === 'socket')).toBe(true);
    // Each held file by its whole path, once: never cut at a space, never counted as a socket.
    for (const name of HELD)
      expect(
        report.open.filter((o) => o.what === join(dir, name)),
        JSON.stringify(report.open),
      ).toEqual([{ count: 1, what: join(dir, name) }]);
    expect(result.ms).toBeLessThan(20_000);
    expect(nothingAttached()).toBe(true);
  }, 40_000);

  it('stops at once when its stdin ends, long before the seconds are up', async () => {
    // stdin ends a second after the tracer is attached (however long this busy machine takes).
    let attachedAt = 0;
    const attached = async () => {
      const isAttached = () =>
        tool === 'strace'
          ? tracerPids(server.pid!).some((p) => p !== 0)
          : tracepointPrograms(ours).length >= 3;
      while (!isAttached()) await new Promise((resolve) => setTimeout(resolve, 100));
      attachedAt = Date.now();
      await new Promise((resolve) => setTimeout(resolve, 1000));
    };
    const result = await run(moved(traceScript(manifest, 60)), undefined, [...hidden], attached);
    expect(result.code, result.stderr).toBe(0);
    expect(attachedAt).toBeGreaterThan(0);
    // Well before the 60 s asked for.
    expect(Date.now() - attachedAt).toBeLessThan(15_000);
    const report = parseTraceOutput(result.stdout, 'local');
    expect(report.tool).toBe(tool);
    expect(report.syscalls.length).toBeGreaterThan(0);
    expect(nothingAttached()).toBe(true);
  }, 60_000);
});

describe('the trace script choosing a tracer', () => {
  it('says why bpftrace and sysdig were passed over, as sysdig itself finds it', async () => {
    const result = await run(moved(traceScript(manifest, 1)), undefined, ['bpftrace']);
    expect(result.code, result.stderr).toBe(0);
    expect(parseTraceOutput(result.stdout, 'local').skipped).toStrictEqual([
      { tool: 'bpftrace', reason: 'not installed' },
      { tool: 'sysdig', reason: 'its kernel driver is not loaded (no /dev/scap0)' },
    ]);
    // sysdig agrees: it cannot open its driver here (this kernel loads no modules).
    const sysdig = spawnSync('timeout', ['20', 'sysdig', '-n', '1'], { encoding: 'utf8' });
    expect(sysdig.status, sysdig.stdout).not.toBe(0);
    expect(sysdig.stderr + sysdig.stdout).toMatch(/error opening device \/dev\/scap0/);
  }, 40_000);

  it('passes sysdig over as not there when it is not', async () => {
    const result = await run(moved(traceScript(manifest, 1)), undefined, ['bpftrace', 'sysdig']);
    expect(result.code, result.stderr).toBe(0);
    const report = parseTraceOutput(result.stdout, 'local');
    expect(report.tool).toBe('strace');
    expect(report.skipped.at(-1)).toStrictEqual({ tool: 'sysdig', reason: 'not installed' });
  }, 30_000);

  it('names the packages in one line when no tracer is there', async () => {
    const result = await run(moved(traceScript(manifest, 1)), 0, ['bpftrace', 'sysdig', 'strace']);
    expect(result.code).toBe(4);
    expect(result.stderr).toBe(
      'no tracer: install bpftrace (eBPF, preferred) or strace (apt-get install bpftrace strace)\n',
    );
    expect(nothingAttached()).toBe(true);
  }, 30_000);

  it('says in one line when the service is not running', async () => {
    const result = await run(traceScript({ ...manifest, name: 'api-tracetest-none' }, 1), 0);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('api-tracetest-none is not running\n');
  });
});
