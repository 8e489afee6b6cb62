// The lifecycle commands' remote scripts (status, start, stop, restart, releases, unlock; logs is
// logs-script.ts) and the parsers of their output. Pure: every value is shell-quoted here, and
// output that does not have the expected shape is an error.
import { lockPaths, PROC_START } from './apply-script.js';
import { serviceControl, type ControlAction } from './init-control.js';
import { hostLayout, servicePidFile } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellCommand, shellQuote as q } from './quote.js';
import { isSwitch, slotsOf } from './cutover.js';
import { caseLiveSlot, slotControl } from './cutover-slots.js';
import { liveSlotNow, serviceProcessFunctions } from './service-process.js';
import { exitTrapOnce, STOP_SIGNALS, trapOnce } from './signal-trap.js';
import {
  lastDeploy,
  parseHistoryLine,
  UNKNOWN_WHO,
  type HistoryRecord,
  type HistoryWho,
} from './history-record.js';
import { historyBegin, historyDir, historyFunctions, lastDeployLine } from './history-script.js';
import { decodeHex } from './hex-text.js';

const HELPERS = String.raw`set -eu
export LC_ALL=C PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
hex() { od -An -v -tx1 | tr -d ' \n'; }
field() { printf '%s\t%s\n' "$1" "$(printf %s "$2" | hex)"; }
http_code() {
  if command -v curl >/dev/null 2>&1; then curl -s -o /dev/null -w '%{http_code}' --max-time 3 "$1" || true
  elif command -v wget >/dev/null 2>&1; then wget -q -S -O /dev/null -T 3 "$1" 2>&1 | awk '/HTTP\//{c=$2} END{print c}'
  else node -e 'require("http").get(process.argv[1],{timeout:3000},r=>console.log(r.statusCode)).on("error",()=>console.log(0))' "$1"; fi
}`;

/** The helpers and the service's names, shared by these scripts and `svc top`'s (top-script.ts). */
export function lifecyclePreamble(manifest: Manifest): string {
  const layout = hostLayout(manifest.name);
  return [
    HELPERS,
    `name=${q(manifest.name)}`,
    `init=${q(manifest.init ?? 'none')}`,
    // The service's own pid (under OpenRC not the pidfile, which is its supervisor's).
    `pidfile=${q(servicePidFile(manifest.name, manifest.init))}`,
    `current=${q(layout.current)}`,
    // Where its process is (main_pid, service_pid); under cutover: switch the live slot's,
    // from the upstream file nginx reads: its instance ($name, NAME@PORT under systemd), its
    // process's pidfile and its monit check ($check) (service-process.ts).
    serviceProcessFunctions(manifest),
    ...(isSwitch(manifest) ? [liveSlotNow(manifest)] : []),
  ].join('\n');
}

/** Key/value facts for `svc status`; values hex-encoded so nothing on the host can break a line. */
export function statusScript(manifest: Manifest): string {
  const url =
    manifest.port !== undefined ? `http://127.0.0.1:${manifest.port}${manifest.health ?? '/'}` : '';
  return [
    lifecyclePreamble(manifest),
    `field release "$(readlink "$current" 2>/dev/null | sed 's#^releases/##' || true)"`,
    `pid=$(main_pid)`,
    `field pid "$pid"`,
    `if [ -n "$pid" ]; then field uptime "$(ps -o etimes= -p "$pid" | tr -cd 0-9)"; else field uptime ''; fi`,
    url ? `field health "$(http_code ${q(url)})"` : `field health ''`,
    `if command -v monit >/dev/null 2>&1; then field monit "$(monit status "\${check:-$name}" 2>/dev/null | sed -n 's/^  status *//p' | head -n 1)"; else field monit ''; fi`,
    // The last deploy, from the history (history-script.ts), in the same round trip.
    `field last "$(${lastDeployLine(manifest.name)})"`,
    '',
  ].join('\n');
}

export interface ServiceStatus {
  release: string;
  running: boolean;
  pid?: number;
  uptimeSeconds?: number;
  /** The health URL's HTTP status (0: no answer), or undefined for a worker. */
  health?: number;
  /** monit's word for the service ("OK", "Not monitored", ...), or undefined without monit. */
  monit?: string;
  /** The last deploy or rollback the host's history records (none before the first). */
  lastDeploy?: HistoryRecord;
}

