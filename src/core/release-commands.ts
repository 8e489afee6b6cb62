// Release commands (svc.yaml `release:`): migrations and the like, run in a new release as the
// service user with the service's environment, after the release is on the host and before any
// traffic moves. What decides (whether a host's deploy runs them, where, how long they may take,
// what svc says when one fails) is here; the sh they run as is as-service.ts's.
//
// Each command is an argv array, like `command:` and `install:`: its words reach the program as
// written, with no shell in between, and the one quoter (quote.ts) makes them shell text. A
// command that needs a shell says so: [sh, -c, 'a && b'].
import { AS_SERVICE, asServiceCommand, noSwitcherLine } from './as-service.js';
import { hostLayout } from './layout.js';
import { stagedOverlay } from './apply-files.js';
import type { ApplyInput } from './apply-script.js';
import type { Manifest } from './manifest.js';
import type { Operation } from './operations.js';
import type { Change } from './plan.js';
import { shellCommand, shellQuote as q } from './quote.js';
import { trapOnce } from './signal-trap.js';
import { visible } from './visible.js';

/** The apply script's exit status when a release command failed (nothing was switched). */
export const EXIT_RELEASE_FAILED = 78;
/** How long each command may run unless svc.yaml says (`release.timeout`). */
export const DEFAULT_RELEASE_TIMEOUT = 600;
/** After TERM to a command's process group, this long before KILL. */
export const RELEASE_KILL_AFTER = 5;
/** What of a failed command's output is sent back: its last lines, at most this many bytes. */
const OUTPUT_LINES = 20;
const OUTPUT_BYTES = 4096;
const SHOWN_COMMAND = 120;

export interface ReleaseCommands {
  run: readonly (readonly string[])[];
  on: 'first' | 'every';
  timeout: number;
}

/** svc.yaml's `release:` with its defaults, or undefined when there is none. */
export function releaseCommandsOf(
  manifest: Pick<Manifest, 'release'>,
): ReleaseCommands | undefined {
  const release = manifest.release;
  if (release === undefined) return undefined;
  return {
    run: release.run,
    on: release.on ?? 'first',
    timeout: release.timeout ?? DEFAULT_RELEASE_TIMEOUT,
  };
}

/**
 * Whether this host's deploy makes a release live, so the release commands are due: its plan
 * moves `current`, and the release is not a rollback's (a rollback returns to code whose
 * migrations already ran; release commands run forwards only).
 */
export function makesReleaseLive(
  service: string,
  changes: readonly Pick<Change, 'kind' | 'target'>[],
  operations: readonly Operation[],
): boolean {
  const release = operations.find((op) => op.kind === 'release');
  if (release?.kind !== 'release' || release.pinned) return false;
  const current = hostLayout(service).current;
  return changes.some((change) => change.kind === 'link' && change.target === current);
}

/** The longest a host's release commands may take, for the SSH command's own timeout. */
export function releaseSeconds(commands: ReleaseCommands): number {
  return commands.run.length * (commands.timeout + RELEASE_KILL_AFTER + 2);
}

/**
 * What of a command's output the host keeps while it runs: the chunk being written, the one
 * before it and the one before that, each at most RELEASE_OUTPUT_READS reads of 4 KiB (1 MiB), so
 * at most 3 MiB on disk (a command printing gigabytes must not fill the disk) and at least the
 * last whole chunk (the failure shows the last lines, OUTPUT_BYTES).
 */
const RELEASE_OUTPUT_READS = 256;
/** How long svc waits for the output's reader after the command's process group is gone. */
const READER_GRACE_TENTHS = 50;

/**
 * sh: `release_run I N LIMIT DIR ENVFILE CMD...` runs one command as the service user (picked by
 * `release_prepare USER`) in its own session, so that a timeout ends it with everything it
 * started: TERM to the process group, then KILL. Its output goes through a FIFO to `release_keep`,
 * which keeps its last 2-3 chunks in root-only files in the stage (never a path the service user
 * controls; bounded however much the command prints); the last lines are sent only when it
 * fails, and then the script exits EXIT_RELEASE_FAILED. stdin is /dev/null; the deploy's lock
 * (fd 9) and protocol (fd 3) are not passed on. Needs the apply script's prelude (say, hex,
 * $stage).
 */
