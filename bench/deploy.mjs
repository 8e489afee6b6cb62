#!/usr/bin/env node
// Benchmark: `svc deploy` of the scaffolded api- project (init monit) to N light sandbox hosts,
// cold (fresh hosts) and no-op (everything already in place), against a floor measured in the
// same run: the same layout, release and config files placed by ONE plain OpenSSH
// `ssh root@HOST sh -s` script per host, all hosts in parallel, starting the service the same way
// (monit reload + monit start, then wait until the health URL answers on the host).
//
// Drives bin/svc and ssh as processes (dist/ must be built: `npm run build`); needs root. Every
// timed run gets fresh hosts (sandbox down + up between runs, not timed); each sandbox has its
// own state directory and /16 (10.100-10.127, a range the tests never draw) and is taken down
// even when the run fails or the bench is interrupted.
//
//   npm run bench                                    # sandbox bench, then this one
//   node bench/deploy.mjs                            # N = 1, 10, 50; 3 runs each
//   BENCH_HOSTS=1,10 node bench/deploy.mjs --runs 5 --out /tmp/deploy-bench.json
//
// Options: --hosts 1,10,50 (or env BENCH_HOSTS), --runs N (>= 3; --rounds too), --out FILE (JSON;
// default: stdout only), --login deploy|root (svc's login user; default deploy, through sudo -n;
// the floor always logs in as root), --svc PATH (or env BENCH_SVC: the bin/svc to drive, default
// this checkout's), --dump-floor FILE (write the floor script there, to read or rerun by hand),
// --verbose (svc's own result table after each cold run).
//
// Round trips are counted from svc's own trace (SVC_TRACE_SSH=1: one stderr line per SSH connect
// and per remote command); the floor is one connect and one command per host by construction.
// CPU s is the whole machine's busy CPU time during a run (/proc/stat): on a 2-CPU machine with
// 10+ hosts both svc and the floor are CPU-bound, so it explains most of the wall time. Each
// timed run waits for a quiet machine first (other engineers' tests may share it). The profile
// under the table gives, for the median run, when each step happened (seconds since the process
// was spawned, median host/last host), from svc's step lines on stderr and from markers the floor
// script echoes. A preflight on two hosts (svc deploys one, the floor script the other) checks
// that both leave the same files, modes, owners, links and running service.
import { spawn } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { lstatSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

const REPO = fileURLToPath(new URL('../', import.meta.url));
const SERVICE = 'api-bench';

// ---------------------------------------------------------------------------------------------
// Options

function option(name, fallback) {
  const args = process.argv.slice(2);
  const at = args.indexOf(name);
  if (at === -1) return fallback;
  const value = args[at + 1];
  if (value === undefined || value.startsWith('--')) fail(`${name} needs a value`);
  return value;
}

function fail(message) {
  process.stderr.write(`bench/deploy: ${message}\n`);
  process.exit(1);
}

const HOSTS = (option('--hosts', process.env.BENCH_HOSTS || '1,10,50') ?? '')
  .split(',')
  .map((text) => text.trim())
  .filter(Boolean)
  .map((text) => {
    const n = Number(text);
    if (!Number.isInteger(n) || n < 1 || n > 200) fail(`host count ${text}: must be 1-200`);
    return n;
  });
// `npm run bench -- ARGS` hands ARGS to this script (the last in the chain): --rounds, the sandbox
// bench's name for runs, is taken as --runs, and its --no-systemd is let through.
const VALUED = ['--hosts', '--runs', '--rounds', '--out', '--login', '--svc', '--dump-floor'];
const FLAGS = ['--verbose', '--no-systemd'];
process.argv.slice(2).forEach((arg, index, args) => {
  if (VALUED.includes(arg) || FLAGS.includes(arg) || VALUED.includes(args[index - 1])) return;
  fail(`unknown option ${arg} (options: ${[...VALUED, ...FLAGS].join(' ')})`);
});
const RUNS = Number(option('--runs', option('--rounds', '3')));
if (!Number.isInteger(RUNS) || RUNS < 3) fail('--runs: at least 3 (medians of >= 3 runs)');
const OUT = option('--out', undefined);
const LOGIN = option('--login', 'deploy');
if (LOGIN !== 'deploy' && LOGIN !== 'root') fail('--login: deploy or root');
const VERBOSE = process.argv.includes('--verbose');
const DUMP_FLOOR = option('--dump-floor', undefined);
// Another checkout's bin/svc (a clean build of a commit, say, while src/ is being edited here).
const SVC = option('--svc', process.env.BENCH_SVC || join(REPO, 'bin', 'svc'));
if (HOSTS.length === 0) fail('no host counts (--hosts or BENCH_HOSTS)');
if (process.getuid?.() !== 0) fail('needs root (sandbox hosts are namespaces)');

const SVC_TIMEOUT_MS = 300_000;
const SSH_TIMEOUT_MS = 120_000;

// ---------------------------------------------------------------------------------------------
// Processes: every child is tracked by pid so a timeout or Ctrl-C ends exactly what we started.

const children = new Set();

/**
 * Runs a command; resolves with its exit code, output, wall time (ms) and every output line with
 * the time it arrived (ms since spawn). Never rejects on a non-zero exit.
 */
function run(file, args, { env = process.env, input, timeoutMs = SVC_TIMEOUT_MS } = {}) {
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

function svcEnv(stateDir, extra = {}) {
  const env = { ...process.env, SVC_SANDBOX_DIR: stateDir, NO_COLOR: '1', ...extra };
  delete env.SVC_DEBUG;
  return env;
}

async function svc(args, stateDir, extra) {
  return run(SVC, args, { env: svcEnv(stateDir, extra) });
}

function must(result, what) {
  if (result.code !== 0) {
    const tail = `${result.stderr}\n${result.stdout}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`${what} failed (exit ${result.code}):\n${tail}`);
  }
  return result;
}

// ---------------------------------------------------------------------------------------------
// Sandboxes: up (not timed), work, and down in `finally`, even on Ctrl-C.

const activeSandboxes = new Set();

const downs = new Map();

/** `svc sandbox down`, once per state directory however often it is asked for (Ctrl-C + finally). */
function sandboxDown(stateDir) {
  if (!downs.has(stateDir)) {
    downs.set(
      stateDir,
      svc(['sandbox', 'down', '--state-dir', stateDir], stateDir).then((result) => {
        activeSandboxes.delete(stateDir);
        if (result.code !== 0) {
          process.stderr.write(`bench/deploy: sandbox down ${stateDir}: ${result.stderr.trim()}\n`);
        } else {
          rmSync(stateDir, { recursive: true, force: true });
        }
      }),
    );
  }
  return downs.get(stateDir);
}

async function withSandbox(count, work) {
  const stateDir = mkdtempSync(join(tmpdir(), 'svc-deploy-bench-'));
  activeSandboxes.add(stateDir);
  try {
    let result;
    for (let attempt = 0; attempt < 8; attempt++) {
      // A /16 the tests (10.128-254) and a user's own sandbox (10.231) never take.
      const net = `10.${randomInt(100, 128)}`;
      const args = ['sandbox', 'up', String(count), '--state-dir', stateDir, '--net', net];
      if (LOGIN === 'root') args.push('--user', 'root');
      result = await svc(args, stateDir);
      if (result.code === 0 || !/already (routed|used)/.test(result.stderr)) break;
    }
    must(result, `svc sandbox up ${count}`);
    const inventory = JSON.parse(readFileSync(join(stateDir, 'inventory.json'), 'utf8'));
    if (inventory.hosts.length !== count)
      throw new Error(`sandbox has ${inventory.hosts.length} hosts, not ${count}`);
    return await work({ stateDir, inventory });
  } finally {
    await sandboxDown(stateDir);
  }
}

// A reader that went away (`| head`) must not keep the sandboxes from being taken down.
process.stdout.on('error', () => undefined);
process.stderr.on('error', () => undefined);

/** Local scratch directories (the scaffolded project), removed on Ctrl-C too. */
const scratch = new Set();
let stopping = false;
async function interrupted(signal) {
  if (stopping) return;
  stopping = true;
  process.stderr.write(`\nbench/deploy: ${signal}: ending children and taking sandboxes down\n`);
  for (const child of children) child.kill('SIGKILL');
  await Promise.all([...activeSandboxes].map(sandboxDown));
  for (const dir of scratch) rmSync(dir, { recursive: true, force: true });
  process.exit(130);
}
process.on('SIGINT', () => void interrupted('SIGINT'));
process.on('SIGTERM', () => void interrupted('SIGTERM'));

// ---------------------------------------------------------------------------------------------
// The machine: CPU time spent (all processes: svc or ssh, sshd, the hosts' commands, the
// services), and a quiet machine before each timed run, since other work may share it.

function cpuTicks() {
  const [, ...fields] = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/);
  const [user, nice, system, idle, iowait, irq, softirq, steal] = fields.map(Number);
  return {
    busy: user + nice + system + irq + softirq + steal,
    total: user + nice + system + idle + iowait + irq + softirq + steal,
  };
}
const TICK_MS = 10; // USER_HZ is 100 on Linux

/** Measures `work()`'s wall time and the machine's busy CPU time meanwhile (ms). */
async function measured(work) {
  const before = cpuTicks();
  const result = await work();
  const after = cpuTicks();
  return { ...result, cpuMs: (after.busy - before.busy) * TICK_MS };
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Waits (up to 60 s) until the machine is at most 10% busy over 300 ms, so a run does not start
 * while the sandbox is still settling or someone else's work is running. Returns whether it was.
 */
async function quiet() {
  const deadline = performance.now() + 60_000;
  for (;;) {
    const before = cpuTicks();
    await sleep(300);
    const after = cpuTicks();
    const busy = (after.busy - before.busy) / Math.max(1, after.total - before.total);
    if (busy <= 0.1) return true;
    if (performance.now() > deadline) return false;
  }
}

// ---------------------------------------------------------------------------------------------
// The floor: one plain OpenSSH session per host running one sh script.

function sq(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

function sshArgs(inventory, host, user) {
  return [
    '-o',
    'KexAlgorithms=curve25519-sha256',
    '-i',
    host.keyFile,
    '-o',
    `UserKnownHostsFile=${inventory.knownHostsFile}`,
    '-o',
    'StrictHostKeyChecking=yes',
    '-F',
    'none',
    '-o',
    'BatchMode=yes',
    '-o',
    'IdentitiesOnly=yes',
    '-o',
    'ConnectTimeout=10',
    '-p',
    String(host.port),
    `${user}@${host.address}`,
  ];
}

/** A gzipped tar of `files` (paths relative to `dir`), owned by root, as base64 for a heredoc. */
async function tarBase64(dir, files) {
  const args = [
    '-czf',
    '-',
    '--owner=0',
    '--group=0',
    '--numeric-owner',
    '-C',
    dir,
    '--',
    ...files,
  ];
  const result = await run('sh', ['-c', `tar ${args.map(sq).join(' ')} | base64 -w 76`]);
  return must(result, 'tar | base64').stdout;
}

/** Regular files under dir, relative paths, sorted. */
function walkFiles(dir, prefix = '') {
  const files = [];
  for (const name of readdirSync(join(dir, prefix)).sort()) {
    const relative = prefix ? `${prefix}/${name}` : name;
    const stat = lstatSync(join(dir, relative));
    if (stat.isDirectory()) files.push(...walkFiles(dir, relative));
    else if (stat.isFile()) files.push(relative);
  }
  return files;
}

// Polls wait 10, 20, 40, 80, then 160 ms (30 s in all at most): prompt on one idle host, and
// cheap when 50 hosts share two CPUs (each curl or monit summary costs ~7 ms of CPU; at N >= 10
// the floor is CPU-bound, and a fixed 50 ms poll measured no faster than this).
const BACKOFF =
  'd=0.01 n=0; backoff() { n=$((n+1)); [ "$n" -le 200 ] || exit "$1"; sleep "$d"; ' +
  'case $d in 0.01) d=0.02 ;; 0.02) d=0.04 ;; 0.04) d=0.08 ;; 0.08) d=0.16 ;; esac; }';

/**
 * The floor script: what svc's default playbook makes true on a fresh host, without svc. The
 * release and the config overlay arrive as base64 tar.gz heredocs (dash reads its script from
 * stdin in blocks, so a raw tar stream appended after the script would be eaten by sh itself).
 * It echoes STEP markers naming its host ($1), timed by the bench as they arrive. The helper
 * scripts svc writes to ~/script/NAME are taken from a host svc deployed (see preflight).
 */
async function floorScript(project, spec) {
  const { name, releaseId, releaseFiles, login, loginHome, port, health, helpersTar } = spec;
  const configFiles = walkFiles(join(project, 'config'));
  const releaseTar = await tarBase64(project, releaseFiles);
  const configTar = await tarBase64(join(project, 'config'), configFiles);
  const parents = [
    ...new Set(configFiles.map((file) => `/${file.split('/').slice(0, -1).join('/')}`)),
  ];
  const www = `/var/www/${name}`;
  const partial = `${www}/releases/.${releaseId}.partial`;
  const release = `${www}/releases/${releaseId}`;
  const url = `http://127.0.0.1:${port}${health}`;
  const end = `BENCH_EOF_${randomInt(1e9)}`;
  return [
    'set -eu',
    'export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    'umask 022',
    'h=${1:-0}',
    'echo "STEP $h shell"',
    // the service user and the layout
    `useradd --system --no-create-home --home-dir ${sq(`/var/db/${name}`)} --shell /usr/sbin/nologin --user-group ${sq(name)}`,
    `install -d -m 0755 ${sq(www)} ${sq(`${www}/releases`)}`,
    `install -d -m 0750 -o ${sq(name)} -g ${sq(name)} ${sq(`/var/log/${name}`)} ${sq(`/var/db/${name}`)}`,
    `install -d -m 0700 /var/lib/svc ${sq(`/var/lib/svc/${name}`)}`,
    `install -d -m 0755 -o ${sq(login)} -g ${sq(login)} ${['service', 'log', 'db', 'image'].map((d) => sq(`${loginHome}/${d}`)).join(' ')}`,
    `ln -sfn ${sq(`/var/www/${name}/current`)} ${sq(`${loginHome}/service/${name}`)}`,
    `ln -sfn ${sq(`/var/log/${name}`)} ${sq(`${loginHome}/log/${name}`)}`,
    `ln -sfn ${sq(`/var/db/${name}`)} ${sq(`${loginHome}/db/${name}`)}`,
    // the helper scripts svc writes to ~/script/NAME (owner and modes kept: tar runs as root)
    ...(helpersTar
      ? [`base64 -d <<'${end}' | tar -xzf - -C ${sq(loginHome)}`, `${helpersTar}${end}`]
      : []),
    'echo "STEP $h layout"',
    // the release, unpacked beside its final name and renamed into place
    `mkdir ${sq(partial)}`,
    `base64 -d <<'${end}' | tar -xzf - -C ${sq(partial)} --no-same-owner`,
    `${releaseTar}${end}`,
    `mv -T ${sq(partial)} ${sq(release)}`,
    `ln -sfn ${sq(`releases/${releaseId}`)} ${sq(`${www}/current`)}`,
    'echo "STEP $h release"',
    // the config overlay: env file, monit check, launcher, logrotate (modes from the project)
    `mkdir -p ${parents.map(sq).join(' ')}`,
    `base64 -d <<'${end}' | tar -xzf - -C / --no-same-owner --no-overwrite-dir`,
    `${configTar}${end}`,
    'echo "STEP $h files"',
    // start the way svc does: monit reload, wait until monit knows the check, monit start
    'monit reload </dev/null',
    `${BACKOFF}; until monit summary ${sq(name)} >/dev/null 2>&1 </dev/null; do backoff 71; done`,
    'echo "STEP $h monit reloaded"',
    `monit start ${sq(name)} </dev/null`,
    'echo "STEP $h started"',
    `${BACKOFF}; until curl -fsS -o /dev/null --max-time 2 ${sq(url)} </dev/null 2>/dev/null; do backoff 72; done`,
    'echo "STEP $h healthy"',
    '',
  ].join('\n');
}

/**
 * Every host at once, the way a plain shell does it: one `sh` starts an `ssh ... sh -s` per host
 * in the background and waits for them all. (Spawning 50 ssh processes from Node instead blocks
 * its event loop: each spawn waits for its child's exec, and under this load that serialises the
 * start of the hosts by several seconds.) The hosts' STEP markers share one pipe; each names its
 * host, and the wait loop reports each host's exit code.
 */
async function floorRun(inventory, scriptFile) {
  const common = sshArgs(inventory, inventory.hosts[0], 'root').slice(0, -3); // without -p PORT USER@ADDRESS
  const launcher = [
    'script=$1; shift',
    'pids= i=0',
    'while [ "$#" -gt 0 ]; do',
    `  ssh ${common.map(sq).join(' ')} -p "$2" "root@$1" "sh -s -- $i" <"$script" &`,
    '  pids="$pids $!" i=$((i + 1)); shift 2',
    'done',
    'i=0',
    'for pid in $pids; do',
    '  if wait "$pid"; then code=0; else code=$?; fi',
    '  echo "EXIT $i $code"; i=$((i + 1))',
    'done',
  ].join('\n');
  const hostArgs = inventory.hosts.flatMap((host) => [host.address, String(host.port)]);
  const result = await run('sh', ['-c', launcher, 'floor', scriptFile, ...hostArgs], {
    timeoutMs: SSH_TIMEOUT_MS,
  });
  const events = inventory.hosts.map(() => ({}));
  const failed = [];
  for (const { at, line } of result.lines.stdout) {
    let match = /^STEP (\d+) (.+)$/.exec(line);
    if (match) events[Number(match[1])][match[2]] ??= at;
    match = /^EXIT (\d+) (\d+)$/.exec(line);
    if (match && match[2] !== '0')
      failed.push(`${inventory.hosts[Number(match[1])].name} (exit ${match[2]})`);
  }
  const exits = result.lines.stdout.filter(({ line }) => line.startsWith('EXIT ')).length;
  if (result.code !== 0 || failed.length > 0 || exits !== inventory.hosts.length) {
    throw new Error(
      `floor failed on ${failed.join(', ') || 'some host'}: ${result.stderr.trim().split('\n').slice(-5).join(' | ')}`,
    );
  }
  return {
    ms: result.ms,
    connects: 1,
    execs: 1,
    events: events.map((e) => ({ ...e, exit: result.ms })),
  };
}

// ---------------------------------------------------------------------------------------------
// svc deploy, traced

const SVC_STEPS = {
  locked: 'locked',
  'facts unchanged since the plan': 'stale check',
  'files in place': 'files',
  'monit reloaded': 'monit reloaded',
  [`started ${SERVICE}`]: 'started',
  healthy: 'healthy',
};

function parseTable(stdout) {
  const lines = stdout.split('\n');
  const header = lines.findLastIndex((line) =>
    /^HOST\s+RESULT\s+RELEASE\s+CHANGES\s+TIME/.test(line),
  );
  if (header === -1) return [];
  const rows = [];
  for (const line of lines.slice(header + 1)) {
    const match =
      /^(\S+)\s+(unchanged|deployed|rolled back|refused|locked|stale|failed|skipped)\s+(\S+)\s+.*?\s(\S+)s?$/.exec(
        line,
      );
    if (!match) break;
    rows.push({
      host: match[1],
      status: match[2],
      release: match[3],
      seconds: Number.parseFloat(match[4]),
    });
  }
  return rows;
}

async function svcDeploy(stateDir, project, count, expect) {
  const result = await svc(
    ['deploy', 'sandbox', '--yes', '--parallel', String(count), '--dir', project],
    stateDir,
    { SVC_TRACE_SSH: '1' },
  );
  must(result, `svc deploy (${expect})`);
  const rows = parseTable(result.stdout);
  if (rows.length !== count || rows.some((row) => row.status !== expect)) {
    throw new Error(
      `svc deploy: expected ${count} host(s) ${expect}, got:\n${result.stdout
        .split('\n')
        .slice(-count - 3)
        .join('\n')}`,
    );
  }
  const perHost = new Map();
  const host = (name) => {
    if (!perHost.has(name)) perHost.set(name, { connects: 0, execs: 0, at: {} });
    return perHost.get(name);
  };
  for (const { at, line } of result.lines.stderr) {
    let match = /^svc-trace: (\S+) connect$/.exec(line);
    if (match) {
      const h = host(match[1]);
      h.connects++;
      h.at.connect ??= at;
      continue;
    }
    match = /^svc-trace: (\S+) exec (.*)$/.exec(line);
    if (match) {
      const h = host(match[1]);
      h.execs++;
      h.at[
        match[2] === 'gathering facts' ? 'facts' : match[2] === 'deploying' ? 'apply' : match[2]
      ] ??= at;
      continue;
    }
    match = /^(sbx-\d+): (.*)$/.exec(line);
    if (match && SVC_STEPS[match[2]]) host(match[1]).at[SVC_STEPS[match[2]]] ??= at;
  }
  for (const row of rows) host(row.host);
  const hosts = [...perHost.values()];
  const events = hosts.map((h) => ({ ...h.at, exit: result.ms }));
  return {
    ms: result.ms,
    connects: hosts.map((h) => h.connects),
    execs: hosts.map((h) => h.execs),
    reported: Math.max(...rows.map((row) => row.seconds)),
    events,
    table: result.stdout.slice(result.stdout.lastIndexOf('HOST ')),
  };
}

// ---------------------------------------------------------------------------------------------
// Preflight (not timed): the release ID and file list svc ships, the login's home, and a check
// that the floor leaves the same layout as svc: svc deploys sbx-1, the floor script sbx-2, and
// both are listed and compared.

function listingScript(spec) {
  const { name, loginHome } = spec;
  // Broad on purpose: whatever svc starts writing there later shows up as a difference.
  const roots = [
    '/var/www',
    '/var/log',
    '/var/db',
    '/var/lib/svc',
    '/usr/local/lib/svc',
    '/etc/default',
    '/etc/monit',
    '/etc/logrotate.d',
    loginHome,
  ];
  return [
    `find ${roots.map(sq).join(' ')} -printf '%M %u:%g %p -> %l\\n' | sort`,
    `find ${roots.map(sq).join(' ')} -type f ! -name '*.log' -exec sha256sum {} + | sort -k2`,
    `getent passwd ${sq(name)}`,
    `getent group ${sq(name)}`,
    `monit summary ${sq(name)} | tail -n 1 | tr -s ' '`,
    `curl -fsS -o /dev/null -w 'health %{http_code}\\n' --max-time 2 ${sq(`http://127.0.0.1:${spec.port}${spec.health}`)}`,
    `ps -o user=,args= -C node`,
  ].join('\n');
}

async function preflight(project) {
  const manifest = parseYaml(readFileSync(join(project, 'svc.yaml'), 'utf8'));
  return withSandbox(2, async ({ stateDir, inventory }) => {
    const plan = await svc(['plan', 'sandbox', '--json', '--dir', project], stateDir);
    must(plan, 'svc plan --json');
    const document = JSON.parse(plan.stdout);
    const releaseChange = document.hosts[0].changes.find((c) => c.kind === 'release');
    if (!releaseChange) throw new Error('svc plan shows no release to create');
    const releaseId = releaseChange.target.split('/').pop();
    const [sbx1, sbx2] = inventory.hosts;
    const ssh = async (host, command, input) =>
      must(
        await run('ssh', [...sshArgs(inventory, host, 'root'), command], {
          input,
          timeoutMs: SSH_TIMEOUT_MS,
        }),
        `ssh ${host.name} ${command.split('\n')[0]}`,
      ).stdout;
    const login = sbx1.user;
    const loginHome = (await ssh(sbx1, `getent passwd ${sq(login)}`)).trim().split(':')[5];
    // svc deploys sbx-1 only; its release directory tells which files a release holds.
    must(
      await svc(['deploy', 'sbx-1', '--yes', '--dir', project], stateDir),
      'svc deploy sbx-1 (preflight)',
    );
    const releaseFiles = (
      await ssh(
        sbx1,
        `cd /var/www/${sq(manifest.name)}/releases/${sq(releaseId)} && find . -type f | sort`,
      )
    )
      .trim()
      .split('\n')
      .map((file) => file.replace(/^\.\//, ''));
    // What else svc put in the login's home besides the dirs and links the floor makes itself:
    // the helper scripts ~/script/NAME/{start,stop,...}. The floor ships the same bytes.
    const helpersTar = await ssh(
      sbx1,
      `cd ${sq(loginHome)} && if [ -d script ]; then tar -czf - script | base64 -w 76; fi`,
    );
    const spec = {
      name: manifest.name,
      releaseId,
      releaseFiles,
      login,
      loginHome,
      port: manifest.port,
      health: manifest.health,
      helpersTar,
    };
    const script = await floorScript(project, spec);
    must(
      await run('ssh', [...sshArgs(inventory, sbx2, 'root'), 'sh -s -- 0'], {
        input: script,
        timeoutMs: SSH_TIMEOUT_MS,
      }),
      'floor script on sbx-2 (preflight)',
    );
    const listing = listingScript(spec);
    const viaSvc = (await ssh(sbx1, listing)).split('\n');
    const viaFloor = (await ssh(sbx2, listing)).split('\n');
    const onlySvc = viaSvc.filter((line) => !viaFloor.includes(line));
    const onlyFloor = viaFloor.filter((line) => !viaSvc.includes(line));
    // svc's own bookkeeping, which the floor has no reason to write.
    const expected = (line) =>
      line.includes(`/var/lib/svc/${manifest.name}/installed.json`) ||
      line.includes('/var/lib/svc/locks');
    const layout = {
      identical: onlySvc.every(expected) && onlyFloor.length === 0,
      onlySvc,
      onlyFloor,
    };
    return { spec, script, layout };
  });
}

// ---------------------------------------------------------------------------------------------
// Statistics and output

const median = (values) => {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const s = (ms) => (ms / 1000).toFixed(2);
const span = (values) => {
  const lo = Math.min(...values);
  const hi = Math.max(...values);
  return lo === hi ? String(lo) : `${lo}-${hi}`;
};

/** For each step: the median host's time and the last host's time, in seconds. */
function profileOf(events, order) {
  const result = {};
  for (const step of order) {
    const times = events.map((e) => e[step]).filter((t) => t !== undefined);
    if (times.length === 0) continue;
    result[step] = {
      median: +(median(times) / 1000).toFixed(3),
      last: +(Math.max(...times) / 1000).toFixed(3),
    };
  }
  return result;
}

const SVC_ORDER = [
  'connect',
  'facts',
  'apply',
  'locked',
  'stale check',
  'files',
  'monit reloaded',
  'started',
  'healthy',
  'exit',
];
const FLOOR_ORDER = [
  'shell',
  'layout',
  'release',
  'files',
  'monit reloaded',
  'started',
  'healthy',
  'exit',
];

function formatTable(rows) {
  const header = [
    'N',
    'mode',
    'median s',
    'runs (s)',
    'ratio to floor',
    'CPU s',
    'connects/host',
    'execs/host',
    'svc table s',
  ];
  const cells = rows.map((r) => [
    String(r.n),
    r.mode,
    r.median.toFixed(2),
    r.runs.map((x) => x.toFixed(2)).join(' '),
    r.ratio === null ? '-' : `${r.ratio.toFixed(2)}x`,
    r.cpu.toFixed(2),
    r.connectsPerHost,
    r.execsPerHost,
    r.svcReported === null ? '-' : r.svcReported.toFixed(1),
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i].length)));
  const line = (c) =>
    c
      .map((text, i) => text.padEnd(widths[i]))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

function formatProfile(label, profile) {
  const steps = Object.entries(profile)
    .map(
      ([step, t]) =>
        `${step} ${t.median.toFixed(2)}${t.last !== t.median ? `/${t.last.toFixed(2)}` : ''}`,
    )
    .join(', ');
  return `  ${label.padEnd(16)} ${steps}`;
}

// ---------------------------------------------------------------------------------------------
// Main

async function main() {
  const sshVersion = (await run('ssh', ['-V'])).stderr.trim();
  const work = mkdtempSync(join(tmpdir(), 'svc-deploy-bench-project-'));
  scratch.add(work);
  const project = join(work, SERVICE);
  try {
    must(
      await run(SVC, ['new', SERVICE, '--yes', '--init', 'monit', '--dir', project], {
        env: svcEnv(work),
      }),
      'svc new',
    );
    process.stderr.write(
      `svc deploy bench: N = ${HOSTS.join(', ')}; ${RUNS} runs each; svc logs in as ${LOGIN}\n`,
    );
    const { spec, script, layout } = await preflight(project);
    if (DUMP_FLOOR) writeFileSync(DUMP_FLOOR, script);
    const scriptFile = join(work, 'floor.sh');
    writeFileSync(scriptFile, script);
    process.stderr.write(
      `preflight: release ${spec.releaseId} (${spec.releaseFiles.length} files), floor script ${script.length} bytes; ` +
        `layout ${layout.identical ? "identical to svc's (but svc's records: installed.json, locks/)" : 'DIFFERS'}\n`,
    );
    if (!layout.identical) {
      for (const line of layout.onlySvc) process.stderr.write(`  only svc:   ${line}\n`);
      for (const line of layout.onlyFloor) process.stderr.write(`  only floor: ${line}\n`);
    }
    const versions = [];
    for (let i = 0; i < RUNS; i++)
      versions.push(must(await run(SVC, ['--version']), 'svc --version').ms);

    const rows = [];
    const profiles = [];
    for (const n of HOSTS) {
      const cold = [];
      const noop = [];
      const floor = [];
      for (let i = 0; i < RUNS; i++) {
        // svc and the floor alternate, so drift on the machine hits both alike.
        // Each timed run starts on a quiet machine (noted when it could not wait for one).
        await withSandbox(n, async ({ stateDir }) => {
          let calm = await quiet();
          cold.push({
            calm,
            ...(await measured(() => svcDeploy(stateDir, project, n, 'deployed'))),
          });
          calm = await quiet();
          noop.push({
            calm,
            ...(await measured(() => svcDeploy(stateDir, project, n, 'unchanged'))),
          });
        });
        await withSandbox(n, async ({ inventory }) => {
          const calm = await quiet();
          floor.push({ calm, ...(await measured(() => floorRun(inventory, scriptFile))) });
        });
        process.stderr.write(
          `N=${n} run ${i + 1}/${RUNS}: cold ${s(cold.at(-1).ms)} s, no-op ${s(noop.at(-1).ms)} s, floor ${s(floor.at(-1).ms)} s\n`,
        );
        if (VERBOSE) process.stderr.write(`${cold.at(-1).table}\n`);
      }
      const floorMedian = median(floor.map((r) => r.ms));
      const row = (mode, results) => {
        const m = median(results.map((r) => r.ms));
        const svcRuns = results[0].reported !== undefined;
        return {
          n,
          mode,
          median: +(m / 1000).toFixed(3),
          runs: results.map((r) => +(r.ms / 1000).toFixed(3)),
          ratio: mode === 'floor' ? 1 : +(m / floorMedian).toFixed(3),
          cpu: median(results.map((r) => r.cpuMs)) / 1000,
          busyStarts: results.filter((r) => !r.calm).length,
          connectsPerHost: span(results.flatMap((r) => [r.connects].flat())),
          execsPerHost: span(results.flatMap((r) => [r.execs].flat())),
          svcReported: svcRuns ? median(results.map((r) => r.reported)) : null,
        };
      };
      rows.push(row('cold', cold), row('no-op', noop), row('floor', floor));
      const medianRun = (results) => {
        const m = median(results.map((r) => r.ms));
        return results.reduce((best, r) => (Math.abs(r.ms - m) < Math.abs(best.ms - m) ? r : best));
      };
      profiles.push({
        n,
        cold: profileOf(medianRun(cold).events, SVC_ORDER),
        noop: profileOf(medianRun(noop).events, SVC_ORDER),
        floor: profileOf(medianRun(floor).events, FLOOR_ORDER),
      });
    }

    const coldAt10 = rows.find((r) => r.n === 10 && r.mode === 'cold');
    const floorAt10 = rows.find((r) => r.n === 10 && r.mode === 'floor');
    const noopExecs = rows.filter((r) => r.mode === 'no-op').map((r) => r.execsPerHost);
    const maxNoopExecs = Math.max(...noopExecs.flatMap((text) => text.split('-').map(Number)));
    const targets = {
      coldWithin1_5xAtN10: coldAt10
        ? {
            ratio: +coldAt10.ratio.toFixed(2),
            met: coldAt10.ratio <= 1.5,
            // how much faster cold would have to be, in seconds and as a share of its time
            overSeconds: +Math.max(0, coldAt10.median - 1.5 * floorAt10.median).toFixed(2),
          }
        : null,
      noopAtMost2ExecsPerHost: { execs: maxNoopExecs, met: maxNoopExecs <= 2 },
    };

    const out = process.stdout;
    out.write(
      `\nsvc deploy vs a one-script-per-host floor (${cpus().length} CPUs, node ${process.version}, ${sshVersion})\n`,
    );
    out.write(
      `median of ${RUNS} runs, wall seconds of the whole process (svc: including Node start-up); `,
    );
    out.write(`svc --version alone: ${s(median(versions))} s\n`);
    out.write(
      layout.identical
        ? `the floor leaves the same layout as svc (checked on a host each; svc adds only its records), release ${spec.releaseId}\n\n`
        : 'LAYOUT DIFFERS between the floor and svc (listed on stderr): the comparison is not like for like\n\n',
    );
    out.write(`${formatTable(rows)}\n\n`);
    out.write(
      'connects/execs: SSH connections and remote commands per host (svc: SVC_TRACE_SSH; floor: 1 ssh sh -s).\n',
    );
    out.write(
      "svc table s: the slowest host's TIME in svc's own result table (apply phase only).\n",
    );
    out.write(
      `CPU s: the machine's busy CPU time during the run (median), all processes: svc or ssh, sshd, what runs on the hosts, the services.\n`,
    );
    const busy = rows.reduce((sum, r) => sum + r.busyStarts, 0);
    out.write(
      busy === 0
        ? 'every run started on a quiet machine (<= 10% busy).\n\n'
        : `${busy} run(s) started while the machine was busy with other work for 60 s: their times are suspect.\n\n`,
    );
    out.write('profile of the median run: seconds since spawn, median host/last host\n');
    for (const p of profiles) {
      out.write(`N=${p.n}\n`);
      out.write(`${formatProfile('svc cold', p.cold)}\n`);
      out.write(`${formatProfile('svc no-op', p.noop)}\n`);
      out.write(`${formatProfile('floor', p.floor)}\n`);
    }
    out.write('\ntargets:\n');
    const cold10 = targets.coldWithin1_5xAtN10;
    out.write(
      `  cold deploy within 1.5x of the floor at N=10: ${
        !cold10
          ? 'not measured (N=10 not in the list)'
          : cold10.met
            ? `${cold10.ratio}x: met`
            : `${cold10.ratio}x: MISSED by ${cold10.overSeconds.toFixed(2)} s ` +
              `(cold would need to be ${((cold10.overSeconds / coldAt10.median) * 100).toFixed(0)}% faster)`
      }\n`,
    );
    out.write(
      `  no-op deploy in at most 2 round trips per host after the connection: ${maxNoopExecs}: ${
        targets.noopAtMost2ExecsPerHost.met ? 'met' : 'MISSED'
      }\n`,
    );

    if (OUT) {
      const document = {
        bench: 'svc deploy',
        date: new Date().toISOString(),
        machine: { cpus: cpus().length, node: process.version, ssh: sshVersion },
        runs: RUNS,
        hosts: HOSTS,
        login: LOGIN,
        release: { id: spec.releaseId, files: spec.releaseFiles.length },
        layoutCheck: layout,
        svcVersionSeconds: +(median(versions) / 1000).toFixed(3),
        results: rows,
        profiles,
        targets,
      };
      writeFileSync(OUT, `${JSON.stringify(document, null, 2)}\n`);
      process.stderr.write(`wrote ${OUT}\n`);
    }
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

main().catch(async (error) => {
  process.stderr.write(`bench/deploy: ${error.stack ?? error}\n`);
  for (const stateDir of [...activeSandboxes]) await sandboxDown(stateDir);
  process.exit(1);
});
