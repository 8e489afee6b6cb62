// cutover: switch, warm slots (issue 11): the slot nginx left is still running the release it
// served (during its drain, or kept with `keepWarm: true`), so `svc rollback` to that release
// switches nginx back to it without a start. What the plan may believe comes from the host: each
// slot's unit, its main process, the release directory that process runs in (its cwd, compared
// by device and inode with the release directories, whatever mount namespace the unit has), and
// the env file and template unit it was started with (a slot record svc writes at each start,
// valid only for the pid it names). The apply script checks it all again before the switch, gates
// the slot on its own port, and starts the release the ordinary way when anything differs. Pure:
// the fact script's part, the plan's decision, the apply script's lines.
import { leaveStep, slotTemplateUnit, slotUnit, type LiveSlot, type Slot } from './cutover.js';
import { hostLayout } from './layout.js';
import type { Operation, SwitchCutover } from './operations.js';
import { shellQuote as q } from './quote.js';

/** One slot as the host reports it (T records). */
export interface SlotFact {
  /** The unit's main process, when the unit is active. */
  pid?: number;
  /** The release directory (releases/ID) that process runs in, when it is one. */
  release?: string;
  /** sha256 of the env file and of the template unit when svc started that very process. */
  envSha256?: string;
  unitSha256?: string;
}

/** What a slot was started with: /var/lib/svc/NAME/slot.PORT, `PID ENVSHA UNITSHA` (root's). */
export function slotRecord(name: string, slot: Pick<Slot, 'port'>): string {
  return `${hostLayout(name).records}/slot.${slot.port}`;
}

/**
 * The fact script's part: `slot_fact UNIT PORT RECORD` prints `T PORT PID RELEASE ENV UNIT`, `-`
 * for what is not so. Running state, like the S record: left out of the stale-plan digest (the
 * apply script checks it again). Needs $releases and enc from the fact script.
 */
export const SLOT_FACT = String.raw`slot_fact() {
  s_pid=-; s_rel=-; s_env=-; s_unit=-; s_state=
  while IFS='=' read -r k v; do
    case $k in MainPID) s_pid=$v ;; ActiveState) s_state=$v ;; esac
  done <<EOF
$(systemctl show -p MainPID -p ActiveState -- "$1" 2>/dev/null)
EOF
  case $s_state:$s_pid in active:[1-9]*) ;; *) s_pid=- ;; esac
  case $s_pid in *[!0-9-]*) s_pid=- ;; esac
  if [ "$s_pid" != - ] && cwd=$(stat -L -c '%d:%i' -- "/proc/$s_pid/cwd" 2>/dev/null); then
    while read -r id n; do
      [ "$id" = "$cwd" ] || continue
      enc "${'$'}{n##*/}"; s_rel=$enc
    done <<EOF
$(stat -c '%d:%i %n' -- "$releases"/* 2>/dev/null)
EOF
    if [ -f "$3" ] && [ ! -L "$3" ] && read -r r_pid r_env r_unit < "$3" && [ "$r_pid" = "$s_pid" ]; then
      case $r_env in *[!0-9a-f]*) ;; *) [ ${'$'}{#r_env} -ne 64 ] || s_env=$r_env ;; esac
      case $r_unit in *[!0-9a-f]*) ;; *) [ ${'$'}{#r_unit} -ne 64 ] || s_unit=$r_unit ;; esac
    fi
  fi
  printf 'T\t%s\t%s\t%s\t%s\t%s\n' "$2" "$s_pid" "$s_rel" "$s_env" "$s_unit"
}`;

/** sha256 of the env file and template unit a deploy leaves on the host, from its operations. */
export function switchInputs(
  name: string,
  operations: readonly Operation[],
): NonNullable<SwitchCutover['inputs']> {
  const sha = (path: string) => {
    const op = operations.find((candidate) => candidate.kind === 'file' && candidate.path === path);
    return op?.kind === 'file' ? op.sha256 : undefined;
  };
  const envSha256 = sha(hostLayout(name).envFile);
  const unitSha256 = sha(slotTemplateUnit(name));
  return {
    ...(envSha256 !== undefined && { envSha256 }),
    ...(unitSha256 !== undefined && { unitSha256 }),
  };
}

/** The idle slot already running the release a switch would start, with its inputs: warm. */
export interface WarmSlot {
  slot: Slot;
  pid: number;
  release: string;
}

