// What the plan says about a cutover: switch service: the steps of the switch, or the one line
// that says why it cannot happen on this host (and what fixes it). Pure.
import { liveSlot, NGINX_BINARY, slotTemplateUnit, switchSteps, type LiveSlot } from './cutover.js';
import { idleSlotNote, warmSlot, warmSteps } from './cutover-warm.js';
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
  if (op.init !== 'systemd')
    return {
      problems: [
        `svc.yaml says cutover: switch, which svc runs under init: systemd only so far (not ${op.init}): use cutover: restart`,
      ],
    };
  const problems: string[] = [];
  if (facts.paths.get(NGINX_BINARY)?.type !== 'file')
    problems.push(
      `svc.yaml says cutover: switch, but nginx is not installed on ${host} (no ${NGINX_BINARY}): install it there (apt-get install nginx), or use cutover: restart`,
    );
  if (!cutover.templateUnit)
    problems.push(
      `svc.yaml says cutover: switch, but config/ has no config${slotTemplateUnit(name)}: the slots are instances of that template unit (svc new ${name} --cutover switch writes one)`,
    );
  const live = liveSlot(name, cutover.slots, facts);
  // A process started the restart way (NAME.service) holds the public port nginx must take: on a
  // first switch it is moved over (cutover-migrate.ts); beside a live slot it is nobody's.
  if (facts.service.active && live.state === 'live')
    problems.push(
      `${name} still runs as ${name}.service (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''} beside the live slot ${live.slot.name}: stop it (systemctl stop ${name}.service there), then deploy`,
    );
  if (live.state === 'unknown')
    problems.push(
      `${live.why}: svc cannot tell which slot serves ${name} on ${host}; remove the file to start from slot ${cutover.slots[0].name}`,
    );
  if (problems.length > 0 || live.state === 'unknown') return { problems };
  if (live.state === 'live' && changed.length === 0) return { problems };
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
        live.state === 'none' ? ['no slot serves yet'] : changed.map((path) => `${path} changed`),
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