const KEYS = ['release', 'pid', 'uptime', 'health', 'monit', 'last'] as const;

function decodeFields(output: string, host: string): Record<(typeof KEYS)[number], string> {
  const values: Record<string, string> = {};
  // Only newlines are trimmed: the last field's empty value ends its line with a tab ("monit\t"
  // on a host without monit), which trim() would cut off, leaving a line without a value.
  for (const line of output.replace(/^\n+|\n+$/g, '').split('\n')) {
    const [key, hex, extra] = line.split('\t');
    if (
      !KEYS.includes(key as (typeof KEYS)[number]) ||
      hex === undefined ||
      extra !== undefined ||
      !/^(?:[0-9a-f]{2})*$/.test(hex)
    ) {
      throw new Error(`${host}: unexpected status output ${JSON.stringify(line.slice(0, 60))}`);
    }
    values[key!] = decodeHex(hex);
  }
  for (const key of KEYS)
    if (values[key] === undefined) throw new Error(`${host}: status output lacks ${key}`);
  return values as Record<(typeof KEYS)[number], string>;
}

export function parseStatus(output: string, host: string, manifest: Manifest): ServiceStatus {
  const values = decodeFields(output, host);
  const pid = /^\d+$/.test(values.pid) ? Number(values.pid) : undefined;
  const health = /^\d+$/.test(values.health) ? Number(values.health) : 0;
  return {
    release: values.release || '-',
    // A static site has no process of its own: it is up when nginx serves its health path.
    running: manifest.runtime === 'static' ? health === 200 : pid !== undefined,
    ...(pid !== undefined && { pid }),
    ...(/^\d+$/.test(values.uptime) && { uptimeSeconds: Number(values.uptime) }),
    ...(manifest.port !== undefined && { health }),
    ...(values.monit !== '' && { monit: values.monit }),
    ...lastDeployOf(values.last),
  };
}

/** A history line that does not parse is no last deploy (svc history says it skipped one). */
function lastDeployOf(line: string): { lastDeploy?: HistoryRecord } {
  const record = lastDeploy([parseHistoryLine(line)].filter((r) => r !== undefined));
  return record === undefined ? {} : { lastDeploy: record };
}

/**
 * The pid a start or restart ended with (controlScript's last line, `pid\tHEX`): digits only, as
 * it is shown on the terminal; anything else a host sends (a control character, nothing) is `?`.
 */
export function controlPid(output: string): string {
  const hex = /(?:^|\n)pid\t((?:[0-9a-f]{2})*)\n*$/.exec(output)?.[1];
  const pid = hex === undefined ? '' : decodeHex(hex);
  return /^\d{1,10}$/.test(pid) ? pid : '?';
}

/**
 * start|stop|restart through the init system (or monit, when it watches the service), then wait
 * until the process is in the state asked for: stop means TERM, the stop timeout, then KILL.
 */