/**
 * Whether the switch can go to the idle slot without a start: it runs (its unit's main process)
 * the very release the plan makes live, started with the env file and template unit the plan
 * leaves on the host (their sha256 then, recorded by svc for that pid, against the planned ones).
 * Anything unknown is no: a start is always correct, a warm switch only when all of it is proven.
 */
export function warmSlot(
  cutover: Pick<SwitchCutover, 'release' | 'inputs'>,
  live: LiveSlot,
  slots: ReadonlyMap<number, SlotFact> | undefined,
): WarmSlot | undefined {
  if (live.state !== 'live') return undefined;
  const fact = slots?.get(live.idle.port);
  if (fact?.pid === undefined || fact.release !== cutover.release) return undefined;
  const inputs = cutover.inputs;
  if (inputs === undefined) return undefined;
  if ((fact.envSha256 ?? '-') !== (inputs.envSha256 ?? '-')) return undefined;
  if (fact.unitSha256 === undefined || fact.unitSha256 !== inputs.unitSha256) return undefined;
  return { slot: live.idle, pid: fact.pid, release: fact.release };
}

/** What the idle slot holds when the switch does not use it as it is (the plan says so). */
export function idleSlotNote(
  live: LiveSlot,
  slots: ReadonlyMap<number, SlotFact> | undefined,
): string | undefined {
  if (live.state !== 'live') return undefined;
  const fact = slots?.get(live.idle.port);
  if (fact?.pid === undefined) return undefined;
  const what = fact.release === undefined ? 'a process' : `release ${fact.release}`;
  return `stop slot ${live.idle.name} first: it still runs ${what} (pid ${fact.pid}; kept warm, or a drain that did not finish)`;
}

/** The steps of a switch back to a warm slot, as the plan shows them. */
export function warmSteps(
  cutover: Pick<SwitchCutover, 'port' | 'drainSeconds' | 'keepWarm'>,
  warm: WarmSlot,
  live: LiveSlot,
): string[] {
  return [
    `gate slot ${warm.slot.name} on 127.0.0.1:${warm.slot.port} (release ${warm.release}, already running, pid ${warm.pid}; no start)`,
    `switch: nginx on port ${cutover.port} to slot ${warm.slot.name} (release ${warm.release}, already running; no start)`,
    ...(live.state === 'live' ? [leaveStep(cutover, live.slot)] : []),
  ];
}

/** How long the apply script asks a warm slot's health before it starts the release instead. */
export const WARM_GATE_SECONDS = 5;

// slot_warm UNIT PID RELEASEDIR: the unit's main process is still PID, it runs in RELEASEDIR
// (device and inode of its cwd), and it is alive. warm_healthy URL SECONDS: a 200 by then.
// (systemd only: the plan takes no slot as warm under other init systems.)
export const WARM = String.raw`slot_warm() {
  w_pid=$(systemctl show -p MainPID --value -- "$1" 2>/dev/null) || return 1
  [ "$w_pid" = "$2" ] && proc_alive "$2" || return 1
  w_cwd=$(stat -L -c '%d:%i' -- "/proc/$2/cwd" 2>/dev/null) || return 1
  [ "$w_cwd" = "$(stat -c '%d:%i' -- "$3" 2>/dev/null)" ]
}
warm_healthy() {
  uptime_s; end=$((up_s + $2))
  until http_ok "$1"; do
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
  done
}`;

// file_sha FILE: $sha of a regular file, else -.
// slot_started PIDFILE ENVFILE UNITFILE RECORD: what the slot's new process was started with
// (every init system writes it; only systemd's slot facts read it so far).
export const SLOT_STARTED = String.raw`file_sha() { if [ -f "$1" ] && [ ! -L "$1" ]; then sha=$(sha256sum < "$1"); sha=${'$'}{sha%% *}; else sha=-; fi; }
slot_started() {
  read_pid "$1"; [ -n "$pid" ] || return 0
  file_sha "$2"; s_env=$sha; file_sha "$3"
  rm -f -- "$4.svc-new"
  printf '%s %s %s\n' "$pid" "$s_env" "$sha" > "$4.svc-new" && mv -f -- "$4.svc-new" "$4"
}`;

export interface WarmInput {
  name: string;
  warm: WarmSlot;
  releaseDir: string;
  path: string;
}

