// The apply script: one sh script that makes a host match its plan, in ONE round trip. It takes
// the deploy lock, refuses a stale plan (the facts changed since they were shown), applies each
// change in plan order, (re)starts the service, waits for it to be healthy, and on failure puts
// everything back: files, the `current` link, the running release. Every value in it is quoted
// with shellQuote; the files it installs arrive in a tar stream on stdin after the script.
import type { HostFacts, ReleaseRecord, ServiceRecords } from './facts.js';
import { DIGESTED_FACTS_FILTER, expand, factScript, type FactRequest } from './facts.js';
import {
  copy,
  createLink,
  dirCreate,
  emitDirCreates,
  emitFileInstalls,
  fileInstall,
  overlayEntry,
  stagedOverlay,
  move,
  moveLink,
  checkPrivateDir,
  privateDir,
  restoreFile,
  temporaryName,
  updateDir,
} from './apply-files.js';
import { gateBegin, HEALTH } from './health-gate.js';
import { DRAIN, PORT_UID, SLOT_GONE, switchActivation } from './cutover-script.js';
import { slotCheck } from './cutover-slots.js';
import { SLOT_STARTED, WARM } from './cutover-warm.js';
import { TAKE_PORT } from './cutover-migrate.js';
import { FRONT, frontConflictLine, frontGateLine, type FrontCheck } from './nginx-front.js';
import { initControl } from './init-control.js';
import { trapOnce } from './signal-trap.js';
import { hostLayout, servicePidFile } from './layout.js';
import type { Manifest } from './manifest.js';
import type { FileOperation, HealthOperation, Operation, ReleaseOperation } from './operations.js';
import type { Change, HostPlan } from './plan.js';
import { shellCommand, shellQuote as q } from './quote.js';
import { sha256Hex } from './release.js';
import {
  prunedReleases,
  pruneRelease,
  recordMissingReleaseFiles,
  recordReleaseFiles,
  releaseFilesEntry,
} from './release-record.js';
import { retainedHistory } from './release-retention.js';
import { everyHostRelease, RELEASE_RUN } from './release-commands.js';
import type { HistoryWho } from './history-record.js';
import { deployAction, historyBegin, historyDir, historyFunctions } from './history-script.js';
import type { TarEntry } from './tar.js';
import { SCRIPT_FILE_GLOB } from './script-file.js';

export const EXIT_LOCKED = 75;
export const EXIT_STALE = 76;
export const EXIT_UNHEALTHY = 77;
/** svc's own state on a host: records, locks and the staging area (root only). */
const STATE_DIR = '/var/lib/svc';
export const LOCKS_DIR = `${STATE_DIR}/locks`;

export interface ApplyInput {
  manifest: Manifest;
  operations: readonly Operation[];
  plan: HostPlan;
  facts: HostFacts;
  factRequest: FactRequest;
  /** Who holds the lock: JSON written into it. */
  holder: string;
  lockWaitSeconds: number;
  healthTimeoutSeconds: number;
  /** ISO time recorded in the release history. */
  now: string;
  /** A random token for heredoc delimiters, so no content can end a heredoc early. */
  nonce: string;
  /** Who deploys, for the host's history (history-record.ts); `unknown` when not said. */
  who?: HistoryWho;
}

export interface ApplyBundle {
  script: string;
  /** What goes into the tar stream: release/..., overlay/N */
  entries: TarEntry[];
  releaseId?: string;
  /** The release that was live before this deploy (a rollback makes it live again). */
  previousId?: string;
}

/**
 * A sh function: the start time of process $1 (clock ticks since boot) into $start, empty when
 * it is gone. With the pid it names one process for good: a reused pid has another start time.
 */
export const PROC_START = String.raw`proc_start() {
  start=
  { read -r stat < "/proc/$1/stat"; } 2>/dev/null || return 0
  set -- ${expand('stat##*) ')}
  shift 19 && start=$1
}`;

export const PRELUDE = String.raw`set -eu
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
umask 022
# Once it has its input, the script finishes (or undoes) what it began whatever becomes of svc's
# connection: what commands print goes to a root-only file on the host (its tail is sent back when
# something fails), and only the protocol goes to the channel (fd 3), each line from a subshell,
# so a channel that is gone kills that subshell with SIGPIPE, never the script. (Ignoring SIGPIPE
# instead would pass the ignoring on to the install step and the daemons started here.)
# Neither this script's own temporary file ($0, core/script-file.ts), which sh holds
# open, nor that output file keeps a name beyond this line: whatever ends this shell (a SIGKILL,
# a power cut), nothing of the deploy stays in /tmp. The output is read back through /proc.
output=$(mktemp)
exec 3>&1 1>>"$output" 2>&1
case "$0" in ${SCRIPT_FILE_GLOB}) rm -f -- "$output" "$0" ;; *) rm -f -- "$output" ;; esac
output=/proc/$$/fd/1
# The last FAIL, STEP and EXITED are kept for the history's record (history-script.ts).
say() {
  case $* in "FAIL	"*) hist_fail=$*; hist_fail=${expand('hist_fail#FAIL?')} ;; "STEP	"*) hist_step=$*; hist_step=${expand('hist_step#STEP?')} ;; "EXITED	"*) hist_exited=$* ;; esac
  (printf '%s\n' "$*" >&3) 2>/dev/null || :
}
hex() { od -An -v -tx1 | tr -d ' \n'; }
# Whole seconds since boot into $up_s, read by the shell itself: the polling loops below run while
# other hosts' services start on the same CPUs, so they avoid a process per iteration.
uptime_s() { IFS=. read -r up_s rest 2>/dev/null < /proc/uptime || up_s=$(date +%s); }
${PROC_START}
stage=
holder=
checking=
applying=0
activated=0
# The lock needs no removing: the kernel releases it with the last descriptor, also when this
# shell is killed.
cleanup() {
  status=$?
  # A second signal (Ctrl-C again, svc unlock --force) must not cut the undo short.
  trap '' INT TERM HUP
  set +e
  if [ "$applying" = 1 ] && [ "$status" -ne 0 ]; then applying=0; say "FAILED	undoing"; undo; fi
  # After undo, so the record names the release live now; a run that recorded its end already
  # (a deploy that succeeded) records nothing here.
  hist_exit "$status"
  if [ "$status" -ne 0 ]; then say "OUTPUT	$(tail -c 2048 "$output" | hex)"; fi
  # A monit_checked still running in the background (the run failed after the health gate).
  [ -z "$checking" ] || kill "$checking" 2>/dev/null
  # One rm for both (a process, not two); the positional parameters are cleanup's own.
  set --
  [ -z "$holder" ] || set -- "$@" "$holder"
  [ -z "$stage" ] || set -- "$@" "$stage"
  [ "$#" = 0 ] || rm -rf -- "$@"
}
trap cleanup EXIT
# Ctrl-C can come twice at once (svc's SSH signal request, relayed by sudo, and its kill -INT of
# this shell, remote/ssh.ts): the first ignores the rest before anything else runs.
${trapOnce('exit 130')}
`;

