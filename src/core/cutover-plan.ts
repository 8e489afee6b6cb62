// What the plan says about a cutover: switch service: the steps of the switch, or the one line
// that says why it cannot happen on this host (and what fixes it). Pure.
import {
  liveSlot,
  NGINX_BINARY,
  slotTemplateUnit,
  switchSteps,
  type LiveSlot,
  type Slot,
} from './cutover.js';
import { idleSlotNote, warmSlot, warmSteps, type SlotFact } from './cutover-warm.js';
import { frontWasThere, isMigration, migrationSteps } from './cutover-migrate.js';
import type { HostFacts } from './facts.js';
import type { ServiceOperation, SwitchCutover } from './operations.js';
import type { Change } from './plan.js';

export interface SwitchPlan {
  problems: string[];
  change?: Change;
}

/** `changed`: the service's inputs this plan changes (release, unit, env file, ...). */
export function planSwitch(
  op: ServiceOperation,
  cutover: SwitchCutover,
  facts: HostFacts,
  host: string,
  changed: readonly string[],
): SwitchPlan {
  const name = op.name;
  const problems: string[] = [];
  if (facts.paths.get(NGINX_BINARY)?.type !== 'file')
    problems.push(
      `svc.yaml says cutover: switch, but nginx is not installed on ${host} (no ${NGINX_BINARY}): install it there (apt-get install nginx), or use cutover: restart`,
    );
  if (!cutover.templateUnit) {
    const missing = cutover.missingUnitFiles ?? [slotTemplateUnit(name)];
    problems.push(
      `svc.yaml says cutover: switch, but config/ has no ${missing.map((path) => `config${path}`).join(', ')}: the slots under init: ${op.init} need ${missing.length === 1 ? 'it' : 'them'} (svc new ${name} --cutover switch writes ${missing.length === 1 ? 'it' : 'them'})`,
    );
  }
  const live = liveSlot(name, cutover.slots, facts);
  const systemd = op.init === 'systemd';
  // A process started the restart way (NAME.service) holds the public port nginx must take: on a
  // first switch under systemd it is moved over (cutover-migrate.ts); beside a live slot it is
  // nobody's. The move stops and disables it through systemctl: other init systems are refused.
  if (facts.service.active && live.state === 'live')
    problems.push(
      `${name} still runs as ${restartUnit(op)} (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''} beside the live slot ${live.slot.name}: stop it (${restartStop(op)} there), then deploy`,
    );
  else if (facts.service.active && !systemd)
    problems.push(
      `${name} still runs as ${restartUnit(op)} (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''}: moving a live restart service to cutover: switch needs init: systemd for now; stop it first (svc stop TARGET), then deploy the switch`,
    );
  // The slot kept warm is found again by its unit's MainPID (slot facts): systemd's alone so far.
  if (cutover.keepWarm === true && !systemd)
    problems.push(
      `svc.yaml keepWarm: true needs init: systemd for now (under init: ${op.init} svc cannot yet tell the kept slot's process): remove keepWarm, or use init: systemd`,
    );
  if (live.state === 'unknown')
    problems.push(
      `${live.why}: svc cannot tell which slot serves ${name} on ${host}; remove the file to start from slot ${cutover.slots[0].name}`,
    );
  if (problems.length > 0 || live.state === 'unknown') return { problems };
  // Nothing changed, but the live slot's process is not running (systemd's slot facts tell): the
  // release is started again in the idle slot and switched to, as for a change.
  const down = live.state === 'live' ? liveSlotDown(live.slot, facts.slots) : undefined;
  if (live.state === 'live' && changed.length === 0 && down === undefined) return { problems };
  // The idle slot may still run a release (kept warm, or a drain a killed deploy left): the very
  // one going live, started with the same inputs, is switched to without a start.
  const warm = warmSlot(cutover, live, facts.slots);
  const note = warm === undefined ? idleSlotNote(live, facts.slots) : undefined;
  return {
    problems,
    change: {
      action: 'switch',
      kind: 'service',
      target: name,
      reasons:
        live.state === 'none'
          ? ['no slot serves yet']
          : [...changed.map((path) => `${path} changed`), ...(down === undefined ? [] : [down])],
      steps:
        warm !== undefined
          ? warmSteps(cutover, warm, live)
          : isMigration(facts, live)
            ? migrationPlanSteps(name, cutover, live, facts)
            : [...(note === undefined ? [] : [note]), ...switchSteps(cutover, live)],
    },
  };
}

/** A migration's steps: the slot started and gated first, then the port taken from NAME.service. */
function migrationPlanSteps(
  name: string,
  cutover: SwitchCutover,
  live: LiveSlot,
  facts: HostFacts,
): string[] {
  const [start] = switchSteps(cutover, live);
  return [
    start!,
    ...migrationSteps(name, cutover.port, facts.service.pid, frontWasThere(cutover, facts)),
  ];
}

/** The command that stops the restart way's process on the host (svc stop acts on the live slot). */
function restartStop(op: ServiceOperation): string {
  switch (op.init) {
    case 'systemd':
      return `systemctl stop ${op.name}.service`;
    case 'openrc':
      return `rc-service ${op.name} stop`;
    case 'upstart':
      return `initctl stop ${op.name}`;
    case 'monit':
      return `monit stop ${op.name}`;
  }
}

/** The restart way's process, as the init system knows it. */
function restartUnit(op: ServiceOperation): string {
  return op.init === 'systemd' ? `${op.name}.service` : `/run/${op.name}.pid`;
}

/**
 * Why the live slot needs a start though nothing changed: its unit has no running main process
 * (the T record says `-`). Unknown (no T records: not systemd) is not down.
 */
export function liveSlotDown(
  slot: Slot,
  slots: ReadonlyMap<number, SlotFact> | undefined,
): string | undefined {
  const fact = slots?.get(slot.port);
  if (fact === undefined || fact.pid !== undefined) return undefined;
  return `slot ${slot.name} (live, port ${slot.port}) is not running`;
}