export function controlScript(
  manifest: Manifest,
  action: ControlAction,
  who: HistoryWho = UNKNOWN_WHO,
): string {
  if (manifest.init === undefined) throw new Error(`${manifest.name} runs no process of its own`);
  // cutover: switch: the live slot (from the preamble), in place, through monit or its init.
  const command = isSwitch(manifest)
    ? caseLiveSlot(
        slotsOf(manifest),
        'slot_port',
        (slot) => shellCommand(slotControl(manifest, slot, action)),
        `echo ${q(`${manifest.name}: no live slot (no deploy has switched yet)`)} >&2; exit 1`,
      )
    : shellCommand(serviceControl(manifest.init, manifest.monit, action, manifest.name));
  const wait = manifest.stopTimeout + 15;
  const failing = (why: string) => `{ hist_fail=${q(why)}; echo "${why}" >&2; exit 1; }`;
  return [
    lifecyclePreamble(manifest),
    // Ctrl-C stops the waiting, never the init system's action once asked (its own job goes on):
    // the record and svc's line say in what state the service was when it came.
    'lc_cut() {',
    // A signal between the output file's open and its removal (below) runs this in between.
    '  [ -z "${lc_out:-}" ] || rm -f -- "$lc_out"',
    '  lc_now=$(main_pid 2>/dev/null) || lc_now=',
    `  hist_cut="interrupted during the ${action}: the service was $(if [ -n "$lc_now" ]; then echo "running (pid $lc_now)"; else echo stopped; fi)"`,
    '  exit 130',
    '}',
    ...historyStart(manifest, action, who),
    `before=$(main_pid)`,
    // A start of a running service, a stop of a stopped one: recorded as unchanged.
    action === 'restart'
      ? 'hist_result=done'
      : `if [ ${action === 'stop' ? '-z' : '-n'} "$before" ]; then hist_result=unchanged; else hist_result=done; fi`,
    `hist_fail=${q(`the init system's ${action} failed`)}`,
    // The init system's command runs as a job this shell waits for: sh runs no trap until a
    // foreground child ends, but a trapped Ctrl-C ends `wait` at once (a background job ignores
    // INT, so the action goes on). Its output goes through a file, shown once it ends: a job
    // that outlives the script must not hold the channel open (svc would wait for it).
    // The file has no name for longer than its open and one rm: this shell keeps it open as fd 4
    // and reads it back through /proc (whatever ends the script, a SIGKILL or a power cut too,
    // there is nothing left to remove). It is made in the history's directory, which hist_begin
    // has just checked is root's alone (0700), under umask 077, so that the one rm also sweeps the
    // name a run killed between the two left: the glob matches no other file of svc's, and a run
    // whose file goes meanwhile holds it open already.
    `lc_out=${q(historyDir(manifest.name))}/out.$$`,
    'lc_mask=$(umask); umask 077; exec 4>"$lc_out"; umask "$lc_mask"',
    `rm -f -- ${q(historyDir(manifest.name))}/out.*`,
    'lc_out=',
    isSwitch(manifest)
      ? `{
${command}
} >&4 2>&1 </dev/null 4>&- &`
      : `${command} >&4 2>&1 </dev/null 4>&- &`,
    'lc_job=$! lc_rc=0',
    'wait "$lc_job" || lc_rc=$?',
    'cat -- /proc/self/fd/4 >&2; exec 4>&-',
    '[ "$lc_rc" -eq 0 ] || exit "$lc_rc"',
    'hist_fail=',
    `end=$(( $(date +%s) + ${action === 'stop' ? wait : 60} ))`,
    action === 'stop'
      ? `while [ -n "$(main_pid)" ]; do [ "$(date +%s)" -lt "$end" ] || ${failing(`still running after ${wait} s`)}; sleep 0.2; done`
      : `while :; do now=$(main_pid); if [ -n "$now" ] && { [ ${action === 'restart' ? '"$now" != "$before"' : '-n "$now"'} ]; }; then break; fi; [ "$(date +%s)" -lt "$end" ] || ${failing('not running after 60 s')}; sleep 0.2; done`,
    // Done: its record is written whatever comes now (a Ctrl-C here would record it twice).
    `trap '' ${STOP_SIGNALS}`,
    `hist_end "$hist_result" '' || { echo "the ${action} is done, but its record could not be appended to ${historyDir(manifest.name)}" >&2; exit 1; }`,
    `field pid "$(main_pid)"`,
    '',
  ].join('\n');
}

/**
 * The history's record of a lifecycle action (history-script.ts): begun before anything is done,
 * ended by the script, or by its EXIT trap with how it ended. INT, TERM and HUP run the script's
 * `lc_cut` (which sets hist_cut and exits 130), once: the record and the line on stderr that
 * svc shows are then not cut short by a second Ctrl-C.
 */
function historyStart(
  manifest: Manifest,
  action: ControlAction | 'unlock',
  who: HistoryWho,
): string[] {
  return [
    historyFunctions(manifest.name),
    exitTrapOnce('hist_exit "$1"; [ -z "$hist_cut" ] || printf "%s\\n" "$hist_cut" >&2'),
    // A signal while the record begins is noted and acted on after: the pending record and
    // hist_open (which makes hist_exit write the real one) go together.
    `lc_sig=; trap 'lc_sig=1' ${STOP_SIGNALS}`,
    `${historyBegin(action, who)} || { echo "svc cannot keep its history in ${historyDir(manifest.name)} (not root's own private directory, or not writable): nothing was done" >&2; exit 1; }`,
    trapOnce('lc_cut'),
    `[ -z "$lc_sig" ] || { trap '' ${STOP_SIGNALS}; lc_cut; }`,
  ];
}

