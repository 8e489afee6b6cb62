// The apply script's part for cutover: switch under systemd (see cutover.ts). The live slot keeps
// serving throughout: the new release starts in the idle slot (NAME@PORT.service), is gated on
// that slot's own port (a death is seen from systemd's record within a poll, the log's tail sent
// back), and only then does nginx get the new upstream file (nginx -t first; the old file goes
// back if nginx refuses it). The old slot is drained after the deploy is recorded: no connection
// left to its port (the old nginx workers finished their requests), at most drainTimeout, then
// stopped through its unit (TERM, TimeoutStopSec, KILL) and disabled. A bad release is stopped
// and disabled; the slot that served before was never touched. Pure text, every value quoted.
import {
  liveSlot,
  nextSlot,
  slotPidfile,
  slotTemplateUnit,
  slotUnit,
  upstreamFile,
  upstreamText,
} from './cutover.js';
import { move, privateDir, restoreFile } from './apply-files.js';
import {
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
 * kernel's table: state 01, PORT the local end), at most SECONDS by the clock (a count of polls
 * would run long while other services start on the same CPUs); 1 when some are left then, 2 as
 * soon as the UPSTREAM file names PORT again (a rollback switched back: nothing to drain; read by
 * the shell itself). After nginx reloaded, only its old workers still talk to the old slot, each
 * finishing its requests.
 */
