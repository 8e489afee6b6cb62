// cutover: switch on each init system svc supports (issue 11): what each slot is called by the
// init system (and by monit, when monit watches), the files that make a slot, and the commands
// that start, stop and keep a slot, as argv or quoted shell text. Pure.
//
// Each init system in its own natural way, each slot a supervised instance on its own loopback
// port (the slot's port, core/cutover.ts):
//   systemd  a template unit, NAME@.service; the slot is NAME@PORT.service.
//   openrc   one script, /etc/init.d/NAME, and a symlink per slot, NAME.a and NAME.b (OpenRC's
//            multi-instance scripts); the slot is RC_SVCNAME's suffix.
//   upstart  an instance job, /etc/init/NAME.conf with `instance $SLOT` (initctl start NAME
//            SLOT=a), and a task, NAME-slots.conf, that starts the slots svc marked at boot.
//   monit    two checks, NAME-a and NAME-b, each starting its slot through the slot launcher.
// When monit watches (init: monit, or monit: true), the two checks are in /etc/monit/conf.d/NAME
// and their programs call the launcher, /usr/local/lib/svc/NAME/ctl ACTION SLOT, which starts
// the slot through the init system (or start-stop-daemon under init: monit).
//
// Which slots should run is marked by svc in root's own state directory (slotMarker): a slot's
// marker is written before the deploy starts it and removed before it is stopped after its drain.
// The launcher starts no slot without its marker: monit starts a check it has just loaded (a new
// check file names both slots), and would otherwise start the idle slot too; the upstart boot task
// starts exactly the marked slots.
import { slotPidfile, slotTemplateUnit, upstreamFile, type Slot } from './cutover.js';
import { hostLayout } from './layout.js';
import type { InitSystem, Manifest } from './manifest.js';
import { shellCommand, shellQuote as q } from './quote.js';

export type SlotManifest = Pick<Manifest, 'name' | 'init' | 'monit'>;
type SlotAction = 'start' | 'stop' | 'restart';

/** The monit check of a slot (both are in /etc/monit/conf.d/NAME). */
export function slotCheck(name: string, slot: Slot): string {
  return `${name}-${slot.name}`;
}

/** The monit group of both slots' checks: one action for both. */
export function slotGroup(name: string): string {
  return `${name}-slots`;
}

/** The OpenRC service of a slot: a symlink to /etc/init.d/NAME (RC_SVCNAME = NAME.a). */
export function openrcSlotService(name: string, slot: Slot): string {
  return `${name}.${slot.name}`;
}

/** The upstart boot task that starts the marked slots (the instance job has no `start on`). */
export function upstartSlotsTask(name: string): string {
  return `/etc/init/${name}-slots.conf`;
}

/** svc's mark that a slot should run (root's state directory): the launcher's and boot's guide. */
export function slotMarker(name: string, slot: Slot): string {
  return `${hostLayout(name).records}/slot-${slot.name}.on`;
}

/**
 * The files config/ must ship for the slots under this init system: the one the plan names when
 * it is missing. (The monit check file is the monit step's, as without switch.)
 */
export function slotUnitFiles(manifest: SlotManifest): string[] {
  const name = manifest.name;
  const launcher = manifest.monit || manifest.init === 'monit' ? [hostLayout(name).launcher] : [];
  switch (manifest.init) {
    case 'systemd':
      return [slotTemplateUnit(name), ...launcher];
    case 'openrc':
      return [`/etc/init.d/${name}`, ...launcher];
    case 'upstart':
      return [`/etc/init/${name}.conf`, upstartSlotsTask(name), ...launcher];
    case 'monit':
    case undefined:
      return launcher;
  }
}

/**
 * The file whose text says how a slot's process is started under this init system (the template
 * unit, the OpenRC script, the upstart instance job, the launcher that runs start-stop-daemon
 * under init: monit). svc records its sha256 for each pid it starts (cutover-warm.ts): a slot
 * kept running is switched back to without a start only if it was started with the file the
 * switch leaves on the host.
 */