/** The releases on the host, the current one, and svc's history of them. */
export function releasesScript(manifest: Manifest): string {
  const layout = hostLayout(manifest.name);
  return [
    'set -eu',
    `printf 'C\\t%s\\n' "$(readlink ${q(layout.current)} 2>/dev/null || true)"`,
    `for d in ${q(layout.releases)}/*; do [ -d "$d" ] && printf 'X\\t%s\\n' "$(basename -- "$d")"; done`,
    `if [ -f ${q(`${layout.records}/installed.json`)} ]; then printf 'R\\t%s\\n' "$(base64 < ${q(`${layout.records}/installed.json`)} | tr -d '\\n')"; fi`,
    '',
  ].join('\n');
}

export interface ReleaseRow {
  id: string;
  current: boolean;
  status?: 'good' | 'bad';
  at?: string;
}

export function parseReleases(output: string): ReleaseRow[] {
  let current = '';
  const ids: string[] = [];
  let history: { id: string; status: 'good' | 'bad'; at: string }[] = [];
  for (const line of output.split('\n')) {
    const [tag, value = ''] = line.split('\t');
    if (tag === 'C') current = value.replace(/^releases\//, '');
    else if (tag === 'X' && /^[0-9a-f]{12}$/.test(value)) ids.push(value);
    else if (tag === 'R')
      history = (JSON.parse(atob(value)) as { history?: typeof history }).history ?? [];
  }
  const last = (id: string) => history.filter((entry) => entry.id === id).at(-1);
  const rank = (id: string) => history.map((entry) => entry.id).lastIndexOf(id);
  return ids
    .sort((a, b) => rank(a) - rank(b))
    .map((id) => ({
      id,
      current: id === current,
      ...(last(id) && { status: last(id)!.status, at: last(id)!.at }),
    }));
}

/**
 * Reads the deploy lock: NONE when nobody holds it (a holder note left by a killed deploy is
 * removed then: it is stale by definition), else HOLDER and the note, base64.
 */
export function unlockScript(manifest: Manifest): string {
  const { lockFile, holderFile } = lockPaths(manifest.name);
  return [
    'set -eu',
    `if [ ! -e ${q(lockFile)} ]; then echo NONE; exit 0; fi`,
    // Looked at and cleared while holding the lock: a deploy starting meanwhile keeps its note.
    `if flock -n ${q(lockFile)} sh -c 'if [ -e "$1" ]; then rm -f -- "$1"; echo NONE STALE; else echo NONE; fi' sh ${q(holderFile)}; then exit 0; fi`,
    `printf 'HOLDER\\t%s\\n' "$(head -c 4096 ${q(holderFile)} 2>/dev/null | base64 | tr -d '\\n')"`,
    '',
  ].join('\n');
}

/**
 * Stops the deploy holding the lock: TERM to its shell on the host (checked by start time, so a
 * reused pid is never hit), which undoes what it applied and exits; then waits for the lock.
 */
export function stopHolderScript(
  manifest: Manifest,
  pid: number,
  start: string,
  who: HistoryWho = UNKNOWN_WHO,
): string {
  const { lockFile } = lockPaths(manifest.name);
  return [
    'set -eu',
    PROC_START,
    'lc_cut() {',
    `  hist_cut="interrupted during the unlock: the lock was $(if flock -n ${q(lockFile)} true; then echo free; else echo 'still held'; fi)"`,
    '  exit 130',
    '}',
    ...historyStart(manifest, 'unlock', who),
    `proc_start ${pid}`,
    `if [ "$start" = ${q(start)} ]; then kill -TERM ${pid}; fi`,
    'tries=0',
    `until flock -n ${q(lockFile)} true; do`,
    `  tries=$((tries + 1)); [ "$tries" -le 60 ] || { hist_end failed 'the deploy still held the lock after 60 s' || :; echo HELD; exit 0; }; sleep 1`,
    'done',
    // The stopped deploy recorded its own end (interrupted) as it exited, before the lock was free.
    `hist_end done '' || echo "the deploy was stopped, but this unlock could not be recorded in ${historyDir(manifest.name)}" >&2`,
    'echo RELEASED',
    '',
  ].join('\n');
}