/** The apply script's check before a switch back to a warm slot: sets $warm to 1 or 0. */
export function warmCheck(input: WarmInput): string[] {
  const { warm } = input;
  const url = `http://127.0.0.1:${warm.slot.port}${input.path}`;
  return [
    'warm=0',
    `if slot_warm ${q(slotUnit(input.name, warm.slot))} ${warm.pid} ${q(input.releaseDir)} && warm_healthy ${q(url)} ${WARM_GATE_SECONDS}; then`,
    '  warm=1',
    `  say "STEP	slot ${warm.slot.name} (port ${warm.slot.port}) already runs release ${warm.release} (pid ${warm.pid}) and is healthy: no start"`,
    'else',
    `  say "WARNING	slot ${warm.slot.name} no longer runs release ${warm.release} healthy as pid ${warm.pid}: starting it there"`,
    'fi',
  ];
}

/** After the slot's new process is up: the record of what it was started with. */
export function slotStartedLine(name: string, slot: Slot, pidfile: string): string {
  return `slot_started ${q(pidfile)} ${q(hostLayout(name).envFile)} ${q(slotTemplateUnit(name))} ${q(slotRecord(name, slot))} || :`;
}

export interface LeaveInput {
  name: string;
  left: Slot;
  cutover: Pick<SwitchCutover, 'drainSeconds' | 'keepWarm'>;
  upstream: string;
  lock: { file: string; holder: string; waitSeconds: number };
  /** Shell text that expands to the left slot's process id now (init system's own way). */
  pidNow: string;
  /** Shell lines: the slot no longer starts at boot nor by monit (cutover-slots.ts disableSlot). */
  disable: string[];
  /** Shell lines: the slot stopped through its init system or monit (cutover-script.ts). */
  stop: string[];
}

/**
 * After the deploy is recorded, the slot nginx left. keepWarm: it keeps running (disabled: a
 * reboot starts only the live slot; systemd only, cutover-plan.ts). Else it is drained without
 * the deploy lock, so a rollback can switch back to it meanwhile; the drain ends early when the
 * upstream file names it again. Then, with the lock taken again, it is stopped only if nginx
 * still does not send it requests and it is still the process that was drained; a rollback that
 * switched back has cancelled it.
 */
export function leaveLines(input: LeaveInput): string[] {
  const { left, cutover } = input;
  if (cutover.keepWarm)
    return [
      ...input.disable,
      `say "STEP	slot ${left.name} (port ${left.port}) kept warm with the release it served (keepWarm)"`,
    ];
  const names = `grep -q ${q(`^server 127\\.0\\.0\\.1:${left.port};$`)} ${q(input.upstream)}`;
  return [
    `say "STEP	draining slot ${left.name} (port ${left.port}, up to ${cutover.drainSeconds} s)"`,
    `drained_pid=${input.pidNow} || drained_pid=`,
    // The lock goes for the drain: a rollback may take it and switch back to this very slot.
    'if [ -n "$holder" ]; then cp -p -- "$holder" "$stage/holder" 2>/dev/null || :; rm -f -- "$holder"; fi',
    'holder=; exec 9>&-',
    'drain=0',
    `drain_port ${left.port} ${cutover.drainSeconds} ${q(input.upstream)} || drain=$?`,
    `exec 9>>${q(input.lock.file)}`,
    // Taken again: the holder note says who holds it, as before the drain.
    `if flock -w ${input.lock.waitSeconds} 9; then relocked=1; holder=${q(input.lock.holder)}; cp -p -- "$stage/holder" "$holder" 2>/dev/null || :; else relocked=0; fi`,
    `if [ "$relocked" != 1 ]; then say "WARNING	slot ${left.name} left running: another deploy held the lock for ${input.lock.waitSeconds} s (the next deploy stops it)"`,
    `elif ${names}; then say "STEP	drain of slot ${left.name} cancelled: nginx sends it requests again (a rollback switched back)"`,
    `elif [ "${input.pidNow}" != "$drained_pid" ]; then say "STEP	slot ${left.name} runs another process since the drain began: left as it is"`,
    'else',
    `  [ "$drain" = 0 ] || say "WARNING	slot ${left.name} still had connections after ${cutover.drainSeconds} s (drainTimeout): stopping it"`,
    // Unmarked first: neither monit nor a boot starts it again.
    ...input.disable.map((line) => `  ${line}`),
    ...input.stop.map((line) => `  ${line}`),
    `  say "STEP	slot ${left.name} drained and stopped"`,
    'fi',
  ];
}
