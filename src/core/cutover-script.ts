// The apply script's part for cutover: switch (see cutover.ts; each init system's commands are
// cutover-slots.ts). The live slot keeps serving throughout: the new release starts in the idle
// slot, is gated on that slot's own port (a death is seen within a poll, from systemd's record or
// the slot's pidfile, the log's tail sent back), and only then does nginx get the new upstream
// file (nginx -t first; the old file goes back if nginx refuses it). The old slot is drained after
// the deploy is recorded, without the deploy lock (cutover-warm.ts leaveLines): no connection left
// to its port (the old nginx workers finished their requests), at most drainTimeout, then, unless
// a rollback switched back meanwhile, unmarked and stopped through its init system or monit
// (TERM, the stop timeout, KILL). A bad release is stopped and unmarked; the slot that served
// before was never touched. A warm switch back (cutover-warm.ts) works under every init system,
// the move of a live restart service (cutover-migrate.ts) under all but upstart (the plan refuses
// it there); no line here runs systemctl under another init system. Pure text, every value
// quoted.
import {
  liveSlot,
  nextSlot,
  slotPidfile,
  slotTemplateUnit,
  slotUnit,
  upstreamFile,
  upstreamText,
  type Slot,
} from './cutover.js';
import {
  slotCheck,
  disableSlot,
  enableSlot,
  prepareSlots,
  slotControl,
  slotControlIsAsync,
  slotProcessPidfile,
  unprepareSlots,
} from './cutover-slots.js';
import { move, privateDir, restoreFile } from './apply-files.js';
import {
  canMigrate,
  frontWasThere,
  isMigration,
  migratedLines,
  migrationUndo,
  takePortLines,
} from './cutover-migrate.js';
import { leaveLines, slotStartedLine, warmCheck, warmSlot } from './cutover-warm.js';
import type { HostFacts } from './facts.js';
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { frontGateLine, type FrontCheck } from './nginx-front.js';
import type { SwitchCutover } from './operations.js';
import type { Change } from './plan.js';
import { shellCommand, shellQuote as q } from './quote.js';

/**
 * drain_port PORT SECONDS [UPSTREAM]: wait until no TCP connection to PORT is established (the
 * kernel's table: state 01, 127.0.0.1:PORT the local end, as nginx reaches a slot, also as
 * IPv4-mapped; an outgoing connection that the kernel gave PORT as its ephemeral local port, on
 * another address, is none of the slot's: review F10), at most SECONDS by the clock (a count of polls
 * would run long while other services start on the same CPUs); 1 when some are left then, 2 as
 * soon as the UPSTREAM file names PORT again (a rollback switched back: nothing to drain; read by
 * the shell itself), 3 as soon as $drain_cut is 1 (svc was interrupted: stop waiting). After
 * nginx reloaded, only its old workers still talk to the old slot, each finishing its requests.
 */
export const DRAIN = String.raw`drain_port() {
  hexport=$(printf '%04X' "$1"); uptime_s; end=$((up_s + $2))
  while grep -Eq "^ *[0-9]+: [0-9A-F]*0100007F:$hexport [0-9A-F]+:[0-9A-F]{4} 01 " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    [ "${'$'}{drain_cut-0}" != 1 ] || return 3
    if [ -n "${'$'}{3-}" ] && [ -r "$3" ]; then
      while IFS= read -r line; do [ "$line" != "server 127.0.0.1:$1;" ] || return 2; done < "$3"
    fi
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
  done
}`;

/**
 * port_uid_ok PORT UID: something listens on PORT (the kernel's table: state 0A), and every such
 * socket is UID's. After a slot's gate: the health answer came from the service user's process,
 * not from another user's that took the idle slot's port between svc's check that it was free
 * and the new release's start (review F5). (The same user's other processes are not told apart.)
 */
export const PORT_UID = String.raw`port_uid_ok() {
  hexport=$(printf '%04X' "$1"); found=0
  while read -r _ local _ st _ _ _ uid _; do
    case $local in *:$hexport) ;; *) continue ;; esac
    [ "$st" = 0A ] || continue
    [ "$uid" = "$2" ] || return 1
    found=1
  done <<EOF
$(cat /proc/net/tcp /proc/net/tcp6 2>/dev/null)
EOF
  [ "$found" = 1 ]
}`;