/**
 * One deploy per service and host: flock(1) on a file the shell keeps open as fd 9. The kernel
 * drops the lock when the shell ends, however it ends (SIGKILL, OOM, a reboot), so no lock is
 * ever left behind; the holder file only says who holds it. The lock file is never removed (a
 * waiter could then lock a file nobody else sees). Daemons this script starts get `9>&-`.
 */
export function lockSection(input: ApplyInput): string {
  const { lockFile, holderFile } = lockPaths(input.manifest.name);
  const stagePrefix = `${STATE_DIR}/stage.${input.manifest.name}.`;
  return [
    `command -v flock >/dev/null || { say "FAIL	flock (util-linux) is missing on the host"; exit 1; }`,
    `exec 9>>${q(lockFile)}`,
    `uptime_s; deadline=$((up_s + ${input.lockWaitSeconds}))`,
    `until flock -n 9; do`,
    `  uptime_s; if [ "$up_s" -ge "$deadline" ]; then say "LOCKED	$(head -c 4096 ${q(holderFile)} 2>/dev/null | hex)"; exit ${EXIT_LOCKED}; fi`,
    `  sleep 1`,
    `done`,
    `holder=${q(holderFile)}`,
    // A holder note with the lock free: that deploy was killed before it could clean up (SIGKILL,
    // a reboot). Files are each old or new (renames), and this deploy's plan took them as found.
    `if [ -s "$holder" ]; then say "WARNING	a previous deploy did not finish: $(head -n 1 "$holder" | head -c 300 | tr -d '\\000-\\037')"; fi`,
    // Its staging directory too: one whose shell is gone (the pid is in the name).
    `for dir in ${q(stagePrefix)}*; do`,
    `  pid=${expand(`dir#${q(stagePrefix)}`)}; pid=${expand('pid%%.*')}`,
    `  [ ! -d "$dir" ] || kill -0 "$pid" 2>/dev/null || rm -rf -- "$dir" || :`,
    'done',
    'proc_start $$',
    `printf '%s\\n%s %s\\n' ${q(input.holder)} "$$" "$start" > "$holder"`,
    `say "STEP	locked"`,
  ].join('\n');
}

/** The lock file a deploy holds with flock, and the file that says who holds it. */
export function lockPaths(service: string): { lockFile: string; holderFile: string } {
  return {
    lockFile: `${LOCKS_DIR}/${service}.lock`,
    holderFile: `${LOCKS_DIR}/${service}.holder`,
  };
}

/** Re-gathers the facts and compares their digest with the plan's: a changed host is refused. */
export function staleSection(input: ApplyInput): string {
  return [
    ...factsDigestLines(input),
    `if [ "$digest" != ${q(input.plan.factsDigest)} ]; then say "STALE"; exit ${EXIT_STALE}; fi`,
    `say "STEP	facts unchanged since the plan"`,
  ].join('\n');
}

/** The digest of the facts as they are now, into $digest: what factsDigest computed for the plan. */
export function factsDigestLines(input: Pick<ApplyInput, 'factRequest' | 'nonce'>): string[] {
  // The fact script is read by a child sh from a here-document: no temporary file to write, run
  // and remove.
  return [
    // The salt line first, as factsDigest hashes it (hex: the filter never drops it).
    `digest=$({ printf '%s\\n' ${q(input.factRequest.salt)}; sh -s <<'SVC_EOF_${input.nonce}' | ${DIGESTED_FACTS_FILTER}; } | sha256sum`,
    `${factScript(input.factRequest)}SVC_EOF_${input.nonce}`,
    ')',
    'digest=${digest%% *}',
  ];
}

/** The upload comes first, before the lock: a connection that stalls mid-upload holds no lock. */
export function stageSection(service: string): string {
  return [
    privateDir(STATE_DIR, false),
    // svc's own state, whatever made it: root's alone (the plan has said whether it was).
    shellCommand(['chown', '-h', 'root:root', '--', STATE_DIR]),
    shellCommand(['chmod', '0700', '--', STATE_DIR]),
    checkPrivateDir(STATE_DIR),
    privateDir(LOCKS_DIR),
    `stage=$(mktemp -d ${q(`${STATE_DIR}/stage.${service}.`)}"$$.XXXXXX")`,
    `tar -xzf - -C "$stage" --no-same-owner`,
    `say "STEP	received"`,
  ].join('\n');
}

export interface Context {
  input: ApplyInput;
  files: Map<string, FileOperation>;
  overlayIndex: Map<string, number>;
  rollback: string[];
}

function userCommands(name: string, home: string): string {
  const base = [
    'useradd',
    '--system',
    '--no-create-home',
    '--home-dir',
    home,
    '--shell',
    '/usr/sbin/nologin',
  ];
  return `if getent group ${q(name)} >/dev/null; then ${shellCommand([...base, '-g', name, name])}; else ${shellCommand([...base, '--user-group', name])}; fi`;
}

/** Where svc keeps the original of a file it took over with --adopt, until it gives it back. */
export function adoptedCopy(service: string, path: string): string {
  return `${hostLayout(service).records}/adopted/${sha256Hex(path)}`;
}

/** A file that left config/ and was adopted: its original goes back (renamed into place). */
function restoreAdopted(path: string, ctx: Context, backup: string): string[] {
  const temporary = temporaryName(path);
  ctx.rollback.push(shellCommand(['rm', '-f', '--', temporary]));
  ctx.rollback.push(restoreFile(backup, path));
  return [
    copy(q(path), backup),
    copy(q(adoptedCopy(ctx.input.manifest.name, path)), q(temporary)),
    move(temporary, path),
  ];
}

/** Taking over a file svc did not create (--adopt): its original is kept to give back later. */
function keepOriginal(path: string, ctx: Context): string[] {
  const kept = adoptedCopy(ctx.input.manifest.name, path);
  ctx.rollback.push(shellCommand(['rm', '-f', '--', kept]));
  return [privateDir(kept.slice(0, kept.lastIndexOf('/'))), copy(q(path), q(kept))];
}

function fileChange(change: Change, ctx: Context, index: number): string[] {
  const path = change.target;
  const backup = `"$stage/backup.${index}"`;
  if (change.action === 'delete') {
    ctx.rollback.push(`if [ -e ${backup} ]; then ${restoreFile(backup, path)}; fi`);
    return [`if [ -f ${q(path)} ]; then ${copy(q(path), backup)}; rm -f -- ${q(path)}; fi`];
  }
  if (!ctx.files.has(path)) return restoreAdopted(path, ctx, backup);
  const op = ctx.files.get(path)!;
  const overlay = stagedOverlay(ctx.overlayIndex.get(path)!, path);
  // A write cut short (a full disk) leaves at most the temporary file: undo removes it.
  ctx.rollback.push(shellCommand(['rm', '-f', '--', temporaryName(path)]));
  if (change.action === 'create') {
    ctx.rollback.push(shellCommand(['rm', '-f', '--', path]));
    return [fileInstall(overlay, op)];
  }
  ctx.rollback.push(restoreFile(backup, path));
  const adopting = ctx.input.facts.installed?.includes(path) !== true;
  return [
    copy(q(path), backup),
    ...(adopting ? keepOriginal(path, ctx) : []),
    fileInstall(overlay, op),
  ];
}

