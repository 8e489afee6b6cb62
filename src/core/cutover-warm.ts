// cutover: switch, warm slots (issue 11): the slot nginx left is still running the release it
// served (during its drain, or kept with `keepWarm: true`), so `svc rollback` to that release
// switches nginx back to it without a start, under every init system. What the plan may believe
// comes from the host: each slot's process as its init system knows it (systemd's MainPID of the
// unit; elsewhere the slot's root-owned pidfile, OpenRC's child_pid: a live process, never a
// zombie), and svc's own record of what it started there (written at each start: the pid, its
// start time, the release, the sha256 of the env file and of the slot start file: template
// unit, OpenRC script, upstart job, launcher), valid only for the very process it names: a pid
// reused by another process, or a slot its supervisor restarted, has none. Never the process's
// cwd: the service user's code can chdir into a newer release. The apply script checks it again
// before the switch, gates the slot on its own port, and starts the release the ordinary way
// when anything differs. Pure: the fact script's part, the plan's decision, the apply script's
// lines.
import { leaveStep, type LiveSlot, type Slot } from './cutover.js';
import { slotStartFile, type SlotManifest } from './cutover-slots.js';
import { hostLayout } from './layout.js';
import type { Operation, SwitchCutover } from './operations.js';
import { shellQuote as q } from './quote.js';

/** One slot as the host reports it (T records). */
export interface SlotFact {
  /** The slot's own process: the unit's main process when it is active, else the pidfile's, alive. */
  pid?: number;
  /** The release (releases/ID, still on the host) svc recorded starting in that very process. */
  release?: string;
  /** sha256 of the env file and of the slot start file when svc started that very process. */
  envSha256?: string;
  unitSha256?: string;
}

/**
 * What a slot was started with: /var/lib/svc/NAME/slot.PORT, `PID ENVSHA UNITSHA RELEASE START`
 * (root's; START: the process's start time since boot, in clock ticks, /proc/PID/stat's 22nd).
 */
export function slotRecord(name: string, slot: Pick<Slot, 'port'>): string {
  return `${hostLayout(name).records}/slot.${slot.port}`;
}

/**
 * The fact script's part: `slot_fact UNIT PORT RECORD PIDFILE` prints `T PORT PID RELEASE ENV
 * UNIT`, `-` for what is not so. UNIT: the systemd unit (its MainPID while active); empty under
 * other init systems, where PIDFILE (root's: /run or OpenRC's state) names the process. Either
 * way only a live process counts (a stale pidfile after a crash names none, a zombie is none).
 * RELEASE, ENV and UNIT come from svc's own record of the start (root's), and only when it names
 * this very process: its pid and its start time since boot (a pid the kernel gave to another
 * process has another). Never from what the process shows now: its cwd is the service user's to
 * change (a process can chdir into a newer release). Running state, like the S record: left out
 * of the stale-plan digest (the apply script checks it again). Needs $releases and enc from the
 * fact script.
 */
export const SLOT_FACT = String.raw`slot_fact() {
  s_pid=-; s_rel=-; s_env=-; s_unit=-; s_state=; s_start=
  if [ -n "$1" ]; then
    while IFS='=' read -r k v; do
      case $k in MainPID) s_pid=$v ;; ActiveState) s_state=$v ;; esac
    done <<EOF
$(systemctl show -p MainPID -p ActiveState -- "$1" 2>/dev/null)
EOF
  elif [ -f "$4" ] && [ ! -L "$4" ]; then
    # OpenRC writes child_pid without a newline: read then says end of file, the pid read all the same.
    { read -r s_pid || :; } < "$4" 2>/dev/null || :
    s_state=active
  fi
  case $s_state:$s_pid in active:[1-9]*) ;; *) s_pid=- ;; esac
  case $s_pid in *[!0-9-]*) s_pid=- ;; esac
  if [ "$s_pid" != - ]; then
    s_stat=
    { read -r s_stat < "/proc/$s_pid/stat"; } 2>/dev/null || :
    s_stat=${'$'}{s_stat##*) }
    # The state (field 3), then the start time (field 22): the 20th field after the name.
    case $s_stat in ''|Z*|X*|x*) s_pid=- ;; *) s_start=$(printf '%s\n' "$s_stat" | cut -d ' ' -f 20) ;; esac
  fi
  if [ "$s_pid" != - ] && [ -f "$3" ] && [ ! -L "$3" ] && read -r r_pid r_env r_unit r_rel r_start < "$3" &&
    [ "$r_pid" = "$s_pid" ] && [ -n "$r_start" ] && [ "$r_start" = "$s_start" ]; then
    case $r_env in *[!0-9a-f]*) ;; *) [ ${'$'}{#r_env} -ne 64 ] || s_env=$r_env ;; esac
    case $r_unit in *[!0-9a-f]*) ;; *) [ ${'$'}{#r_unit} -ne 64 ] || s_unit=$r_unit ;; esac
    case $r_rel in ''|.|..|*[!A-Za-z0-9._-]*) ;; *) if [ -d "$releases/$r_rel" ]; then enc "$r_rel"; s_rel=$enc; fi ;; esac
  fi
  printf 'T\t%s\t%s\t%s\t%s\t%s\n' "$2" "$s_pid" "$s_rel" "$s_env" "$s_unit"
}`;