export const SLOT_GONE = String.raw`# slot_monit [-g GROUP] ACTION [CHECK]: monit acts on its own time and refuses an action while
# another of the same check's is pending ("try again later"): asked again for 5 s at most.
slot_monit() {
  tries=0
  until monit "$@" </dev/null 3>&- 9>&-; do
    tries=$((tries + 1)); [ "$tries" -le 50 ] || return 1; sleep 0.1
  done
}
# slot_settled CHECK: an action monit was asked for runs in its next cycle ("Not monitored - start
# pending" until then, though the process runs): wait for it, at most 5 s, so what svc status
# says right after the deploy is already true.
slot_settled() {
  tries=0
  while monit status "$1" 2>/dev/null | grep -q '^  status .* pending$'; do
    tries=$((tries + 1)); [ "$tries" -le 100 ] || return 1; sleep 0.05
  done
}
# slot_unwatched CHECK: unmonitored, and settled. Once monit unmonitor has returned, monit says
# "... - unmonitor pending" or already "Not monitored" (monit-unmonitor.test.ts), so the wait
# for no pending action is the wait for the unmonitor.
slot_unwatched() {
  slot_monit unmonitor "$1" && slot_settled "$1"
}
# slot_gone PIDFILE SECONDS: wait until the pidfile names no live process (monit stops a slot on
# its own time, after the stop command returned); 1 when one is still there then.
slot_gone() {
  tries=0
  while pid_ok "$1"; do
    tries=$((tries + 1)); [ "$tries" -le $(($2 * 10)) ] || return 1; sleep 0.1
  done
}`;

export interface SwitchInput {
  manifest: Manifest;
  cutover: SwitchCutover;
  facts: HostFacts;
  changes: readonly Change[];
  healthTimeoutSeconds: number;
  front: FrontCheck | undefined;
  /** The records line for a rolled-back release (apply-script.ts writes it). */
  recordBad: string;
  /** The monit check file, when monit watches the slots (NAME-a, NAME-b). */
  monitCheck?: string;
  /** The deploy lock, let go during a drain and taken again to stop the drained slot. */
  lock: { file: string; holder: string; waitSeconds: number };
}

export interface SwitchActivation {
  /**
   * A first switch: the upstream file, written just before the front site that includes it is
   * put in place (apply-script.ts), so nginx's configuration is never one that includes a
   * missing file (fatal to every site of the host at the next reload or boot).
   */
  beforeFile?: { path: string; lines: string[] };
  /** The end of undo, after the files are back (the site gone): an upstream file it made goes. */
  undoLast: string[];
  start: string[];
  rollback: string[];
  undoBefore: string[];
  undoService: string[];
  /** After the deploy is recorded: drain the old slot, stop and disable it. */
  after: string[];
  /** monit starts and stops the slots: the script needs slot_gone (SLOT_GONE). */
  slotsAsync: boolean;
}

const quiet = (argv: string[]) => `${shellCommand(argv)} </dev/null 3>&- 9>&-`;