export function changeCommands(change: Change, ctx: Context, index: number): string[] {
  const { input } = ctx;
  // Operations arrive with every `~/` resolved (plan-hosts.ts resolveHomePaths).
  const op = input.operations.find(
    (candidate) => 'path' in candidate && candidate.path === change.target,
  );
  switch (change.kind) {
    case 'user': {
      const user = input.operations.find(
        (candidate) => candidate.kind === 'user' && candidate.name === change.target,
      );
      return user?.kind === 'user' ? [userCommands(user.name, user.home)] : [];
    }
    case 'dir': {
      if (op?.kind !== 'dir') return [];
      return change.action === 'create'
        ? [dirCreate(change.target, op.mode, op.owner, op.group)]
        : updateDir(change.target, op.mode, op.owner, op.group);
    }
    case 'link': {
      if (op?.kind !== 'link') return [];
      const before = input.facts.paths.get(change.target);
      ctx.rollback.push(
        before?.type === 'link'
          ? moveLink(change.target, before.target!)
          : shellCommand(['rm', '-f', '--', change.target]),
      );
      // Nothing is there yet: one ln is already atomic. A link that moves is replaced by rename.
      return change.action === 'create'
        ? [createLink(change.target, op.target)]
        : [moveLink(change.target, op.target)];
    }
    case 'file':
      return fileChange(change, ctx, index);
    case 'release':
      // A release's deletion (a prune) never comes here: buildApply runs prunes last.
      return op?.kind !== 'release' ? [] : releaseCommands(change.target, op, ctx);
    default:
      return [];
  }
}

/** A release is copied next to its final name, then renamed: never a half-made release directory. */
function releaseCommands(path: string, op: ReleaseOperation, ctx: Context): string[] {
  const install = op.install;
  const partial = `${path.slice(0, path.lastIndexOf('/') + 1)}.${path.slice(path.lastIndexOf('/') + 1)}.partial`;
  // A copy cut short (a full disk) must not keep holding the space: undo removes it.
  ctx.rollback.push(shellCommand(['rm', '-rf', '--', partial]));
  return [
    `if [ -e ${q(partial)} ] || [ -L ${q(partial)} ]; then ${shellCommand(['rm', '-rf', '--', partial])}; fi`,
    // -a copies links as links; -T: a link at the partial name is refused, not copied into.
    `cp -a -T -- "$stage/release" ${q(partial)}`,
    // The install step (npm ci --omit=dev, say) runs in the release before it can go live; if it
    // fails, the half-installed release never gets its final name.
    ...(install
      ? [
          `say "STEP	installing: ${install.join(' ').replace(/["$`\\]/g, '')}"`,
          `(cd ${q(partial)} && ${shellCommand(install)}) </dev/null 3>&- 9>&- || { rm -rf -- ${q(partial)}; say "FAIL	the install step failed"; exit 1; }`,
          // What the install step made belongs to root like the rest (tar unpacked it as root).
          shellCommand(['chown', '-R', '-h', 'root:root', '--', partial]),
        ]
      : []),
    move(partial, path),
    // What it holds, for later plans to compare with (release-record.ts); kept with the release.
    ...(op.local ? recordReleaseFiles(ctx.input.manifest.name, op.id) : []),
  ];
}

/** Commands that register a (new or changed) unit with the init system. */
function registerUnit(manifest: Manifest, changedFiles: Set<string>): string[] {
  const name = manifest.name;
  switch (manifest.init) {
    case 'systemd':
      return changedFiles.has(`/etc/systemd/system/${name}.service`)
        ? ['systemctl daemon-reload', shellCommand(['systemctl', 'enable', '--quiet', name])]
        : [];
    case 'openrc':
      return changedFiles.has(`/etc/init.d/${name}`)
        ? [`${shellCommand(['rc-update', 'add', name, 'default'])} >/dev/null`]
        : [];
    case 'upstart':
      return changedFiles.has(`/etc/init/${name}.conf`) ? ['initctl reload-configuration'] : [];
    default:
      return [];
  }
}

// monit_ready NAME: monit has loaded the check (20 s at most); monit_gone NAME: it has dropped it
// (30 s at most: a reload waits for a start in progress, up to the check's start timeout).
export const MONIT_WAIT = String.raw`monit_has() { # name yes|no tries
  tries=0
  while :; do
    if monit summary "$1" >/dev/null 2>&1; then has=yes; else has=no; fi
    [ "$has" != "$2" ] || return 0
    # A reload is read in tens of milliseconds: short sleeps first, then 0.05 s.
    tries=$((tries + 1)); [ "$tries" -le "$3" ] || return 1
    if [ "$tries" -le 10 ]; then sleep 0.02; else sleep 0.05; fi
  done
}
monit_ready() { monit_has "$1" yes 400; }
monit_gone() { monit_has "$1" no 600; }
# monit_checked NAME: monit has checked the service since it started (15 s or so at most). A check monit
# just loaded was looked at in the cycle its reload began, before the deploy started the process:
# until its next cycle it says "Does not exist". Another reload makes that cycle now.
# The state is the first line that begins "  status", read by the shell itself (a monit process
# per try, no sed or head): these tries run while other hosts' services start on the same CPUs.
nl='
'
monit_checked() {
  monit reload || return 1
  tries=0
  while :; do
    state=$(monit status "$1" 2>/dev/null) || state=
    case $nl$state in
      *"$nl  status"*)
        state=${expand('state#*"$nl  status"')}
        state=${expand('state%%"$nl"*')}
        state=${expand('state#"${state%%[! ]*}"')} ;;
      *) state= ;;
    esac
    # An action still queued ("Not monitored - start pending") is not what monit will say next.
    case $state in ''|'Does not exist'|Initializing*|*pending) ;; *) return 0 ;; esac
    # monit's cycle after the reload takes tens of milliseconds: short sleeps first, then 0.1 s.
    tries=$((tries + 1)); [ "$tries" -le 160 ] || return 1
    if [ "$tries" -le 10 ]; then sleep 0.02; else sleep 0.1; fi
  done
}`;

function healthCheck(health: HealthOperation | undefined, timeout: number): string {
  if (health === undefined) return 'true';
  return health.url !== undefined
    ? `wait_healthy url ${q(health.url)} ${timeout}`
    : `wait_healthy pid ${q(health.pidfile!)} ${timeout}`;
}

// env_port FILE: the port an environment file gives the process (its last PORT= line, digits
// only) into $port, empty when it gives none. The file is root's (/etc/default), read by root.
const ENV_PORT = String.raw`env_port() {
  port=$(sed -n 's/^PORT="\{0,1\}\([0-9][0-9]*\)"\{0,1\}[[:space:]]*$/\1/p' "$1" 2>/dev/null | tail -n 1) || port=
}
# port_free PORT TRIES: wait until no TCP socket listens on PORT (the kernel's own tables: nginx
# closes a port it no longer needs only once its master has re-read its configuration, after the
# reload command returned); 1 when it is still taken after TRIES tenths of a second.
port_free() {
  hexport=$(printf '%04X' "$1"); tries=0
  while grep -Eq "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    tries=$((tries + 1)); [ "$tries" -le "$2" ] || return 1; sleep 0.1
  done
}`;