/** sha256 of the env file and slot start file a deploy leaves on the host, from its operations. */
export function switchInputs(
  manifest: SlotManifest,
  operations: readonly Operation[],
): NonNullable<SwitchCutover['inputs']> {
  const name = manifest.name;
  const sha = (path: string) => {
    const op = operations.find((candidate) => candidate.kind === 'file' && candidate.path === path);
    return op?.kind === 'file' ? op.sha256 : undefined;
  };
  const envSha256 = sha(hostLayout(name).envFile);
  const unitSha256 = sha(slotStartFile(manifest));
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
 * Whether the switch can go to the idle slot without a start: its process runs the very release
 * the plan makes live, started with the env file and slot start file the plan
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

// slot_warm UNIT PIDFILE PID RELEASE RECORD: the slot's process is still PID (the unit's main
// process under systemd, UNIT; else PIDFILE's), alive, and svc's record of its start names that
// pid, with the same start time, and RELEASE. warm_healthy URL SECONDS: a 200 by then.
export const WARM = String.raw`slot_warm() {
  if [ -n "$1" ]; then w_pid=$(systemctl show -p MainPID --value -- "$1" 2>/dev/null) || return 1
  else read_pid "$2"; w_pid=$pid; fi
  [ "$w_pid" = "$3" ] && proc_alive "$3" || return 1
  [ -f "$5" ] && [ ! -L "$5" ] && read -r w_rpid w_env w_unit w_rel w_start < "$5" || return 1
  [ "$w_rpid" = "$3" ] && [ "$w_rel" = "$4" ] && [ -n "$w_start" ] && [ "$w_start" = "$start" ]
}
warm_healthy() {
  uptime_s; end=$((up_s + $2))
  until http_ok "$1"; do
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
  done
}`;

// file_sha FILE: $sha of a regular file, else -.
// slot_started PIDFILE ENVFILE STARTFILE RECORD RELEASE: what the slot's new process was started
// with, and which release svc started in it (the slot facts read it back for that very process).
export const SLOT_STARTED = String.raw`file_sha() { if [ -f "$1" ] && [ ! -L "$1" ]; then sha=$(sha256sum < "$1"); sha=${'$'}{sha%% *}; else sha=-; fi; }
slot_started() {
  read_pid "$1"; [ -n "$pid" ] && proc_alive "$pid" || return 0
  file_sha "$2"; s_env=$sha; file_sha "$3"
  rm -f -- "$4.svc-new"
  printf '%s %s %s %s %s\n' "$pid" "$s_env" "$sha" "$5" "$start" > "$4.svc-new" && mv -f -- "$4.svc-new" "$4"
}`;

export interface WarmInput {
  name: string;
  /** The slot's systemd unit, or '' when its pidfile names its process. */
  unit: string;
  pidfile: string;
  warm: WarmSlot;
  path: string;
}

/** The apply script's check before a switch back to a warm slot: sets $warm to 1 or 0. */
export function warmCheck(input: WarmInput): string[] {
  const { warm } = input;
  const url = `http://127.0.0.1:${warm.slot.port}${input.path}`;
  return [
    'warm=0',
    `if slot_warm ${q(input.unit)} ${q(input.pidfile)} ${warm.pid} ${q(warm.release)} ${q(slotRecord(input.name, warm.slot))} && warm_healthy ${q(url)} ${WARM_GATE_SECONDS}; then`,
    '  warm=1',
    `  say "STEP	slot ${warm.slot.name} (port ${warm.slot.port}) already runs release ${warm.release} (pid ${warm.pid}) and is healthy: no start"`,
    'else',
    `  say "WARNING	slot ${warm.slot.name} no longer runs release ${warm.release} healthy as pid ${warm.pid}: starting it there"`,
    'fi',
  ];
}

/** After the slot's new process is up: the record of what it was started with. */
export function slotStartedLine(
  manifest: SlotManifest,
  slot: Slot,
  pidfile: string,
  release: string,
): string {
  const name = manifest.name;
  return `slot_started ${q(pidfile)} ${q(hostLayout(name).envFile)} ${q(slotStartFile(manifest))} ${q(slotRecord(name, slot))} ${q(release)} || :`;
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
  /** Shell lines for a slot kept warm, after disable (monit stops watching it: cutover-script.ts). */
  keep?: string[];
}

/**
 * After the deploy is recorded, the slot nginx left. keepWarm: it keeps running (disabled: a
 * reboot starts only the live slot; unwatched by monit, which would otherwise ask the launcher to
 * start an unmarked slot whenever it died). Else it is drained without
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
      ...(input.keep ?? []),
      `say "STEP	slot ${left.name} (port ${left.port}) kept warm with the release it served (keepWarm)"`,
    ];
  const names = `grep -q ${q(`^server 127\\.0\\.0\\.1:${left.port};$`)} ${q(input.upstream)}`;
  return [
    // The deploy is recorded: from here the drain is the host's to finish whatever becomes of
    // svc. A lost connection (HUP) or a TERM does not end it (the old slot would be left running
    // and marked); svc's Ctrl-C (INT) ends the wait, and the slot is stopped now.
    "drain_cut=0; trap '' HUP TERM; trap 'drain_cut=1' INT",
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
    `  case $drain in 0) ;; 3) say "WARNING	the drain of slot ${left.name} was cut short (svc was interrupted): stopping it now" ;; *) say "WARNING	slot ${left.name} still had connections after ${cutover.drainSeconds} s (drainTimeout): stopping it" ;; esac`,
    // Unmarked first: neither monit nor a boot starts it again.
    ...input.disable.map((line) => `  ${line}`),
    ...input.stop.map((line) => `  ${line}`),
    `  say "STEP	slot ${left.name} drained and stopped"`,
    'fi',
  ];
}
