// ~/script/NAME/{start,stop,restart,status,logs}: small scripts on the host, for a person logged
// in there, that do what `svc start|stop|...` does from afar, through the same init commands.
import { serviceControl } from './init-control.js';
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { shellCommand } from './quote.js';
import { isSwitch, slotsOf } from './cutover.js';
import { liveSlotArgv } from './cutover-slots.js';

export const HELPER_SCRIPTS = ['start', 'stop', 'restart', 'status', 'logs'] as const;

function statusArgv(manifest: Manifest): string[] {
  if (manifest.monit) return ['monit', 'status', manifest.name];
  switch (manifest.init) {
    case 'systemd':
      return ['systemctl', 'status', '--no-pager', manifest.name];
    case 'openrc':
      return ['rc-service', manifest.name, 'status'];
    case 'upstart':
      return ['initctl', 'status', manifest.name];
    default:
      return ['monit', 'status', manifest.name];
  }
}

/** The scripts' contents; `login` decides whether they need sudo (root does not). */
export function helperScripts(
  manifest: Manifest,
  login: string,
): Record<(typeof HELPER_SCRIPTS)[number], string> {
  const init = manifest.init ?? 'monit';
  const sudo = login === 'root' ? [] : ['sudo', '-n'];
  const script = (what: string, argv: string[]) =>
    `#!/bin/sh\n# ${manifest.name}: ${what}. Written by svc deploy; svc start|stop|... TARGET does the same from afar.\nexec ${shellCommand([...sudo, ...argv])} "$@"\n`;
  if (isSwitch(manifest)) {
    // cutover: switch: the live slot, through monit or the init system (cutover-slots.ts).
    const slot = (action: 'start' | 'stop' | 'restart' | 'status') =>
      liveSlotArgv(manifest, slotsOf(manifest), action);
    return {
      start: script('start its live slot', slot('start')),
      stop: script('stop its live slot: TERM, the stop timeout, then KILL', slot('stop')),
      restart: script('restart its live slot', slot('restart')),
      status: script('is its live slot running?', slot('status')),
      logs: script('its log (add -f to follow)', [
        'tail',
        '-n',
        '100',
        hostLayout(manifest.name).logFile,
      ]),
    };
  }
  return {
    start: script('start it', serviceControl(init, manifest.monit, 'start', manifest.name)),
    stop: script(
      'stop it: TERM, the stop timeout, then KILL',
      serviceControl(init, manifest.monit, 'stop', manifest.name),
    ),
    restart: script('restart it', serviceControl(init, manifest.monit, 'restart', manifest.name)),
    status: script('is it running?', statusArgv(manifest)),
    logs: script('its log (add -f to follow)', [
      'tail',
      '-n',
      '100',
      hostLayout(manifest.name).logFile,
    ]),
  };
}