/**
 * The rollback's health check: the previous release's own URL. When this deploy changed the
 * environment file, the previous release's port is the one in the file undo put back (a site
 * moving behind nginx went from `port` to appPort): the new release's URL would ask a port
 * nothing listens on any more. The file is secret, so the plan never read it: the host does.
 */
function previousHealthCheck(
  input: ApplyInput,
  health: HealthOperation | undefined,
  timeout: number,
): string {
  const envFile = hostLayout(input.manifest.name).envFile;
  const envChanged = input.plan.changes.some(
    // Only a file change names a file's path.
    (change) => change.target === envFile,
  );
  if (health?.url === undefined || !envChanged) return healthCheck(health, timeout);
  // Stryker disable next-line Regex: health URLs always begin so (operations.ts healthOperation)
  const path = health.url.replace(/^http:\/\/127\.0\.0\.1:\d+/, '');
  return [
    `{ env_port ${q(envFile)}; if [ -n "$port" ]; then`,
    `wait_healthy url "http://127.0.0.1:$port"${q(path)} ${timeout}; else ${healthCheck(health, timeout)}; fi; }`,
  ].join(' ');
}

/** The files svc answers for after this deploy, each with the sha256 it installed. */
interface InstalledFiles {
  files: string[];
  sha256: (string | undefined)[];
  adopted: string[];
}

/** After a successful deploy: every file of config/, and which of them were adopted. */
function deployedFiles(input: ApplyInput): InstalledFiles {
  const ops = input.operations.filter((op): op is FileOperation => op.kind === 'file');
  const before = new Set(input.facts.installed);
  const adoptedNow = input.plan.changes
    // Of any kind: only file paths are looked up in it below.
    .filter((change) => change.action === 'update')
    .map((change) => change.target)
    .filter((path) => !before.has(path));
  const adopted = new Set([...input.facts.adopted, ...adoptedNow]);
  return {
    files: ops.map((op) => op.path),
    sha256: ops.map((op) => op.sha256),
    adopted: ops.map((op) => op.path).filter((path) => adopted.has(path)),
  };
}

/** After a rollback: the records as they were (undo put those files back). */
function previousFiles(input: ApplyInput): InstalledFiles {
  const files = input.facts.installed ?? [];
  return {
    files: [...files],
    sha256: files.map((path) => input.facts.installedSha256.get(path)),
    adopted: files.filter((path) => input.facts.adopted.has(path)),
  };
}

function recordsJson(
  input: ApplyInput,
  status: ReleaseRecord['status'],
  releaseId: string | undefined,
  installed: InstalledFiles,
): string {
  const history = [...input.facts.history];
  if (releaseId !== undefined) history.push({ id: releaseId, status, at: input.now });
  // Pruning runs only after a healthy deploy: then the pruned releases are gone.
  // Stryker disable next-line ArrayDeclaration: no release is named "Stryker was here"
  const pruned = new Set(status === 'good' ? prunedReleases(input.plan) : []);
  // This deploy's own entry is the newest, which retainedHistory keeps whatever is present.
  const present = input.facts.releases;
  const hashed = installed.sha256.every((sum) => sum !== undefined);
  const records: ServiceRecords = {
    version: 1,
    service: input.manifest.name,
    files: installed.files,
    // An older svc's records had no hashes: those files stay unhashed (never deleted) until
    // svc installs them again.
    ...(hashed && { sha256: installed.sha256 as string[] }),
    adopted: installed.adopted,
    history: retainedHistory(
      history,
      present.filter((id) => !pruned.has(id)),
    ),
  };
  return JSON.stringify(records);
}

/**
 * installed.json, and installed.list (the same paths, one per line) for the fact script, which
 * reports what each recorded file is now. Paths never hold a newline (svc refuses control
 * characters in names).
 */
function writeRecords(
  input: ApplyInput,
  status: ReleaseRecord['status'],
  releaseId: string | undefined,
  installed: InstalledFiles,
): string {
  const layout = hostLayout(input.manifest.name);
  const file = `${layout.records}/installed.json`;
  const list = `${layout.records}/installed.list`;
  const listText = installed.files.map((path) => `${path}\n`).join('');
  // printf is the shell's own: the records, however long, never go through a process's arguments.
  return [
    // Checked at hist_begin, or made by this run's plan (a mkdir, which fails on anything there):
    // root's alone since, so a link is all that is refused here (mkdir fails on it), without a stat.
    privateDir(layout.records, false),
    // A redirection follows a link: nothing may be at the temporary names when the shell opens them.
    shellCommand(['rm', '-f', '--', `${file}.svc-new`, `${list}.svc-new`]),
    `printf '%s\n' ${q(recordsJson(input, status, releaseId, installed))} > ${q(`${file}.svc-new`)}`,
    `printf '%s' ${q(listText)} > ${q(`${list}.svc-new`)}`,
    move(`${file}.svc-new`, file),
    move(`${list}.svc-new`, list),
  ].join('\n');
}

/** Originals given back: svc no longer keeps them (an adopted file kept by its user keeps its copy). */
function dropAdoptedCopies(input: ApplyInput): string[] {
  const files = new Set(deployedFiles(input).files);
  return input.plan.changes
    .filter((change) => change.kind === 'file' && change.action === 'update')
    .filter((change) => !files.has(change.target))
    .map((change) =>
      shellCommand(['rm', '-f', '--', adoptedCopy(input.manifest.name, change.target)]),
    );
}