export function slotStartFile(manifest: SlotManifest): string {
  const name = manifest.name;
  switch (manifest.init) {
    case 'systemd':
      return slotTemplateUnit(name);
    case 'openrc':
      return `/etc/init.d/${name}`;
    case 'upstart':
      return `/etc/init/${name}.conf`;
    case 'monit':
    case undefined:
      return hostLayout(name).launcher;
  }
}

/**
 * Where root reads the pid of a slot's own process (health gate, crash, svc status): the slot's
 * pidfile, except under OpenRC, where that is supervise-daemon's and the child's is in OpenRC's
 * state (as layout.ts servicePidFile).
 */
export function slotProcessPidfile(manifest: SlotManifest, slot: Slot): string {
  return manifest.init === 'openrc'
    ? `/run/openrc/options/${openrcSlotService(manifest.name, slot)}/child_pid`
    : slotPidfile(manifest.name, slot);
}

/** The init system's own command for a slot (no monit): what the launcher and svc run. */
export function initSlotControl(
  init: InitSystem,
  name: string,
  slot: Slot,
  action: SlotAction | 'status',
): string[] {
  switch (init) {
    case 'systemd':
      return action === 'status'
        ? ['systemctl', 'status', '--no-pager', '--', `${name}@${slot.port}.service`]
        : ['systemctl', action, '--', `${name}@${slot.port}.service`];
    case 'openrc':
      return ['rc-service', openrcSlotService(name, slot), action];
    case 'upstart':
      return action === 'restart'
        ? [
            'sh',
            '-c',
            'initctl restart "$1" "$2" || initctl start "$1" "$2"',
            'sh',
            name,
            `SLOT=${slot.name}`,
          ]
        : ['initctl', action, name, `SLOT=${slot.name}`];
    case 'monit':
      return [hostLayout(name).launcher, action, slot.name];
  }
}

/**
 * What a person, svc start|stop|restart and the deploy use for a slot: monit when it watches
 * (it would start again what was stopped behind its back), else the init system.
 */
export function slotControl(
  manifest: SlotManifest,
  slot: Slot,
  action: SlotAction | 'status',
): string[] {
  const init = manifest.init ?? 'monit';
  if (manifest.monit || init === 'monit') return ['monit', action, slotCheck(manifest.name, slot)];
  return initSlotControl(init, manifest.name, slot, action);
}

/** Whether a deploy's start or stop of a slot returns before the process has (monit: always). */
export function slotControlIsAsync(manifest: SlotManifest): boolean {
  return manifest.monit || manifest.init === 'monit';
}

/** Shell lines: the slot may run from now on (at boot too). */
export function enableSlot(manifest: SlotManifest, slot: Slot): string[] {
  const name = manifest.name;
  return [
    `: > ${q(slotMarker(name, slot))}`,
    ...(manifest.init === 'systemd'
      ? [
          `${shellCommand(['systemctl', 'enable', '--quiet', '--', `${name}@${slot.port}.service`])} || :`,
        ]
      : []),
    ...(manifest.init === 'openrc'
      ? [
          `${shellCommand(['rc-update', 'add', openrcSlotService(name, slot), 'default'])} >/dev/null 2>&1 || :`,
        ]
      : []),
  ];
}

/** Shell lines: the slot no longer runs at boot, and neither monit nor the launcher starts it. */
export function disableSlot(manifest: SlotManifest, slot: Slot): string[] {
  const name = manifest.name;
  return [
    `rm -f -- ${q(slotMarker(name, slot))}`,
    ...(manifest.init === 'systemd'
      ? [
          `${shellCommand(['systemctl', 'disable', '--quiet', '--', `${name}@${slot.port}.service`])} 2>/dev/null || :`,
        ]
      : []),
    ...(manifest.init === 'openrc'
      ? [
          `${shellCommand(['rc-update', 'del', openrcSlotService(name, slot), 'default'])} >/dev/null 2>&1 || :`,
        ]
      : []),
  ];
}

/**
 * Shell lines before a slot starts: the init system reads changed unit files (OpenRC's instance
 * links made), monit loads a changed check file (both checks, before either is asked to act).
 */
