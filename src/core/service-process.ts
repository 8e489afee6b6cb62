// Where the service's process is on a host: the ONE place svc status/start/stop/restart, svc top
// and svc trace find it. The init system's main pid under systemd, else the pidfile (under OpenRC
// supervise-daemon's child_pid, layout.ts); under cutover: switch, the LIVE slot's: the one the
// upstream file nginx includes names (cutover.ts), read again at every call, so svc top's
// long-lived reader follows a deploy's switch. Pure: sh text, every value shell-quoted. The
// functions use sh's own builtins only (read, case, kill -0), apart from systemctl under systemd:
// svc top calls them at every refresh on every host.
import { isSwitch, slotsOf, upstreamFile, type Slot } from './cutover.js';
import { slotCheck, slotProcessPidfile } from './cutover-slots.js';
import { servicePidFile } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';

export type ProcessManifest = Pick<
  Manifest,
  'name' | 'init' | 'monit' | 'cutover' | 'port' | 'slotPorts'
>;

/**
 * Shell: `$1=...` assignments of one slot's names: its instance ($name: NAME@PORT under
 * systemd), its process's pidfile, its monit check. With `prefix` (idle_) the other slot's.
 */
function slotAssignments(manifest: ProcessManifest, slot: Slot, prefix = ''): string {
  const name = manifest.name;
  return [
    `${prefix}slot=${slot.name}`,
    `${prefix}name=${q(manifest.init === 'systemd' ? `${name}@${slot.port}` : name)}`,
    `${prefix}pidfile=${q(slotProcessPidfile(manifest, slot))}`,
    `${prefix}check=${q(slotCheck(name, slot))}`,
  ].join(' ');
}

/**
 * `live_slot`: $slot_port from the upstream file (its first `server 127.0.0.1:PORT;` line, as
 * readLiveSlotPort's sed), then $slot, $name, $pidfile and $check for that slot and $idle_slot,
 * $idle_name, $idle_pidfile, $idle_check for the other; with no slot live (no switch deploy yet,
 * or a file svc did not write) the service's own names, and no idle slot.
 */
function liveSlotFunction(manifest: ProcessManifest): string {
  const [a, b] = slotsOf(manifest);
  const plain = [
    'slot= idle_slot= idle_name= idle_pidfile= idle_check= check=',
    `name=${q(manifest.name)}`,
    `pidfile=${q(servicePidFile(manifest.name, manifest.init))}`,
  ].join(' ');
  return [
    'live_slot() {',
    '  slot_port=',
    '  while IFS= read -r l || [ -n "$l" ]; do',
    "    case $l in 'server 127.0.0.1:'*';')",
    "      l=${l#'server 127.0.0.1:'}; l=${l%';'}",
    '      case $l in "" | *[!0-9]*) ;; *) slot_port=$l; break ;; esac ;;',
    '    esac; l=',
    `  done 2>/dev/null < ${q(upstreamFile(manifest.name))} || :`,
    '  case $slot_port in',
    `    ${a.port}) ${slotAssignments(manifest, a)}; ${slotAssignments(manifest, b, 'idle_')} ;;`,
    `    ${b.port}) ${slotAssignments(manifest, b)}; ${slotAssignments(manifest, a, 'idle_')} ;;`,
    `    *) ${plain} ;;`,
    '  esac',
    '  return 0',
    '}',
  ].join('\n');
}

/**
 * The shell functions (after `name`, `init` and `pidfile` are set):
 *   prop KEY        $v: KEY's value in $show (systemctl show's KEY=VALUE lines), else empty
 *   pid_in FILE     $v: the live pid a root-owned pidfile names, else empty
 *   service_pid     $pid: the service's (the live slot's) process, empty when none runs; under
 *                   systemd $show keeps what systemctl said of the unit (ActiveState, SubState,
 *                   NRestarts) for svc top
 *   idle_slot_pid   $idle_pid: the other slot's process, when one runs (kept warm, or draining)
 *   main_pid        prints service_pid's $pid (for $(...) in the lifecycle scripts)
 */
export function serviceProcessFunctions(manifest: ProcessManifest): string {
  const lines = [
    // PID 1's name, once: systemctl answers only where systemd runs (not in a light sandbox).
    'pid1=; { read -r pid1; } 2>/dev/null < /proc/1/comm || :',
    [
      'prop() {',
      '  v="',
      '$show"',
      '  case $v in *"',
      '$1="*) v=${v#*"',
      '$1="}; v=${v%%"',
      '"*} ;; *) v= ;; esac',
      '  return 0',
      '}',
    ].join('\n'),
    String.raw`pid_in() {
  v=; { read -r v; } 2>/dev/null < "$1" || :
  case $v in "" | 0* | *[!0-9]* | ??????????*) v= ;; *) kill -0 "$v" 2>/dev/null || v= ;; esac
  return 0
}`,
    'service_pid() {',
    ...(isSwitch(manifest) ? ['  live_slot'] : []),
    '  pid= show=',
    '  if [ "$init" = systemd ] && [ "$pid1" = systemd ]; then',
    '    show=$(systemctl show -p MainPID -p ActiveState -p SubState -p NRestarts -- "$name" 2>/dev/null)',
    '    prop MainPID; case $v in "" | 0 | *[!0-9]*) ;; *) kill -0 "$v" 2>/dev/null && pid=$v ;; esac',
    '  else pid_in "$pidfile"; pid=$v; fi',
    // Always 0: the lifecycle scripts run under set -e.
    '  return 0',
    '}',
    // The idle slot's pidfile: each slot's unit writes one (cutover.ts slotPidfile), under every
    // init system; a stale one names a process that is gone (kill -0).
    'idle_slot_pid() {',
    '  idle_pid=; [ -z "${idle_pidfile:-}" ] || { pid_in "$idle_pidfile"; idle_pid=$v; }',
    '  return 0',
    '}',
    'main_pid() { service_pid; printf %s "$pid"; }',
  ];
  return [...(isSwitch(manifest) ? [liveSlotFunction(manifest)] : []), ...lines].join('\n');
}

/** Shell run once at the top of a script: the live slot's names into $name, $pidfile, $check. */
export function liveSlotNow(manifest: ProcessManifest): string {
  return isSwitch(manifest) ? 'live_slot' : ':';
}
