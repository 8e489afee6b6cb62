// What the plan says about a cutover: switch service: the steps of the switch, or the one line
// that says why it cannot happen on this host (and what fixes it). Pure.
import { liveSlot, NGINX_BINARY, slotTemplateUnit, switchSteps } from './cutover.js';
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
  // A process started the restart way (NAME.service) holds the public port nginx must take.
  if (facts.service.active)
    problems.push(
      `${name} still runs as ${op.init === 'systemd' ? `${name}.service` : `/run/${name}.pid`} (cutover: restart) on ${host}${facts.service.pid ? `, pid ${facts.service.pid}` : ''}: stop it first (svc stop TARGET), then deploy the switch`,
    );
  const live = liveSlot(name, cutover.slots, facts);
  if (live.state === 'unknown')
    problems.push(
      `${live.why}: svc cannot tell which slot serves ${name} on ${host}; remove the file to start from slot ${cutover.slots[0].name}`,
    );
  if (problems.length > 0 || live.state === 'unknown') return { problems };
  if (live.state === 'live' && changed.length === 0) return { problems };
  return {
    problems,
    change: {
      action: 'switch',
      kind: 'service',
      target: name,
      reasons:
        live.state === 'none' ? ['no slot serves yet'] : changed.map((path) => `${path} changed`),
      steps: switchSteps(cutover, live),
    },
  };
}