export function prepareSlots(
  manifest: SlotManifest,
  slots: readonly [Slot, Slot],
  changed: ReadonlySet<string>,
  monitCheck: string | undefined,
): string[] {
  const name = manifest.name;
  const lines: string[] = [];
  if (manifest.init === 'systemd' && changed.has(slotTemplateUnit(name)))
    lines.push('systemctl daemon-reload');
  if (manifest.init === 'openrc')
    for (const slot of slots) {
      const link = `/etc/init.d/${openrcSlotService(name, slot)}`;
      // The link names the script relatively, as OpenRC's own instances do; root's directory. A
      // link there that names anything else (a renamed service's script) is replaced: OpenRC
      // would run that script as the slot.
      lines.push(
        `[ "$(readlink -- ${q(link)})" = ${q(name)} ] || ln -s -f -n -T -- ${q(name)} ${q(link)}`,
      );
    }
  if (
    manifest.init === 'upstart' &&
    (changed.has(`/etc/init/${name}.conf`) || changed.has(upstartSlotsTask(name)))
  )
    lines.push('initctl reload-configuration');
  if (monitCheck !== undefined && changed.has(monitCheck))
    lines.push(
      'monit reload',
      ...slots.map(
        (slot) =>
          `monit_ready ${q(slotCheck(name, slot))} || { say "FAIL	monit did not load the check for ${slotCheck(name, slot)}"; exit 1; }`,
      ),
      // monit starts a check it has just loaded once it has found it down for two cycles, and
      // each action asked of it runs a cycle: so one action unwatches both slots (their group),
      // and the slot svc marked (the live one) is watched again. The launcher refuses an
      // unmarked slot meanwhile.
      `slot_monit -g ${q(slotGroup(name))} unmonitor || :`,
      ...slots.map(
        (slot) =>
          `[ ! -e ${q(slotMarker(name, slot))} ] || slot_monit monitor ${q(slotCheck(name, slot))} || :`,
      ),
      `say "STEP	monit reloaded"`,
    );
  return lines;
}

/** Shell lines after undo put the files back: OpenRC's links go when their script went. */
export function unprepareSlots(manifest: SlotManifest, slots: readonly [Slot, Slot]): string[] {
  if (manifest.init !== 'openrc') return [];
  const links = slots.map((slot) => q(`/etc/init.d/${openrcSlotService(manifest.name, slot)}`));
  return [`[ -e ${q(`/etc/init.d/${manifest.name}`)} ] || rm -f -- ${links.join(' ')}`];
}

/**
 * A shell `case` over the live slot's port ($1 of the caller: read from the upstream file) that
 * runs `body(slot)` for the slot it names, and `none` when it names neither.
 */
export function caseLiveSlot(
  slots: readonly [Slot, Slot],
  variable: string,
  body: (slot: Slot) => string,
  none: string,
): string {
  return [
    `case "$${variable}" in`,
    ...slots.map((slot) => `  ${slot.port}) ${body(slot)} ;;`),
    `  *) ${none} ;;`,
    'esac',
  ].join('\n');
}

/** Shell: the port nginx's upstream file names (the live slot's) into $slot_port, else empty. */
export function readLiveSlotPort(name: string): string {
  return (
    String.raw`slot_port=$(sed -n 's/^server 127\.0\.0\.1:\([0-9][0-9]*\);$/\1/p' ` +
    `${q(upstreamFile(name))} 2>/dev/null | head -n 1)`
  );
}

/**
 * argv that runs ACTION on the live slot, read from the upstream file when it runs (as root: the
 * file is in root's 0700 state directory), through monit or the init system; for a person's
 * helper scripts on the host (their own arguments follow). Exits 1 saying so when no slot is live.
 */
export function liveSlotArgv(
  manifest: SlotManifest,
  slots: readonly [Slot, Slot],
  action: SlotAction | 'status',
): string[] {
  const body = caseLiveSlot(
    slots,
    'slot_port',
    (slot) => `exec ${shellCommand(slotControl(manifest, slot, action))} "$@"`,
    `echo ${q(`${manifest.name}: no live slot (no deploy has switched yet)`)} >&2; exit 1`,
  );
  return ['sh', '-c', `${readLiveSlotPort(manifest.name)}\n${body}`, 'sh'];
}