export const RELEASE_RUN = String.raw`${AS_SERVICE}
release_prepare() {
  as_service_pick "$1" || { say "FAIL	release commands: $2"; exit 1; }
}
# release_keep: stdin (the command's output) into $rc_out.new, a chunk at a time, then renamed
# to .cur (the chunk before that to .old). dd writes each read as it comes (no buffer held back):
# whatever ends the reader, what it read is on disk. $rc_out.done says stdin ended.
release_keep() {
  umask 077
  while dd bs=4096 count=${RELEASE_OUTPUT_READS} of="$rc_out.new" 2>/dev/null && [ -s "$rc_out.new" ]; do
    mv -f -- "$rc_out.cur" "$rc_out.old" 2>/dev/null || :
    mv -f -- "$rc_out.new" "$rc_out.cur"
  done
  : > "$rc_out.done"
}
release_run() {
  rc_i=$1 rc_n=$2 rc_limit=$3 rc_dir=$4 rc_env=$5; shift 5
  say "STEP	release command $rc_i/$rc_n"
  rc_out="$stage/release.out" rc_timed="$stage/release.timed-out" rc_fifo="$stage/release.fifo"
  rm -f -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" "$rc_out.done" "$rc_timed" "$rc_fifo"
  mkfifo -m 600 -- "$rc_fifo" || { say "FAIL	release commands: cannot make a FIFO in $stage"; exit 1; }
  # Each side opens the FIFO in its own background job: neither open waits in this shell.
  release_keep <"$rc_fifo" >/dev/null 2>&1 3>&- 9>&- &
  rc_keep=$!
  # setsid execs in the same process (a background job of a non-interactive shell leads no
  # process group): $! is the session's leader, and its process group is the command's.
  setsid ${asServiceCommand('"$rc_dir"', '"$rc_env"', '"$@"')} </dev/null >"$rc_fifo" 2>&1 3>&- 9>&- &
  rc_pid=$!
  ${trapOnce('kill -TERM "-$rc_pid" 2>/dev/null; exit 130')}
  (
    rc_t=0
    while [ "$rc_t" -lt "$rc_limit" ]; do sleep 1; kill -0 "$rc_pid" 2>/dev/null || exit 0; rc_t=$((rc_t + 1)); done
    : > "$rc_timed"
    kill -TERM "-$rc_pid" 2>/dev/null; sleep ${RELEASE_KILL_AFTER}; kill -KILL "-$rc_pid" 2>/dev/null
  ) </dev/null >/dev/null 2>&1 3>&- 9>&- &
  rc_watch=$!
  rc_status=0; wait "$rc_pid" || rc_status=$?
  if [ -e "$rc_timed" ]; then wait "$rc_watch" || :; rc_how="timeout $rc_limit"
  else
    kill "$rc_watch" 2>/dev/null || :; wait "$rc_watch" 2>/dev/null || :; rc_how="status $rc_status"
    # What it left running in its session ends with it (the group outlives its leader).
    kill -TERM "-$rc_pid" 2>/dev/null || :
  fi
  # The reader ends when the last writer has; one the command left outside its session is not
  # waited for past the grace (what was read so far is on disk).
  rc_t=0
  while [ ! -e "$rc_out.done" ] && [ "$rc_t" -lt ${READER_GRACE_TENTHS} ]; do sleep 0.1; rc_t=$((rc_t + 1)); done
  kill "$rc_keep" 2>/dev/null || :; wait "$rc_keep" 2>/dev/null || :
  ${trapOnce('exit 130')}
  if [ -e "$rc_timed" ] || [ "$rc_status" -ne 0 ]; then
    # The history's reason for this deploy (history-script.ts hist_exit).
    hist_fail="release command $rc_i of $rc_n failed ($rc_how)"
    say "RELEASEFAIL	$rc_i	$rc_how	$(cat -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" 2>/dev/null | tail -n ${OUTPUT_LINES} | tail -c ${OUTPUT_BYTES} | hex)"
    exit ${EXIT_RELEASE_FAILED}
  fi
  rm -f -- "$rc_out.old" "$rc_out.cur" "$rc_out.new" "$rc_out.done" "$rc_fifo"
}`;

/**
 * The lines that run every command, in order, in `dir` with `envFile` sourced (both shell text:
 * a quoted path, or "$stage/..."; '' for no env file). A failure ends the script.
 */
export function releaseCommandLines(
  manifest: Pick<Manifest, 'user'>,
  commands: ReleaseCommands,
  dir: string,
  envFile: string,
): string[] {
  return [
    `release_prepare ${q(manifest.user)} ${q(noSwitcherLine(manifest.user))}`,
    ...commands.run.map(
      (argv, index) =>
        `release_run ${index + 1} ${commands.run.length} ${commands.timeout} ${dir} ${envFile} ${shellCommand(argv)}`,
    ),
    `say "STEP	release commands done"`,
  ];
}