/** The release that `current` will point at after this deploy, if the plan moves it. */
function newCurrent(input: ApplyInput): string | undefined {
  const current = `${hostLayout(input.manifest.name).current}`;
  const change = input.plan.changes.find(
    // Only a link change names current's path.
    (candidate) => candidate.target === current,
  );
  const op = input.operations.find(
    (candidate) => candidate.kind === 'link' && candidate.path === current,
  );
  return change && op?.kind === 'link' ? op.target.replace(/^releases\//, '') : undefined;
}

interface Activation {
  /** After the files: register, (re)start or reload, then the health gate. */
  start: string[];
  /** The body of rollback(), after "UNHEALTHY": undo, check the previous release, record. */
  rollback: string[];
  /** What undo() runs before the files go back: a first deploy's service stopped and unregistered. */
  undoBefore: string[];
  /** What undo() runs after the files are back: put the previous version into service. */
  undoService: string[];
  /** After the history's record: the wait for monit's first look at the service (monit_checked). */
  checked?: string[];
  /** After the records: what may take its time once the deploy has succeeded (a drain). */
  after?: string[];
  /** A switch whose slots monit starts and stops: the script waits for them (slot_gone). */
  slotsAsync?: boolean;
  /** Lines the body runs just before the file change of `path` (cutover-script.ts beforeFile). */
  beforeFile?: { path: string; lines: string[] };
  /** What undo() runs last, whether or not activation began (cutover-script.ts undoLast). */
  undoLast?: string[];
}

/**
 * Undoing a first deploy: nothing served before, so the new service must end, and it must end
 * while its unit and check still exist (an init script that is gone cannot stop anything). The
 * supervisor goes first (monit forgets the check, else it would start what is being stopped),
 * then the service is stopped through its own unit, then the unit is unregistered; the files go
 * after (undo's rollback lines), and the init system re-reads its units last (undoAfterFirst).
 */
function undoFirstDeploy(input: ApplyInput, monitCheck: string | undefined): string[] {
  const { manifest } = input;
  const name = manifest.name;
  const init = manifest.init!;
  const stop =
    init === 'monit' ? [hostLayout(name).launcher, 'stop'] : initControl(init, 'stop', name);
  const unregister = {
    systemd: [shellCommand(['systemctl', 'disable', '--quiet', name])],
    openrc: [`${shellCommand(['rc-update', 'del', name, 'default'])} >/dev/null 2>&1`],
    upstart: [],
    monit: [],
  }[init];
  return [
    ...(monitCheck !== undefined
      ? [shellCommand(['rm', '-f', '--', monitCheck]), `monit reload && monit_gone ${q(name)}`]
      : []),
    `${shellCommand(stop)} </dev/null 3>&- 9>&-`,
    ...unregister,
  ];
}

/** After a first deploy's files are gone: the init system forgets the unit. */
function undoAfterFirst(init: Manifest['init']): string[] {
  return init === 'systemd'
    ? ['systemctl daemon-reload']
    : init === 'upstart'
      ? ['initctl reload-configuration']
      : [];
}

// reload_nginx: nginx takes up its configuration, or 1. A reload is asynchronous (`nginx -s
// reload` returns at once, whatever comes of it): nginx has taken the configuration up once its
// master runs a worker that was not there before; one it could not apply (a port another process
// holds) leaves the old workers serving the old one, and nothing else says so. Then the old
// workers are given a moment to go, so that what answers next is the new configuration.
// The master is systemd's MainPID of nginx.service under systemd, else the pid in the file nginx's
// own configuration names (its pid directive, from nginx -T, read once per reload), else Debian's
// /run/nginx.pid. A process's parent is read after the last ")" of its stat: its name (between
// the parentheses) may hold spaces, digits and ")" itself.
export const NGINX_RELOAD = String.raw`nginx_pidfile() {
  ngx_pidfile=$(nginx -T 2>/dev/null | sed -n 's/^[[:space:]]*pid[[:space:]][[:space:]]*\([^;[:space:]]*\)[[:space:]]*;.*/\1/p' | head -n 1) || ngx_pidfile=
  [ -n "$ngx_pidfile" ] || ngx_pidfile=/run/nginx.pid
}
nginx_master() {
  master=
  if [ -d /run/systemd/system ]; then master=$(systemctl show -p MainPID --value nginx 2>/dev/null) || master=; fi
  case $master in ''|0|*[!0-9]*) master=; { read -r master < "$ngx_pidfile"; } 2>/dev/null || : ;; esac
  case $master in ''|*[!0-9]*) master= ;; esac
}
# ps_children PID: the pids whose parent is PID (every process's stat, parsed after its name).
# cat, not awk over the files: a process that ends between the glob and the read makes mawk
# (Debian's awk) stop at its file; cat says so and goes on to the next.
ps_children() {
  cat /proc/[0-9]*/stat 2>/dev/null | awk -v m="$1" '{ pid = $1; sub(/^.*\) /, ""); if ($2 == m) print pid }' | tr '\n' ' '
}
nginx_workers() {
  workers=
  nginx_master
  [ -n "$master" ] || return 0
  if [ -r "/proc/$master/task/$master/children" ]; then read -r workers < "/proc/$master/task/$master/children" || :
  else workers=$(ps_children "$master"); fi
}
reload_nginx() {
  nginx_pidfile
  nginx_workers; old_workers=$workers
  if [ -d /run/systemd/system ]; then systemctl reload-or-restart nginx || return 1
  elif [ -n "$master" ] && kill -0 "$master" 2>/dev/null; then nginx -s reload || return 1
  else nginx </dev/null >/dev/null 2>&1 3>&- 9>&-; return; fi # a daemon holding our pipes (or the lock) would keep them
  tries=0
  while :; do
    nginx_workers
    for w in $workers; do case " $old_workers " in *" $w "*) ;; *) tries=; break ;; esac; done
    [ -n "$tries" ] || break
    tries=$((tries + 1)); [ "$tries" -le 100 ] || return 1; sleep 0.1
  done
  tries=0
  for w in $old_workers; do
    while proc_alive "$w" && [ "$tries" -le 30 ]; do tries=$((tries + 1)); sleep 0.1; done
  done
}`;

/** The monit check file when monit watches the service (a switch's slots: both checks). */
function monitCheckOf(operations: readonly Operation[]): { monitCheck?: string } {
  const op = operations.find((operation) => operation.kind === 'monit');
  return op?.kind === 'monit' ? { monitCheck: op.check } : {};
}

/** The plan switches slots (cutover: switch) rather than restarting the service. */
function isSwitchActivation(input: ApplyInput): boolean {
  return input.plan.changes.some(
    (change) => change.kind === 'service' && change.action === 'switch',
  );
}

/** The service (or nginx for a static site) taking up the new version, health-gated. */
function activation(input: ApplyInput): Activation {
  const { manifest, plan } = input;
  // Only a file change can name the unit's or the monit check's path (what this is asked about).
  const changed = new Set(plan.changes.map((change) => change.target));
  const health = input.operations.find((op): op is HealthOperation => op.kind === 'health');
  const serviceOp = input.operations.find((op) => op.kind === 'service');
  const cutover = serviceOp?.kind === 'service' ? serviceOp.cutover : undefined;
  // Only a service is switched (plan.ts planSwitch), and only one with a cutover.
  if (cutover !== undefined && isSwitchActivation(input))
    return switchActivation({
      manifest,
      cutover,
      facts: input.facts,
      changes: plan.changes,
      healthTimeoutSeconds: input.healthTimeoutSeconds,
      front: frontCheck(input, health),
      recordBad: writeRecords(input, 'bad', newCurrent(input), previousFiles(input)),
      ...monitCheckOf(input.operations),
      lock: {
        file: lockPaths(manifest.name).lockFile,
        holder: lockPaths(manifest.name).holderFile,
        // After a drain: long enough for a rollback that switched back meanwhile to finish.
        waitSeconds: Math.max(input.lockWaitSeconds, 120),
      },
    });
  const start: string[] = [];
  const monitChanged = plan.changes.some(
    // Stryker disable next-line ConditionalExpression: a monit change is always a reload (plan.ts)
    (change) => change.kind === 'monit' && change.action === 'reload',
  );
  const monitReload: string[] = [];
  if (monitChanged) {
    // cutover: switch without a switch (only the check changed): the slots' checks.
    const checks =
      serviceOp?.kind === 'service' && serviceOp.cutover !== undefined
        ? serviceOp.cutover.slots.map((slot) => slotCheck(manifest.name, slot))
        : [manifest.name];
    monitReload.push(
      'monit reload',
      ...checks.map(
        (check) =>
          `monit_ready ${q(check)} || { say "FAIL	monit did not load the check for ${check}"; exit 1; }`,
      ),
      `say "STEP	monit reloaded"`,
    );
  }
  const reloadAndRegister = [...monitReload, ...registerUnit(manifest, changed)];
  const service = plan.changes.find((change) => change.kind === 'service');
  // Under init: monit, start or restart is decided before monit reloads: a check monit has just
  // loaded is started by monit itself at once, and what it starts is the new release (its files
  // are in place). Decided after the reload, that fresh process would look like the old one: a
  // restart, waiting for monit's start to finish, would stop it and start the same release again.
  const decideFirst = service !== undefined && manifest.init === 'monit';
  if (!decideFirst) start.push(...reloadAndRegister);
  const nginx = plan.changes.find((change) => change.kind === 'nginx');
  const front = frontCheck(input, health);
  const reloadNginx = [
    // The service may already run the new release: a rollback puts the previous one back,
    // checks it and records this one bad, as a failed health check does.
    `reload_nginx || { say "FAIL	nginx did not take up the new configuration (a port another process holds?): see the host's /var/log/nginx/error.log"; rollback; }`,
  ];
  let undoService: string[];
  let undoBefore: string[] = [];
  // Stryker disable next-line ConditionalExpression: a service change is planned only with an init
  if (service !== undefined && manifest.init !== undefined) {
    const pidfile = q(hostLayout(manifest.name).pidfile);
    // The service's own pid: the pidfile, except under OpenRC, where that is supervise-daemon's
    // and the child's pid is in OpenRC's state (layout.ts). Whether to start or restart is asked
    // of the pidfile (a supervisor waiting to respawn its child is up); what is watched, the child.
    const servicePid = q(servicePidFile(manifest.name, manifest.init));
    const control = (action: 'start' | 'restart') =>
      `${shellCommand(startCommand(manifest, action))} </dev/null 3>&- 9>&- || true`;
    const firstWait = Math.ceil(input.healthTimeoutSeconds / 2);
    const decide = [
      // Start or restart is decided here, from the process as found now, not from the plan: a
      // supervisor may have started or lost it since (its running state is not in the digest).
      // For a start any live process will do (monit may have started it on its own already).
      `read_pid ${pidfile}`,
      `if [ -n "$pid" ] && proc_alive "$pid"; then old_pid=$pid; action=restart; else old_pid=; action=start; fi`,
      // OpenRC: a restart replaces the child, so the child's pid is the old one. On a start, a
      // live child whose parent is the supervisor the pidfile names now is this release's (monit
      // may have started it since the read above: taken as old, the start, a no-op then, waited
      // for a new pid to the timeout); one with another parent was left by a supervisor that
      // died (it may still hold the port and answer the health check), so it is waited past.
      ...(servicePid !== pidfile
        ? [
            `if [ "$action" = restart ]; then read_pid ${servicePid}; old_pid=$pid; else`,
            `  read_pid ${pidfile}; sup=$pid; read_pid ${servicePid}`,
            `  if [ -n "$pid" ] && proc_alive "$pid" && [ "$ppid" != "$sup" ]; then old_pid=$pid; fi`,
            'fi',
          ]
        : []),
      `service_control() { if [ "$action" = restart ]; then ${control('restart')}; else ${control('start')}; fi; }`,
      ...resetStartLimit(manifest),
      // Before monit's own start too (decideFirst): a process of this release that dies is a
      // death of this start, seen at once, not a pid the gate takes for the one it replaces.
      gateBegin(manifest, 'always'),
    ];
    start.push(
      ...(decideFirst ? [waitLauncher(manifest.name), ...decide, ...reloadAndRegister] : decide),
      // In the background: the gate watches the new process while the command runs (monit's
      // launcher confirms a start only 2 s later; a death is seen within a poll of it).
      'service_control & control_pid=$!',
      // monit acts asynchronously and can drop an action that arrives while it re-reads its
      // checks: no new process by half the timeout, ask once more before giving up. A process
      // that died is not asked again: it is rolled back at once (see health-gate.ts). Nor is a
      // request still running (an old process slow to stop): two at once would start twice.
      'started=0',
      `wait_new_pid ${servicePid} "$old_pid" ${firstWait} || started=$?`,
      'if [ "$started" = 1 ]; then',
      '  proc_alive "$control_pid" || { service_control & control_pid=$!; }',
      '  started=0',
      `  wait_new_pid ${servicePid} "$old_pid" ${input.healthTimeoutSeconds - firstWait} || started=$?`,
      'fi',
      '[ "$started" = 0 ] || rollback',
      `say "STEP	\${action}ed ${manifest.name}"`,
    );
    if (previousRelease(input) === undefined) {
      const monitOp = input.operations.find((op) => op.kind === 'monit');
      const check =
        monitOp?.kind === 'monit' && changed.has(monitOp.check) ? monitOp.check : undefined;
      undoBefore = undoFirstDeploy(input, check);
      undoService = undoAfterFirst(manifest.init);
    } else {
      undoService = [
        // monit must see the check that was put back before it is asked to act on the service.
        ...(monitChanged ? [`monit reload && monit_ready ${q(manifest.name)}`] : []),
        ...registerUnit(manifest, changed),
        // The previous release's start is measured like the new one's (health-gate.ts).
        ...resetStartLimit(manifest),
        // Stryker disable next-line StringLiteral: any watch but 'always' reads the same
        `read_pid ${servicePid}; rb_old=$pid; ${gateBegin(manifest, 'recorded')}`,
        `${shellCommand(restartPrevious(manifest))} </dev/null 3>&- 9>&-`,
      ];
    }
  } else if (nginx !== undefined) {
    start.push(
      `nginx -t || { say "FAIL	nginx -t refused the site"; exit 1; }`,
      ...reloadNginx,
      `say "STEP	nginx reloaded"`,
    );
    undoService = ['nginx -t && reload_nginx'];
  } else {
    return { start, rollback: [], undoBefore: [], undoService: [] };
  }
  if (service !== undefined && nginx !== undefined) {
    // A node www- site's front changed with its service (a first deploy, say): nginx must load
    // it as well, and get the old site back if the release is rolled back.
    start.push(
      `nginx -t || { say "FAIL	nginx -t refused the site"; rollback; }`,
      ...reloadNginx,
      `say "STEP	nginx reloaded"`,
    );
    // Undo puts back the previous arrangement of ports. A site this deploy put behind nginx
    // (its site file is new) served on `port` itself before: nginx must let go of that port
    // before the previous release starts on it, so nginx goes first. Otherwise (a front that
    // was already there, or one this deploy removed) the service goes first: a new release
    // still holding `port` must stop before nginx can take it back.
    const site = nginx.target;
    const siteIsNew = plan.changes.some(
      // The other change with the site's path is nginx's, a reload.
      (change) => change.target === site && change.action === 'create',
    );
    // A site nginx -t refuses is not reloaded, and undo says so (its step fails).
    const nginxBack = 'nginx -t && reload_nginx';
    const envFile = q(hostLayout(manifest.name).envFile);
    if (siteIsNew)
      undoService.unshift(
        nginxBack,
        `env_port ${envFile}; [ -z "$port" ] || port_free "$port" 100`,
      );
    else undoService.push(nginxBack);
  }
  start.push(
    `if ! ${healthCheck(health, input.healthTimeoutSeconds)}; then rollback; fi`,
    // The process answers: so must nginx, for the Host its visitors send (the gate above asked
    // the process's own port, which no visitor reaches).
    ...(front ? [frontGateLine(front)] : []),
    `say "STEP	healthy"`,
    // Healthy is healthy: a monit that has not looked yet is said, not failed on.
    // monit's look is waited for while the records are written (in the background: it only
    // reloads monit and asks for the service's status), and said after them.
    ...(monitChanged && service !== undefined
      ? [`monit_checked ${q(manifest.name)} </dev/null 3>&- 9>&- & checking=$!`]
      : []),
  );
  const checked =
    monitChanged && service !== undefined
      ? [
          `wait "$checking" || say "WARNING	monit has not checked ${manifest.name} since it started yet: its next cycle will (svc status shows monit's word until then)"`,
          'checking=',
        ]
      : [];
  const timeout = input.healthTimeoutSeconds;
  // The release that served before gets at least 30 s: it is known good, the question is only
  // when. It must be a process started by the undo that answers, and a death is said as such.
  const previousBack = Math.max(timeout, 30);
  const rollback = [
    // What became of this start, before undo measures the previous release's: the death if one
    // was seen, and the service's log since this start.
    ...(service !== undefined
      ? [
          `if [ -n "$exit_ds" ]; then say "EXITED	$exit_how	$exit_ds"; fi`,
          `say "LOG	$(log_tail | hex)"`,
        ]
      : []),
    'undo',
    previousRelease(input) === undefined
      ? // Nothing served before: say whether the new release's process really ended.
        `if pid_ok ${q(hostLayout(manifest.name).pidfile)}; then say "ROLLEDBACK	none-running"; else say "ROLLEDBACK	none"; fi`
      : service !== undefined
        ? [
            'back=0',
            `wait_new_pid ${q(servicePidFile(manifest.name, manifest.init))} "\${rb_old-}" ${previousBack} || back=$?`,
            `[ "$back" != 0 ] || ${previousHealthCheck(input, health, previousBack)} || back=$?`,
            `case $back in 0) say "ROLLEDBACK	healthy" ;; 2) say "ROLLEDBACK	exited	$exit_how	$exit_ds" ;; *) say "ROLLEDBACK	unhealthy	${previousBack}" ;; esac`,
          ].join('\n')
        : `if ${healthCheck(health, previousBack)}; then say "ROLLEDBACK	healthy"; else say "ROLLEDBACK	unhealthy	${previousBack}"; fi`,
    // Undo put the previous files back: the record lists those, not this deploy's.
    writeRecords(input, 'bad', newCurrent(input), previousFiles(input)),
    `exit ${EXIT_UNHEALTHY}`,
  ];
  return { start, rollback, undoBefore, undoService, checked };
}

/**
 * A catch-all site that nginx would not give its visitors is refused before anything is applied
 * (nginx-front.ts): the running release and nginx are left as they are.
 */
function frontConflict(input: ApplyInput): string[] {
  if (!input.plan.changes.some((change) => change.kind === 'nginx')) return [];
  const health = input.operations.find((op): op is HealthOperation => op.kind === 'health');
  const front = frontCheck(input, health);
  const line = front && frontConflictLine(front);
  return line === undefined ? [] : [line];
}

/** A site served through nginx on `port` (a static site, a node www- site's front): what to check. */
function frontCheck(
  input: ApplyInput,
  health: HealthOperation | undefined,
): FrontCheck | undefined {
  const { manifest } = input;
  const nginxOp = input.operations.find((op) => op.kind === 'nginx');
  const site =
    nginxOp?.kind === 'nginx'
      ? // Stryker disable next-line ConditionalExpression: only a file operation has a file's path
        input.operations.find((op) => op.kind === 'file' && op.path === nginxOp.site)
      : undefined;
  if (site?.kind !== 'file' || manifest.port === undefined || health?.url === undefined)
    return undefined;
  return {
    name: manifest.name,
    site: site.path,
    text: new TextDecoder().decode(site.content),
    port: manifest.port,
    path: manifest.health ?? '/',
  };
}

/**
 * How undo puts the previous release back into service. Under init: monit not through monit: a
 * start monit made of a release that crashes holds monit for its whole start timeout (it waits
 * for the process to appear, whatever the start program's exit status), and a request would wait
 * behind it. The launcher starts the previous release itself; monit, watching the pidfile, then
 * finds it running, which also ends the wait it was stuck in.
 */
function restartPrevious(manifest: Manifest): string[] {
  return startCommand(manifest, 'restart');
}

/**
 * How a deploy (re)starts the service. Under init: monit through the launcher, as for the
 * rollback (see restartPrevious): monit acts on a request only when it is free, and a request
 * that arrives while it runs another action (a deploy right after another) waits for its next
 * cycle. monit watches the pidfile the launcher writes, so it sees the new process all the same.
 */
function startCommand(manifest: Manifest, action: 'start' | 'restart'): string[] {
  return manifest.init === 'monit'
    ? [hostLayout(manifest.name).launcher, action]
    : initControl(manifest.init!, action, manifest.name);
}

/**
 * A deploy's start is a person's decision, not a crash loop: systemd's start limit (the unit's
 * StartLimitBurst, which the crashes of a bad release and its rollback count towards) must not
 * refuse it, nor the rollback's start of the release that served before.
 */
function resetStartLimit(manifest: Manifest): string[] {
  return manifest.init === 'systemd'
    ? [`${shellCommand(['systemctl', 'reset-failed', '--', manifest.name])} 2>/dev/null || :`]
    : [];
}

/**
 * Under init: monit, before start or restart is decided: the launcher's action in progress (a
 * start monit began before this deploy's files were in place, with the previous release and
 * environment) is waited for, so its process is seen, alive (a restart) or gone (a start). A
 * launcher run that begins after this wait reads the new files. The lock is the launcher's own
 * (`PIDFILE.lock`, launcher.sh.ejs), under root's /run, held only for the wait.
 */
function waitLauncher(name: string): string {
  return `(exec 7<>${q(`${hostLayout(name).pidfile}.lock`)} && flock -w 60 7) 2>/dev/null || :`;
}

/** Where `current` pointed before this deploy, if anywhere. */
function previousRelease(input: ApplyInput): string | undefined {
  return input.facts.paths.get(hostLayout(input.manifest.name).current)?.target;
}

const historyFailure = (input: ApplyInput) =>
  `svc cannot keep its history in ${historyDir(input.manifest.name).replace(/["$`\\]/g, '')} (not root's own private directory, or not writable)`;

/** A sh function; its lines are not indented, so heredoc terminators stay at column 0. */
export function shFunction(name: string, lines: readonly string[]): string {
  return `${name}() {\n${lines.join('\n') || ':'}\n}`;
}

export function buildApply(input: ApplyInput, releaseFiles: readonly TarEntry[]): ApplyBundle {
  // Stryker disable next-line MethodExpression,ConditionalExpression: only file changes look here
  const fileOps = input.operations.filter((op): op is FileOperation => op.kind === 'file');
  const files = new Map(fileOps.map((op) => [op.path, op]));
  const ctx: Context = { input, files, overlayIndex: new Map(), rollback: [] };
  const entries: TarEntry[] = [];
  const releaseChange = input.plan.changes.find(
    (change) => change.kind === 'release' && change.action === 'create',
  );
  const releaseOp = input.operations.find((op) => op.kind === 'release');
  if (releaseChange) {
    entries.push(...releaseFiles.map((file) => ({ ...file, path: `release/${file.path}` })));
    entries.push(...releaseFilesEntry(releaseOp));
  }
  // The release is on the host already: its list too, unless a deploy died before recording it.
  const listBackfill =
    !releaseChange && releaseOp?.kind === 'release' && releaseOp.local !== undefined
      ? [recordMissingReleaseFiles(input.manifest.name, releaseOp.id, releaseOp.path)]
      : [];
  if (listBackfill.length > 0) entries.push(...releaseFilesEntry(releaseOp));
  for (const change of input.plan.changes) {
    // A delete, or an adopted file's original going back, ships nothing.
    // Stryker disable next-line ConditionalExpression: only file paths are in files
    if (change.kind !== 'file' || !files.has(change.target) || ctx.overlayIndex.has(change.target))
      continue;
    const op = files.get(change.target)!;
    ctx.overlayIndex.set(change.target, ctx.overlayIndex.size);
    entries.push({
      path: overlayEntry(ctx.overlayIndex.get(change.target)!, change.target),
      mode: 0o600,
      content: op.content,
    });
  }
  const body: string[] = [];
  const prunes: string[] = [];
  const service = activation(input);
  const records = hostLayout(input.manifest.name).records;
  // svc.yaml `release:` with `on: every`: the commands run here, before `current` moves.
  const release = everyHostRelease(input, ctx.overlayIndex);
  input.plan.changes.forEach((change, index) => {
    if (release !== undefined && change === release.before) body.push(...release.lines);
    if (change.kind === 'file' && change.target === service.beforeFile?.path)
      body.push(...service.beforeFile.lines);
    if (change.kind === 'release' && change.action === 'delete')
      prunes.push(pruneRelease(input.manifest.name, change.target));
    else body.push(...changeCommands(change, ctx, index));
    // A first deploy's record begins before /var/lib/svc/NAME exists (`later`): its pending
    // record goes in as soon as the plan has made it, so a shell killed later still leaves one.
    if (change.kind === 'dir' && change.action === 'create' && change.target === records)
      body.push(`hist_later || { say "FAIL	${historyFailure(input)}"; exit 1; }`);
  });
  // The D records name real directories (the facts digest covers them: unchanged at the stale
  // check); the P records, a requested path that is a directory.
  emitDirCreates(
    body,
    (dir) => input.facts.dirs.has(dir) || input.facts.paths.get(dir)?.type === 'dir',
  );
  // Runs of files into one directory with one owner and mode: one install for them.
  emitFileInstalls(body);
  const releaseId = newCurrent(input);
  const script = [
    PRELUDE,
    historyFunctions(input.manifest.name),
    MONIT_WAIT,
    NGINX_RELOAD,
    ENV_PORT,
    HEALTH,
    FRONT,
    ...(service.after !== undefined && service.after.length > 0 ? [DRAIN] : []),
    ...(release !== undefined ? [RELEASE_RUN] : []),
    // A switch whose slots monit starts and stops: it waits for them.
    // Stryker disable next-line ConditionalExpression: slotsAsync comes only from switchActivation, which always sets after too (cutover-script.ts), so `after !== undefined` as true changes nothing
    ...(service.after !== undefined && service.slotsAsync === true ? [SLOT_GONE] : []),
    ...(isSwitchActivation(input) ? [SLOT_STARTED, PORT_UID] : []),
    // A warm switch back (every init system); a restart service moved over (cutover-migrate.ts).
    ...(isSwitchActivation(input) ? [WARM, TAKE_PORT] : []),
    stageSection(input.manifest.name),
    lockSection(input),
    staleSection(input),
    // The record begins under the lock, after the stale check (a refused run changed nothing),
    // before anything is changed: the run cannot go on without a history to record it in. On a
    // first deploy /var/lib/svc/NAME is the plan's to make (`later`, history-script.ts).
    `${historyBegin(deployAction(input.operations), input.who, true)} || { say "FAIL	${historyFailure(input)}"; exit 1; }`,
    ...frontConflict(input),
    // undo: every change put back, best effort (each line may fail without stopping the rest).
    // The service is touched again only if this run had begun to activate it: a failure while
    // writing files leaves the running release alone.
    shFunction(
      'undo',
      [
        ...service.undoBefore.map((line) => `[ "$activated" != 1 ] || { ${line}; }`),
        ...[...ctx.rollback].reverse(),
        ...service.undoService.map((line) => `[ "$activated" != 1 ] || { ${line}; }`),
        ...(service.undoLast ?? []),
      ].map(
        (line, index) =>
          `{ ${line.replaceAll('\n', '; ')}; } || say "WARNING	undo step ${index + 1} failed"`,
      ),
    ),
    shFunction('rollback', [
      "trap '' INT TERM HUP",
      'applying=0',
      'say "UNHEALTHY"',
      ...service.rollback,
    ]),
    // Past this point a failure undoes what was applied (see cleanup in the prelude).
    'applying=1',
    ...body,
    ...listBackfill,
    `say "STEP	files in place"`,
    'activated=1',
    ...service.start,
    'applying=0',
    writeRecords(input, 'good', releaseId, deployedFiles(input)),
    ...dropAdoptedCopies(input),
    ...prunes,
    // A deploy does not succeed without its record; a drain cut short after it undoes nothing.
    `hist_end deployed '' || { say "FAIL	the deploy is live, but its record could not be appended to the history"; exit 1; }`,
    ...(service.checked ?? []),
    // What follows (a drain) may outlast svc's wait or its connection: the outcome is said first.
    ...(service.after !== undefined && service.after.length > 0
      ? [`say "DEPLOYED	${releaseId ?? '-'}"`, ...service.after]
      : []),
    `say "DONE	${releaseId ?? '-'}"`,
    '',
  ].join('\n');
  const previousId = previousRelease(input)?.replace(/^releases\//, '');
  return {
    script,
    entries,
    ...(releaseId !== undefined && { releaseId }),
    ...(previousId !== undefined && { previousId }),
  };
}