export function switchActivation(input: SwitchInput): SwitchActivation {
  const { manifest, cutover } = input;
  const name = manifest.name;
  const live = liveSlot(name, cutover.slots, input.facts);
  const next = nextSlot(cutover.slots, live);
  const systemd = manifest.init === 'systemd';
  // The idle slot already runs this release as the plan saw it: checked again, gated, no start.
  const warm = warmSlot(cutover, live, input.facts.slots);
  // The restart way's process still serves the port nginx is to take (cutover-migrate.ts; not
  // under upstart: the plan refuses it there).
  const migration =
    canMigrate(manifest.init) && isMigration(input.facts, live)
      ? {
          name,
          init: manifest.init,
          stopTimeout: manifest.stopTimeout ?? 30,
          user: manifest.user,
          port: cutover.port,
          behindNginx: frontWasThere(cutover, input.facts),
          stopSeconds: (manifest.stopTimeout ?? 30) + 10,
        }
      : undefined;
  const upstream = upstreamFile(name);
  const path = manifest.health ?? '/';
  const url = `http://127.0.0.1:${next.port}${path}`;
  const timeout = input.healthTimeoutSeconds;
  const changed = new Set(
    input.changes.filter((change) => change.kind === 'file').map((change) => change.target),
  );
  const layout = hostLayout(name);
  // Each init system's own commands for a slot (cutover-slots.ts); monit's, when it watches.
  const unit = slotUnit(name, next);
  const async = slotControlIsAsync(manifest);
  const control = (slot: Slot, action: 'start' | 'stop') =>
    async
      ? `slot_monit ${action} ${q(slotCheck(name, slot))}`
      : quiet(slotControl(manifest, slot, action));
  const pidOf = (slot: Slot) => slotProcessPidfile(manifest, slot);
  // monit acts on its own time: a stop asked of it is waited for (the process gone).
  const gone = (slot: Slot) =>
    async
      ? [
          `slot_gone ${q(pidOf(slot))} ${manifest.stopTimeout + 15} || say "WARNING	slot ${slot.name} did not stop within ${manifest.stopTimeout + 15} s"`,
        ]
      : [];
  const stopSlot = (slot: Slot, failed: string) => [
    `${control(slot, 'stop')} || ${failed}`,
    ...gone(slot),
  ];
  const reload = `reload_nginx || { say "FAIL	nginx did not take up the new configuration: see the host's /var/log/nginx/error.log"; rollback; }`;
  const firstWait = Math.ceil(timeout / 2);
  const writeUpstream = [
    `rm -f -- ${q(`${upstream}.svc-new`)}`,
    `printf '%s' ${q(upstreamText(name, next))} > ${q(`${upstream}.svc-new`)}`,
    move(`${upstream}.svc-new`, upstream),
  ];
  const startSlot = [
    // The idle slot gets no requests (nginx names the live one): whatever still runs there (a
    // drain a killed deploy did not finish) is stopped before the new release takes the port.
    // (monit: only a slot that runs; a stop it has not done yet would refuse the start below.)
    ...(async
      ? [`if pid_ok ${q(slotPidfile(name, next))}; then ${stopSlot(next, ':').join('; ')}; fi`]
      : stopSlot(next, ':')),
    ...(systemd
      ? [`${shellCommand(['systemctl', 'reset-failed', '--', unit])} 2>/dev/null || :`]
      : []),
    // Another process on the slot's port would answer the health check in the release's place.
    `port_free ${next.port} 50 || { say "FAIL	port ${next.port} (slot ${next.name}) is held by another process: free it, or give svc.yaml slotPorts"; exit 1; }`,
    // Marked before it starts: the launcher (monit's programs) starts no slot svc did not mark.
    ...enableSlot(manifest, next),
    systemd
      ? `gate_begin '' ${q(unit)} ${q(layout.logFile)} ${q(manifest.user)}`
      : `gate_begin ${q(pidOf(next))} '' ${q(layout.logFile)} ${q(manifest.user)}`,
    ...(async
      ? [
          // monit can drop an action that arrives while it re-reads its checks: no process by
          // half the timeout, it is asked once more (as the restart way does, apply-script.ts).
          // A stop monit has not done yet (a rollback's, a drain's) would swallow the start.
          `slot_settled ${q(slotCheck(name, next))} || :`,
          `slot_start() { ${control(next, 'start')} || :; }`,
          'slot_start & control_pid=$!',
          'started=0',
          `wait_new_pid ${q(pidOf(next))} '' ${firstWait} || started=$?`,
          'if [ "$started" = 1 ]; then',
          '  proc_alive "$control_pid" || { slot_start & control_pid=$!; }',
          '  started=0',
          `  wait_new_pid ${q(pidOf(next))} '' ${timeout - firstWait} || started=$?`,
          'fi',
        ]
      : [
          `${control(next, 'start')} || :`,
          'started=0',
          `wait_new_pid ${q(pidOf(next))} '' ${timeout} || started=$?`,
        ]),
    '[ "$started" = 0 ] || rollback',
    `if ! wait_healthy url ${q(url)} ${timeout}; then rollback; fi`,
    `[ -z "$gate_uid" ] || port_uid_ok ${next.port} "$gate_uid" || { say "FAIL	port ${next.port} (slot ${next.name}) answered, but from a process that is not ${manifest.user}'s: another process took the slot's port; free it, or give svc.yaml slotPorts"; rollback; }`,
    `say "STEP	slot ${next.name} (port ${next.port}) started and healthy"`,
    // What it was started with, for a later switch back to it without a start (cutover-warm.ts).
    privateDir(layout.records),
    slotStartedLine(manifest, next, pidOf(next), cutover.release),
  ];
  const start = [
    'switched=0',
    ...prepareSlots(manifest, cutover.slots, changed, input.monitCheck),
    ...(warm === undefined
      ? ['warm=0', ...startSlot]
      : [
          ...warmCheck({
            name,
            unit: systemd ? slotUnit(name, warm.slot) : '',
            pidfile: pidOf(warm.slot),
            warm,
            path,
          }),
          'if [ "$warm" != 1 ]; then',
          ...startSlot,
          'fi',
        ]),
    // The switch: a new upstream file, renamed into place (the old one kept to put back; one
    // this deploy made is removed by undo once the site that includes it is gone).
    `if [ "\${upstream_new-0}" != 1 ] && [ -f ${q(upstream)} ]; then cp -p -- ${q(upstream)} "$stage/upstream.before"; else upstream_new=1; fi`,
    ...writeUpstream,
    'switched=1',
    `nginx -t || { say "FAIL	nginx -t refused the configuration with slot ${next.name}"; rollback; }`,
    ...(migration === undefined ? [reload] : takePortLines(migration, reload)),
    // What visitors reach: the health path through nginx on the public port.
    ...(input.front ? [frontGateLine(input.front)] : []),
    `say "STEP	switched nginx on port ${cutover.port} to slot ${next.name}"`,
    // A warm slot was disabled when it was left (and monit stopped watching it, keepWarm): it is
    // the live one now (at boot too, and monit watches it again).
    ...(warm === undefined
      ? []
      : [
          `if [ "$warm" = 1 ]; then ${[...enableSlot(manifest, next), ...(async ? [`slot_monit monitor ${q(slotCheck(name, next))} || :`] : [])].join('; ')}; fi`,
        ]),
    ...(migration === undefined ? [] : migratedLines(migration)),
    // What monit says of the live slot once the deploy has ended is already true (svc status).
    ...(async ? [`slot_settled ${q(slotCheck(name, next))} || :`] : []),
    `say "STEP	healthy"`,
  ];
  // Undo, before the files go back: nginx back to the slot that served (it never stopped), then
  // the new slot unmarked and stopped. A first deploy has no slot to go back to: its upstream
  // file stays while the site that includes it is there (nginx -t would fail without it), and
  // goes at the end of undo (undoLast), after the site.
  const putBack = [
    restoreFile('"$stage/upstream.before"', upstream),
    'nginx -t && reload_nginx',
  ].join('; ');
  const undoBefore = [
    `[ "\${switched-0}" != 1 ] || [ ! -f "$stage/upstream.before" ] || { ${putBack}; }`,
    // A warm slot ran before this deploy: it is left running, as it was (disabled, as it was).
    ...disableSlot(manifest, next),
    `[ "\${warm-0}" = 1 ] || { ${stopSlot(next, ':').join('; ')}; }`,
  ];
  // After the files are back: the init system, monit and nginx read what was put back.
  const undoService = [
    ...(systemd && changed.has(slotTemplateUnit(name)) ? ['systemctl daemon-reload'] : []),
    ...(input.monitCheck !== undefined && changed.has(input.monitCheck) ? ['monit reload'] : []),
    ...unprepareSlots(manifest, cutover.slots),
    'nginx -t && reload_nginx',
    ...(migration === undefined ? [] : migrationUndo(migration)),
  ];
  const rollback = [
    `if [ -n "$exit_ds" ]; then say "EXITED	$exit_how	$exit_ds"; fi`,
    `say "LOG	$(log_tail | hex)"`,
    'undo',
    live.state === 'live'
      ? `if wait_healthy url ${q(`http://127.0.0.1:${live.slot.port}${path}`)} 10; then say "ROLLEDBACK	healthy"; else say "ROLLEDBACK	unhealthy	10"; fi`
      : migration !== undefined
        ? // NAME.service serves the port again (migrationUndo): asked there, as before the deploy.
          `if warm_healthy ${q(`http://127.0.0.1:${cutover.port}${path}`)} 30; then say "ROLLEDBACK	healthy"; else say "ROLLEDBACK	unhealthy	30"; fi`
        : `say "ROLLEDBACK	none"`,
    input.recordBad,
    'exit 77',
  ];
  // The old slot: drained without the lock; then unmarked first (neither monit nor a boot starts
  // it again) and stopped; or, keepWarm, only unmarked and disabled.
  const after =
    live.state === 'live'
      ? leaveLines({
          name,
          left: live.slot,
          cutover,
          upstream,
          lock: input.lock,
          // The process drained: systemd's main pid of the unit, else the slot's own pidfile.
          pidNow: systemd
            ? `$(${shellCommand(['systemctl', 'show', '-p', 'MainPID', '--value', '--', slotUnit(name, live.slot)])} 2>/dev/null)`
            : `$(read_pid ${q(pidOf(live.slot))}; echo "$pid")`,
          disable: disableSlot(manifest, live.slot),
          stop: [
            ...stopSlot(live.slot, `say "WARNING	slot ${live.slot.name} did not stop cleanly"`),
            // monit's word on the stopped slot, settled before the deploy ends (svc status).
            ...(async ? [`slot_settled ${q(slotCheck(name, live.slot))} || :`] : []),
          ],
          // Kept warm: monit no longer watches it (its launcher would refuse the unmarked slot).
          keep: async ? [`slot_unwatched ${q(slotCheck(name, live.slot))} || :`] : [],
        })
      : [];
  return {
    ...(live.state === 'none' &&
      cutover.site !== undefined && {
        beforeFile: { path: cutover.site, lines: [...writeUpstream, 'upstream_new=1'] },
      }),
    undoLast: [`[ "\${upstream_new-0}" != 1 ] || rm -f -- ${q(upstream)}`],
    start,
    rollback,
    undoBefore,
    undoService,
    after,
    slotsAsync: async,
  };
}
