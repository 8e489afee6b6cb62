// Processes: every child is tracked by pid so a timeout or Ctrl-C ends exactly what we started.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SVC, SVC_TIMEOUT_MS } from './options.mjs';

export const children = new Set();

/**
 * Runs a command; resolves with its exit code, output, wall time (ms) and every output line with
 * the time it arrived (ms since spawn). Never rejects on a non-zero exit.
 */
export function run(file, args, { env = process.env, input, timeoutMs = SVC_TIMEOUT_MS } = {}) {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(file, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const lines = { stdout: [], stderr: [] };
    const chunks = { stdout: [], stderr: [] };
    for (const stream of ['stdout', 'stderr']) {
      let pending = '';
      child[stream].on('data', (chunk) => {
        const at = performance.now() - started;
        chunks[stream].push(chunk);
        pending += chunk.toString('utf8');
        const parts = pending.split('\n');
        pending = parts.pop();
        for (const line of parts) lines[stream].push({ at, line });
      });
    }
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
    }, timeoutMs);
    child.on('error', (error) => {
      clearTimeout(timer);
      children.delete(child);
      reject(error);
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      children.delete(child);
      resolve({
        code: code ?? (signal ? 128 : -1),
        signal,
        ms: performance.now() - started,
        stdout: Buffer.concat(chunks.stdout).toString('utf8'),
        stderr: Buffer.concat(chunks.stderr).toString('utf8'),
        lines,
      });
    });
    child.stdin.on('error', () => undefined); // a child that exits early: seen in its code
    child.stdin.end(input ?? '');
  });
}

export function svcEnv(stateDir, extra = {}) {
  const env = { ...process.env, SVC_SANDBOX_DIR: stateDir, NO_COLOR: '1', ...extra };
  delete env.SVC_DEBUG;
  return env;
}

export async function svc(args, stateDir, extra) {
  return run(SVC, args, { env: svcEnv(stateDir, extra) });
}

// GNU time reports the CPU seconds (user + system) and the peak RSS of the process it runs (and
// of any child it waited for): svc's own, apart from sshd and the hosts' commands.
const TIME = '/usr/bin/time';
let rusageFiles = 0;

/**
 * svc ARGS run under /usr/bin/time when the machine has it: the result gains `svcCpuSeconds`
 * and `peakRssMb` (undefined without it).
 */
export async function svcMeasured(args, stateDir, extra) {
  if (!existsSync(TIME)) return svc(args, stateDir, extra);
  const file = join(tmpdir(), `svc-bench-rusage-${process.pid}-${rusageFiles++}`);
  try {
    const result = await run(TIME, ['-f', 'RUSAGE %U %S %M', '-o', file, SVC, ...args], {
      env: svcEnv(stateDir, extra),
    });
    const match = /^RUSAGE ([\d.]+) ([\d.]+) (\d+)$/m.exec(readFileSync(file, 'utf8'));
    if (!match) return result;
    return {
      ...result,
      svcCpuSeconds: Number(match[1]) + Number(match[2]),
      peakRssMb: Math.round(Number(match[3]) / 1024),
    };
  } finally {
    rmSync(file, { force: true });
  }
}

export function must(result, what) {
  if (result.code !== 0) {
    const lines = `${result.stderr}\n${result.stdout}`.trim().split('\n');
    // The reasons (a host's error line, svc: error) come before the result table: keep them.
    const reasons = lines
      .slice(0, -15)
      .filter((line) => /error|failed|timed out|refused/i.test(line));
    const tail = [...reasons.slice(0, 10), ...lines.slice(-15)].join('\n');
    throw new Error(`${what} failed (exit ${result.code}):\n${tail}`);
  }
  return result;
}