export const DRAIN = String.raw`drain_port() {
  hexport=$(printf '%04X' "$1"); uptime_s; end=$((up_s + $2))
  while grep -Eq "^ *[0-9]+: [0-9A-F]+:$hexport [0-9A-F]+:[0-9A-F]{4} 01 " /proc/net/tcp /proc/net/tcp6 2>/dev/null; do
    if [ -n "${'$'}{3-}" ] && [ -r "$3" ]; then
      while IFS= read -r line; do [ "$line" != "server 127.0.0.1:$1;" ] || return 2; done < "$3"
    fi
    uptime_s; [ "$up_s" -lt "$end" ] || return 1; sleep 0.1
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
  /** The deploy lock, let go during a drain and taken again to stop the drained slot. */
  lock: { file: string; holder: string; waitSeconds: number };
}

export interface SwitchActivation {
  start: string[];
  rollback: string[];
  undoBefore: string[];
  undoService: string[];
  /** After the deploy is recorded: drain the old slot, stop and disable it. */
  after: string[];
}

const quiet = (argv: string[]) => `${shellCommand(argv)} </dev/null 3>&- 9>&-`;

export function switchActivation(input: SwitchInput): SwitchActivation {
  const { manifest, cutover } = input;
  const name = manifest.name;
  const live = liveSlot(name, cutover.slots, input.facts);
  const next = nextSlot(cutover.slots, live);
  // The idle slot already runs this release as the plan saw it: checked again, gated, no start.
  const warm = warmSlot(cutover, live, input.facts.slots);
  // NAME.service (cutover: restart) still serves the port nginx is to take (cutover-migrate.ts).
  const migration = isMigration(input.facts, live)
    ? {
        name,
        port: cutover.port,
        behindNginx: frontWasThere(cutover, input.facts),
        stopSeconds: (manifest.stopTimeout ?? 30) + 10,
      }
    : undefined;
  const unit = slotUnit(name, next);
  const upstream = upstreamFile(name);
  const path = manifest.health ?? '/';
  const url = `http://127.0.0.1:${next.port}${path}`;
  const timeout = input.healthTimeoutSeconds;
  const unitChanged = input.changes.some(
    (change) => change.kind === 'file' && change.target === slotTemplateUnit(name),
  );
  const layout = hostLayout(name);
  const reload = `reload_nginx || { say "FAIL	nginx did not take up the new configuration: see the host's /var/log/nginx/error.log"; rollback; }`;
  const startSlot = [
    ...(unitChanged ? ['systemctl daemon-reload'] : []),
    // The idle slot gets no requests (nginx names the live one): whatever still runs there (a
    // drain a killed deploy did not finish) is stopped before the new release takes the port.
    `${quiet(['systemctl', 'stop', '--', unit])} || :`,
    `${shellCommand(['systemctl', 'reset-failed', '--', unit])} 2>/dev/null || :`,
    // Another process on the slot's port would answer the health check in the release's place.
    `port_free ${next.port} 50 || { say "FAIL	port ${next.port} (slot ${next.name}) is held by another process: free it, or give svc.yaml slotPorts"; exit 1; }`,
    `gate_begin '' ${q(unit)} ${q(layout.logFile)} ${q(manifest.user)}`,
    `${quiet(['systemctl', 'start', '--', unit])} || :`,
    'started=0',
    `wait_new_pid ${q(slotPidfile(name, next))} '' ${timeout} || started=$?`,
    '[ "$started" = 0 ] || rollback',
    `if ! wait_healthy url ${q(url)} ${timeout}; then rollback; fi`,
    `say "STEP	slot ${next.name} (port ${next.port}) started and healthy"`,
    // What it was started with, for a later switch back to it without a start (cutover-warm.ts).
    privateDir(layout.records),
    slotStartedLine(name, next, slotPidfile(name, next)),
  ];
  const start = [
    'switched=0',
    ...(warm === undefined
      ? ['warm=0', ...startSlot]
      : [
          ...warmCheck({ name, warm, releaseDir: `${layout.releases}/${warm.release}`, path }),
          'if [ "$warm" != 1 ]; then',
          ...startSlot,
          'fi',
        ]),
    // The switch: a new upstream file, renamed into place (the old one kept to put back).
    `if [ -f ${q(upstream)} ]; then cp -p -- ${q(upstream)} "$stage/upstream.before"; fi`,
    `rm -f -- ${q(`${upstream}.svc-new`)}`,
    `printf '%s' ${q(upstreamText(name, next))} > ${q(`${upstream}.svc-new`)}`,
    move(`${upstream}.svc-new`, upstream),
    'switched=1',
    `nginx -t || { say "FAIL	nginx -t refused the configuration with slot ${next.name}"; rollback; }`,
    ...(migration === undefined ? [reload] : takePortLines(migration, reload)),
    // What visitors reach: the health path through nginx on the public port.
    ...(input.front ? [frontGateLine(input.front)] : []),
    `say "STEP	switched nginx on port ${cutover.port} to slot ${next.name}"`,
    `${shellCommand(['systemctl', 'enable', '--quiet', '--', unit])} || :`,
    ...(migration === undefined ? [] : migratedLines(name)),
    `say "STEP	healthy"`,
  ];
  // Undo, before the files go back: nginx back to the slot that served (it never stopped), then
  // the new slot stopped. A first deploy has no slot to go back to: its upstream file goes.
  const putBack = [
    `if [ -f "$stage/upstream.before" ]; then ${restoreFile('"$stage/upstream.before"', upstream)}; else rm -f -- ${q(upstream)}; fi`,
    'if nginx -t; then reload_nginx; fi',
  ].join('; ');
  const undoBefore = [
    `[ "\${switched-0}" != 1 ] || { ${putBack}; }`,
    // A warm slot ran before this deploy: it is left running, as it was.
    `[ "\${warm-0}" = 1 ] || ${quiet(['systemctl', 'stop', '--', unit])}`,
    `${shellCommand(['systemctl', 'disable', '--quiet', '--', unit])} 2>/dev/null || :`,
  ];
  // After the files are back: systemd and nginx read what was put back.
  const undoService = [
    ...(unitChanged ? ['systemctl daemon-reload'] : []),
    'if nginx -t; then reload_nginx; fi',
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
  const after =
    live.state === 'live'
      ? leaveLines({
          name,
          left: live.slot,
          cutover,
          upstream,
          lock: input.lock,
        })
      : [];
  return { start, rollback, undoBefore, undoService, after };
}
