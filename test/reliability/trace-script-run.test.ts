// svc trace's script run by a real sh with the real strace on this machine, against a node HTTP
// server asked over loopback (the pidfile moved into a scratch directory): the table holds the
// calls such a server makes, and the tracer detaches when the N seconds are up and, at once, when
// the script's stdin ends (what svc's Ctrl-C, death or a lost connection look like on the host).
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hostLayout } from '../../src/core/layout.js';
import type { Manifest } from '../../src/core/manifest.js';
import { parseTraceOutput } from '../../src/core/trace-report.js';
import { traceScript } from '../../src/core/trace-script.js';
import { manifest as base } from '../helpers/plan-fixtures.js';

const NAME = 'api-tracetest';
const SERVER = String.raw`
const http = require('http');
const server = http.createServer((req, res) => res.end('ok'));
server.listen(0, '127.0.0.1', () => process.stdout.write(server.address().port + '\n'));
`;

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

/** Runs the script with sh; stdin stays open until closeStdinAfterMs (never, when undefined). */
function run(
  script: string,
  closeStdinAfterMs?: number,
): Promise<{ code: number | null; stdout: string; stderr: string; ms: number }> {
  const began = Date.now();
  const child = spawn('sh', ['-c', script], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  if (closeStdinAfterMs !== undefined) setTimeout(() => child.stdin.end(), closeStdinAfterMs);
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
  server = spawn(process.execPath, ['-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
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

describe('the trace script with the real strace', () => {
  it("shows an HTTP server's calls, and has detached when the seconds are up", async () => {
    const result = await run(moved(traceScript(manifest, 2)));
    expect(result.code, result.stderr).toBe(0);
    const report = parseTraceOutput(result.stdout, 'local');
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
    expect(
      report.touched.some((t) => /^TCP:\[127\.0\.0\.1:\d+->127\.0\.0\.1\]$/.test(t.what)),
      JSON.stringify(report.touched),
    ).toBe(true);
    expect(report.open.some((o) => o.what === 'socket')).toBe(true);
    expect(result.ms).toBeLessThan(15_000);
    expect(tracerPids(server.pid!).every((p) => p === 0)).toBe(true);
  }, 30_000);

  it('detaches at once when its stdin ends, long before the seconds are up', async () => {
    const result = await run(moved(traceScript(manifest, 60)), 1500);
    expect(result.code, result.stderr).toBe(0);
    expect(result.ms).toBeLessThan(10_000);
    expect(parseTraceOutput(result.stdout, 'local').syscalls.length).toBeGreaterThan(0);
    expect(tracerPids(server.pid!).every((p) => p === 0)).toBe(true);
  }, 30_000);

  it('says in one line when the service is not running', async () => {
    const result = await run(traceScript({ ...manifest, name: 'api-tracetest-none' }, 1), 0);
    expect(result.code).toBe(3);
    expect(result.stderr).toBe('api-tracetest-none is not running\n');
  });
});
