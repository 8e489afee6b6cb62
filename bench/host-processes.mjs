#!/usr/bin/env node
// How many processes a deploy starts on the host: `strace -f -e trace=execve` attached to a light
// sandbox host's sshd while svc deploys the bench's project (api-bench, init monit) cold, then
// again (no-op), and while the floor script deploys the same release to a fresh host. Every
// successful execve under sshd counts (sshd's own per-connection processes, sudo, sh, and what
// the fact and apply scripts run); what monit starts on its own (its start program, the
// launcher under it) is monit's child, not sshd's, and is not counted. Counts do not depend on
// the machine's load, so runs taken at different times compare.
//
//   node bench/host-processes.mjs [--svc PATH] [--out FILE.json] [--verbose]
//
// Needs root, strace and a built checkout (dist/). Prints, per run, the total and the commands
// by count; --verbose lists every traced command line.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { floorRun } from './deploy/floor.mjs';
import { OUT, SERVICE, SVC, VERBOSE } from './deploy/options.mjs';
import { preflight } from './deploy/preflight.mjs';
import { children, must, run, svcEnv } from './deploy/processes.mjs';
import { scratch, withSandbox } from './deploy/sandboxes.mjs';
import { sleep } from './deploy/machine.mjs';
import { svcDeploy } from './deploy/svc-deploy.mjs';

/** The sshd among the processes `sandbox up` started for a host. */
function sshdOf(host) {
  const pid = host.pids.find((p) => {
    try {
      return readFileSync(`/proc/${p}/comm`, 'utf8').trim() === 'sshd';
    } catch {
      return false;
    }
  });
  if (pid === undefined) throw new Error(`no sshd among ${host.name}'s processes`);
  return pid;
}

const tracerOf = (pid) =>
  Number(/^TracerPid:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0);

/** Runs `work()` with strace following sshd `pid`: the successful execve calls it saw. */
async function traced(pid, work) {
  const dir = mkdtempSync(join(tmpdir(), 'svc-host-processes-'));
  const file = join(dir, 'strace.out');
  const tracer = spawn(
    'strace',
    [
      '-f',
      '-qq',
      '-z',
      '-s',
      '256',
      '-e',
      'trace=execve',
      '-e',
      'signal=none',
      '-o',
      file,
      '-p',
      String(pid),
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  children.add(tracer);
  let stderr = '';
  tracer.stderr.on('data', (chunk) => (stderr += chunk));
  const ended = new Promise((resolve) => tracer.on('close', resolve));
  try {
    for (let i = 0; tracerOf(pid) !== tracer.pid; i++) {
      if (i > 100) throw new Error(`strace did not attach to ${pid}: ${stderr.trim()}`);
      await sleep(50);
    }
    await work();
    // sshd's children that outlive the deploy (a session closing) are given a moment.
    await sleep(500);
  } finally {
    tracer.kill('SIGINT');
    await ended;
    children.delete(tracer);
  }
  const execs = parseExecs(readFileSync(file, 'utf8'));
  rmSync(dir, { recursive: true, force: true });
  return execs;
}

/**
 * strace's lines: `PID execve("/usr/bin/stat", ["stat", ...], ...) = 0`, or split in two by
 * another process's line (`<unfinished ...>`, then `<... execve resumed>) = 0`).
 */
export function parseExecs(text) {
  const pending = new Map();
  const execs = [];
  for (const line of text.split('\n')) {
    let match = /^(\d+)\s+execve\("((?:[^"\\]|\\.)*)", (\[.*?\])?.*?(<unfinished \.\.\.>|= 0)/.exec(
      line,
    );
    if (match) {
      const entry = { path: match[2], argv: match[3] ?? '' };
      if (match[4] === '= 0') execs.push(entry);
      else pending.set(match[1], entry);
      continue;
    }
    match = /^(\d+)\s+<\.\.\. execve resumed>.*= 0/.exec(line);
    if (match && pending.has(match[1])) {
      execs.push(pending.get(match[1]));
      pending.delete(match[1]);
    }
  }
  return execs;
}

function summary(label, execs) {
  const byCommand = new Map();
  for (const { path } of execs) {
    const name = basename(path);
    byCommand.set(name, (byCommand.get(name) ?? 0) + 1);
  }
  const sorted = [...byCommand].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0]));
  return { label, total: execs.length, byCommand: Object.fromEntries(sorted), execs };
}

function print(result) {
  const commands = Object.entries(result.byCommand)
    .map(([name, count]) => `${name} ${count}`)
    .join(', ');
  process.stdout.write(`${result.label}: ${result.total} processes\n  ${commands}\n`);
  if (VERBOSE) for (const { argv } of result.execs) process.stdout.write(`    ${argv}\n`);
}

async function main() {
  const work = mkdtempSync(join(tmpdir(), 'svc-host-processes-project-'));
  scratch.add(work);
  const project = join(work, SERVICE);
  try {
    must(
      await run(
        SVC,
        ['new', SERVICE, '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
        { env: svcEnv(work) },
      ),
      'svc new',
    );
    const results = [];
    await withSandbox(1, async ({ stateDir, inventory }) => {
      const sshd = sshdOf(inventory.hosts[0]);
      for (const [label, expect] of [
        ['svc cold', 'deployed'],
        ['svc no-op', 'unchanged'],
      ]) {
        const execs = await traced(sshd, () => svcDeploy(stateDir, project, 1, expect));
        results.push(summary(label, execs));
        print(results.at(-1));
      }
    });
    const { script } = await preflight(project);
    const scriptFile = join(work, 'floor.sh');
    writeFileSync(scriptFile, script);
    await withSandbox(1, async ({ inventory }) => {
      const execs = await traced(sshdOf(inventory.hosts[0]), () => floorRun(inventory, scriptFile));
      results.push(summary('floor', execs));
      print(results.at(-1));
    });
    if (OUT) writeFileSync(OUT, `${JSON.stringify(results, null, 2)}\n`);
  } finally {
    rmSync(work, { recursive: true, force: true });
    scratch.delete(work);
  }
}

await main();
