#!/usr/bin/env node
// Benchmark: what `svc top` costs per refresh per host, and whether N hosts at an interval of 2 s
// is sustainable on this machine. Brings up N light sandbox hosts, deploys a scaffolded api-
// (init: monit) to them, then drives the same code `svc top` runs (dist/remote/top-hosts.js: one
// connection and one reader per host, one request per host per refresh) for R refreshes and
// reports:
//
//   sent, received   bytes of requests and of samples per refresh per host (SSH's own framing and
//                    encryption add a little to both); the reader's script, sent once per host
//                    and connection, separately
//   svc CPU          svc's own CPU time (process.cpuUsage) per refresh per host, and as a share
//                    of one core at the interval
//   host side CPU    the CPU time of the sandbox hosts' processes (every process in their network
//                    namespaces: sshd, the reader and what it runs, monit, the service answering
//                    the health URL; those that ended counted through their parent's cutime and
//                    cstime) per refresh per host, less what the hosts use in a quiet window of
//                    the same readers, idle, just before
//   round            wall time for every host to answer one refresh (must stay under the interval)
//   machine          the whole machine's busy share during the refreshes (other work included)
//
// Targets (met/MISSED): every round answered within the interval, svc under half a core, and svc
// plus the hosts' side under one core (half of this 2-core machine). Uses dist/ (`npm run build`
// first) and needs root; the sandbox is taken down in `finally` and on Ctrl-C. Timings on a
// shared machine are noisy.
//
//   node bench/top.mjs                      # 10 hosts, 10 refreshes at 2 s
//   node bench/top.mjs --hosts 100 --rounds 15
import { execFile } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SVC = join(REPO, 'bin', 'svc');
const args = process.argv.slice(2);
const flag = (name, fallback) => {
  const at = args.indexOf(name);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const HOSTS = flag('--hosts', 10);
const ROUNDS = flag('--rounds', 10);
const INTERVAL_MS = flag('--interval', 2) * 1000;

function svc(argv, env) {
  return new Promise((resolve) =>
    execFile(
      SVC,
      argv,
      { env: { ...process.env, ...env, NO_COLOR: '1' }, encoding: 'utf8', timeout: 900_000 },
      (error, stdout, stderr) =>
        resolve({
          code: error ? (typeof error.code === 'number' ? error.code : -1) : 0,
          stdout,
          stderr,
        }),
    ),
  );
}

function must(result, what) {
  if (result.code !== 0)
    throw new Error(`${what} failed: ${(result.stderr || result.stdout).trim()}`);
}

function machineTicks() {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1, 9);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  const busy = user + nice + system + irq + softirq + steal;
  return { busy, total: busy + idle + iowait };
}

/** The network namespaces' inodes of this sandbox's hosts (its inventory's netns names). */
function hostNamespaces(stateDir) {
  const inventory = JSON.parse(readFileSync(join(stateDir, 'inventory.json'), 'utf8'));
  return new Set(inventory.hosts.map((host) => statSync(`/run/netns/${host.netns}`).ino));
}

/**
 * CPU ticks of every process inside the hosts' namespaces: utime + stime + cutime + cstime, so a
 * process that ended since (a reaped child) still counts through its parent.
 */
function hostTicks(namespaces) {
  let ticks = 0;
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (!namespaces.has(statSync(`/proc/${entry}/ns/net`).ino)) continue;
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(') ') + 2).split(' ');
      ticks += Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14]);
    } catch {
      // gone meanwhile: its parent's cutime has it
    }
  }
  return ticks;
}

const pct = (share) => `${(share * 100).toFixed(1)}%`;
const median = (values) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