/**
 * The env file the commands get, as shell text: the one this deploy installs (still in the stage:
 * it is renamed into place after the release), else the one installed, else none.
 */
export function releaseEnvFile(
  service: string,
  changes: readonly Pick<Change, 'kind' | 'target' | 'action'>[],
  staged: string | undefined,
): string {
  const envFile = hostLayout(service).envFile;
  const change = changes.find((c) => c.kind === 'file' && c.target === envFile);
  if (change?.action === 'delete') return "''";
  if (change !== undefined && staged !== undefined) return staged;
  return `"$(if [ -f ${q(envFile)} ]; then printf %s ${q(envFile)}; fi)"`;
}

/** A command as svc shows it: its words as sh would take them, escaped, cut to a line. */
export function shownCommand(argv: readonly string[]): string {
  const text = visible(shellCommand(argv));
  return text.length > SHOWN_COMMAND ? `${text.slice(0, SHOWN_COMMAND)}…` : text;
}

/**
 * What svc says when a release command failed: which, how, and its last output lines (each made
 * visible: the output is the command's own and may hold anything). `fields`: the RELEASEFAIL
 * line's fields after the tag (index, how, hex of the output).
 */
export function releaseFailure(
  fields: readonly string[],
  commands: ReleaseCommands,
  output: string,
): string {
  const index = Number(fields[0]);
  const argv = commands.run[index - 1];
  const which =
    argv === undefined
      ? 'a release command'
      : `release command ${index} of ${commands.run.length} (${shownCommand(argv)})`;
  const how = fields[1] ?? '';
  const what = /^timeout \d+$/.test(how)
    ? `did not finish within ${how.slice(8)} s and was stopped (its process group killed)`
    : /^status \d+$/.test(how)
      ? `exited with ${how}`
      : 'failed';
  const lines = output.split('\n');
  if (lines.at(-1) === '') lines.pop();
  const shown = lines.map((line) => `      ${visible(line).slice(0, 300)}`);
  return [
    `${which} ${what}; nothing was switched or restarted`,
    ...(shown.length > 0 ? ['    its last output lines:', ...shown] : ['    it printed nothing']),
  ].join('\n');
}

/** Where a deploy runs its release commands: for the plan's line and `svc plan --json`. */
export interface ReleasePlan {
  commands: number;
  on: ReleaseCommands['on'];
  /** The hosts that run them: the first host whose deploy makes the release live, or each. */
  hosts: string[];
}

/**
 * Where the release commands run, or undefined when no host's deploy runs them. `hosts`: each
 * host in deploy order, with whether its deploy makes a release live.
 */
export function releasePlan(
  commands: ReleaseCommands | undefined,
  hosts: readonly { host: string; due: boolean }[],
): ReleasePlan | undefined {
  if (commands === undefined) return undefined;
  const due = hosts.filter((host) => host.due).map((host) => host.host);
  if (due.length === 0) return undefined;
  return {
    commands: commands.run.length,
    on: commands.on,
    hosts: commands.on === 'first' ? due.slice(0, 1) : due,
  };
}

/** The plan's line about release commands. */
export function releasePlanLine(plan: ReleasePlan): string {
  const count = `release commands: ${plan.commands}`;
  return plan.on === 'first'
    ? `${count}, on the first host (${plan.hosts[0]})`
    : `${count}, on each host before its own cutover (${plan.hosts.join(', ')})`;
}

/**
 * `on: every`: this host runs the commands itself, in its apply script, in the new release once
 * it is in place and before `current` moves to it (the service, still on the old release, is
 * touched only after). `before`: the change the commands go in front of (the `current` link).
 */
export function everyHostRelease(
  input: Pick<ApplyInput, 'manifest' | 'operations' | 'plan'>,
  overlayIndex: ReadonlyMap<string, number>,
): { before: Change; lines: string[] } | undefined {
  const { manifest, operations, plan } = input;
  const commands = releaseCommandsOf(manifest);
  if (commands?.on !== 'every' || !makesReleaseLive(manifest.name, plan.changes, operations))
    return undefined;
  const layout = hostLayout(manifest.name);
  const before = plan.changes.find((c) => c.kind === 'link' && c.target === layout.current)!;
  const release = operations.find((op) => op.kind === 'release')!;
  const index = overlayIndex.get(layout.envFile);
  const staged = index === undefined ? undefined : stagedOverlay(index, layout.envFile);
  return {
    before,
    lines: releaseCommandLines(
      manifest,
      commands,
      q(release.kind === 'release' ? release.path : ''),
      releaseEnvFile(manifest.name, plan.changes, staged),
    ),
  };
}
