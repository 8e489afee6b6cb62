// What the plan says about a cutover: switch service: the steps of the switch, or the one line
// that says why it cannot happen on this host (and what fixes it). Pure.
import {
  liveSlot,
  NGINX_BINARY,
  slotTemplateUnit,
  switchSteps,
  upstreamFile,
  type LiveSlot,
  type Slot,
} from './cutover.js';
import { idleSlotNote, warmSlot, warmSteps, type SlotFact } from './cutover-warm.js';
import { canMigrate, frontWasThere, isMigration, migrationSteps } from './cutover-migrate.js';
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
  // A process started the restart way (NAME.service) holds the public port nginx must take: on a
  // first switch it is moved over (cutover-migrate.ts), under every init system but upstart;
  // beside a live slot it is nobody's.
  if (facts.service.active && live.state === 'live')
    problems.push(
      `${name} still runs as ${restartUnit(op)} (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''} beside the live slot ${live.slot.name}: stop it (${restartStop(op)} there), then deploy`,
    );
  else if (facts.service.active && !canMigrate(op.init))
    problems.push(
      `${name} still runs as ${restartUnit(op)} (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''}: moving a live restart service to cutover: switch is not done under init: ${op.init} yet; stop it first (svc stop TARGET), then deploy the switch`,
    );
  if (live.state === 'unknown')
    problems.push(
      `${live.why}: svc cannot tell which slot serves ${name} on ${host}; remove the file to start from slot ${cutover.slots[0].name}`,
    );
  if (problems.length > 0 || live.state === 'unknown') return { problems };
  // Nothing changed, but the live slot's process is not running (the slot facts tell): the
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
            ? migrationPlanSteps(op, cutover, live, facts)
            : [...(note === undefined ? [] : [note]), ...switchSteps(cutover, live)],
    },
  };
}

/** A migration's steps: the slot started and gated first, then the port taken from NAME.service. */
function migrationPlanSteps(
  op: ServiceOperation,
  cutover: SwitchCutover,
  live: LiveSlot,
  facts: HostFacts,
): string[] {
  const [start] = switchSteps(cutover, live);
  return [
    start!,
    ...migrationSteps(
      op.name,
      cutover.port,
      facts.service.pid,
      frontWasThere(cutover, facts),
      op.init,
    ),
  ];
}

/**
 * A cutover: restart service whose host still has the upstream file of a switch: nginx holds the
 * public port and the slots run there. svc does not take a switch back to restart (it would start
 * NAME.service on a port nginx holds, and leave the slots running): refused, naming the way out.
 */
export function switchLeftBehind(
  op: Pick<ServiceOperation, 'name'>,
  facts: Pick<HostFacts, 'paths'>,
  host: string,
): string | undefined {
  const fact = facts.paths.get(upstreamFile(op.name));
  if (fact === undefined || fact.type === 'absent') return undefined;
  return `svc.yaml says cutover: restart, but ${op.name} runs cutover: switch on ${host} (${upstreamFile(op.name)}: nginx serves its port from a slot): moving a switch service back to restart is not done yet; keep cutover: switch in svc.yaml`;
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
 * Why the live slot needs a start though nothing changed: it has no running process (the T
 * record says `-`). Unknown (no T records) is not down.
 */
export function liveSlotDown(
  slot: Slot,
  slots: ReadonlyMap<number, SlotFact> | undefined,
): string | undefined {
  const fact = slots?.get(slot.port);
  if (fact === undefined || fact.pid !== undefined) return undefined;
  return `slot ${slot.name} (live, port ${slot.port}) is not running`;
}