const stateDir = mkdtempSync(join(tmpdir(), 'svc-top-bench-'));
const work = mkdtempSync(join(tmpdir(), 'svc-top-bench-work-'));
const env = { SVC_SANDBOX_DIR: stateDir };
let up = false;
let top;
async function cleanUp() {
  top?.close();
  if (up) {
    const down = await svc(['sandbox', 'down', '--state-dir', stateDir], env);
    if (down.code !== 0) process.stderr.write(`bench/top: sandbox down: ${down.stderr.trim()}\n`);
    up = false;
  }
  rmSync(stateDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
}
for (const signal of ['SIGINT', 'SIGTERM'])
  process.on(signal, () => void cleanUp().finally(() => process.exit(130)));

try {
  let result;
  for (let attempt = 0; attempt < 8; attempt++) {
    // A /16 the tests (10.128-254) and a user's own sandbox (10.231) never take.
    const net = `10.${randomInt(100, 128)}`;
    up = true;
    result = await svc(
      ['sandbox', 'up', String(HOSTS), '--state-dir', stateDir, '--net', net],
      env,
    );
    if (result.code === 0 || !/already (routed|used)/.test(result.stderr)) break;
  }
  must(result, `svc sandbox up ${HOSTS}`);
  const project = join(work, 'api-orders');
  must(
    await svc(
      ['new', 'api-orders', '--yes', '--init', 'monit', '--cutover', 'restart', '--dir', project],
      { CI: '1' },
    ),
    'svc new',
  );
  must(
    await svc(['deploy', 'sandbox', '--yes', '--parallel', '20', '--dir', project], env),
    'svc deploy',
  );

  process.env.SVC_SANDBOX_DIR = stateDir;
  const { readManifestFile } = await import('../dist/project/read.js');
  const { resolveTarget } = await import('../dist/core/targets.js');
  const { sshOptions, targetContext } = await import('../dist/remote/run-context.js');
  const { TopHosts } = await import('../dist/remote/top-hosts.js');
  const manifest = readManifestFile(project);
  const ctx = targetContext(manifest);
  const hosts = resolveTarget('sandbox', ctx);
  top = new TopHosts(
    hosts,
    manifest,
    sshOptions({}, ctx, undefined),
    Math.max(10_000, 3 * INTERVAL_MS),
  );

  // The first refresh connects, starts the readers and reads CPU twice within the sample: not
  // what a refresh costs.
  await top.refresh(60_000);
  const failed = top.silent(Date.now(), Number.MAX_SAFE_INTEGER);
  if (failed.length > 0) throw new Error(`hosts not answering: ${JSON.stringify(failed)}`);
  const namespaces = hostNamespaces(stateDir);
  const CLK_TCK = 100; // Linux's USER_HZ on every architecture svc runs on

  // The hosts' own use with the readers idle (monit's cycles, sshd's keepalives).
  const quietMs = Math.min(10_000, ROUNDS * INTERVAL_MS);
  const quietBefore = hostTicks(namespaces);
  const quietBegan = performance.now();
  await new Promise((resolve) => setTimeout(resolve, quietMs));
  const quietTicksPerMs = (hostTicks(namespaces) - quietBefore) / (performance.now() - quietBegan);

  const rounds = [];
  const hostBefore = hostTicks(namespaces);
  const machineBefore = machineTicks();
  const cpuBefore = process.cpuUsage();
  const traffic = { ...top.traffic };
  const began = performance.now();
  for (let round = 0; round < ROUNDS; round++) {
    const start = performance.now();
    await top.refresh(60_000);
    rounds.push(performance.now() - start);
    const rest = INTERVAL_MS - (performance.now() - start);
    if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
  }
  const elapsedMs = performance.now() - began;
  const cpu = process.cpuUsage(cpuBefore);
  const machineAfter = machineTicks();
  const hostAfter = hostTicks(namespaces);
  const hostCpuMs = Math.max(
    0,
    ((hostAfter - hostBefore - quietTicksPerMs * elapsedMs) * 1000) / CLK_TCK,
  );
  const samples = ROUNDS * hosts.length;
  const sent = (top.traffic.sentBytes - traffic.sentBytes) / samples;
  const script = top.scriptBytes;
  const hostMsPerHost = hostCpuMs / samples;
  const hostShare = hostCpuMs / elapsedMs;
  const received = (top.traffic.receivedBytes - traffic.receivedBytes) / samples;
  const cpuMsPerHost = (cpu.user + cpu.system) / 1000 / samples;
  const svcShare = (cpu.user + cpu.system) / 1000 / elapsedMs;
  const machineShare =
    (machineAfter.busy - machineBefore.busy) / (machineAfter.total - machineBefore.total);
  const slowest = Math.max(...rounds);
  const silent = top.silent(Date.now(), 2 * INTERVAL_MS);
  const targets = [
    {
      label: `every refresh answered within ${INTERVAL_MS / 1000} s`,
      value: `slowest ${Math.round(slowest)} ms${silent.length ? `, ${silent.length} hosts not answering` : ''}`,
      met: slowest < INTERVAL_MS && silent.length === 0,
    },
    { label: 'svc under half a core', value: pct(svcShare), met: svcShare < 0.5 },
    {
      label: "svc plus the hosts' side under one core (half the machine)",
      value: pct(svcShare + hostShare),
      met: svcShare + hostShare < 1,
    },
  ];
  const sustainable = targets.every((t) => t.met);
  console.log(`svc top: ${hosts.length} hosts, ${ROUNDS} refreshes every ${INTERVAL_MS / 1000} s`);
  console.log(
    `  per refresh per host: sent ${Math.round(sent)} B, received ${Math.round(received)} B, svc CPU ${cpuMsPerHost.toFixed(2)} ms, host side CPU ${hostMsPerHost.toFixed(2)} ms`,
  );
  console.log(
    `  once per host and connection: the reader's script, ${Math.round(script)} B (${traffic.readers} readers for ${hosts.length} hosts)`,
  );
  console.log(
    `  round (all hosts answered): median ${Math.round(median(rounds))} ms, slowest ${Math.round(slowest)} ms`,
  );
  console.log(
    `  svc: ${pct(svcShare)} of one core; hosts' side: ${pct(hostShare)} of one core (their quiet use, ${pct((quietTicksPerMs * 1000) / CLK_TCK / 1000)}, left out); machine busy ${pct(machineShare)} of all cores`,
  );
  for (const t of targets) console.log(`  ${t.label}: ${t.value}: ${t.met ? 'met' : 'MISSED'}`);
  console.log(
    `  ${hosts.length} hosts at ${INTERVAL_MS / 1000} s sustainable: ${sustainable ? 'met' : 'MISSED'}`,
  );
} finally {
  await cleanUp();
}
