// The floor: one plain OpenSSH session per host running one sh script, which makes true on a fresh
// host what svc's default playbook does, without svc.
import { randomInt } from 'node:crypto';
import { lstatSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { SSH_TIMEOUT_MS } from './options.mjs';
import { must, run } from './processes.mjs';

export function sq(text) {
  return `'${String(text).replaceAll("'", "'\\''")}'`;
}

export function sshArgs(inventory, host, user) {
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
    // svc and the floor alike wait 30 s for a host to answer (svc's default is 10 s): 100 hosts'
    // sshds starting sessions at once on a busy 2-core machine can take longer than 10.
    'ConnectTimeout=30',
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
export function walkFiles(dir, prefix = '') {
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
export async function floorScript(project, spec) {
  const { name, releaseId, releaseFiles, login, loginHome, port, health, helpersTar, envTar } =
    spec;
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
    // the environment file svc writes (taken from a host svc deployed, as the helper scripts)
    ...(envTar ? [`base64 -d <<'${end}' | tar -xzf - -C /`, `${envTar}${end}`] : []),
    'echo "STEP $h files"',
    // start the way svc does: monit reload, wait until monit knows the check, monit start
    'monit reload </dev/null',
    `${BACKOFF}; until monit summary ${sq(name)} >/dev/null 2>&1 </dev/null; do backoff 71; done`,
    'echo "STEP $h monit reloaded"',
    `monit start ${sq(name)} </dev/null`,
    'echo "STEP $h started"',
    `${BACKOFF}; until curl -fsS -o /dev/null --max-time 2 ${sq(url)} </dev/null 2>/dev/null; do backoff 72; done`,
    'echo "STEP $h healthy"',
    // As svc does once healthy (apply-script.ts monit_checked): one more reload, so monit checks
    // the running process now rather than a cycle later, and `monit status` says what it found
    // (svc status right after a deploy shows OK, not "Initializing"). Without it the hosts differ.
    'monit reload </dev/null',
    `${BACKOFF}; while :; do s=$(monit status ${sq(name)} 2>/dev/null </dev/null | sed -n 's/^  status *//p' | head -n 1); ` +
      `case $s in ''|'Does not exist'|Initializing*) backoff 73 ;; *) break ;; esac; done`,
    'echo "STEP $h monit checked"',
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
export async function floorRun(inventory, scriptFile) {
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
