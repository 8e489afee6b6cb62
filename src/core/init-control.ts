// How each init system starts, stops and restarts a service, as argv. One table for deploy, the
// lifecycle commands and the helper scripts in ~/script/NAME.
import type { InitSystem } from './manifest.js';

export type ControlAction = 'start' | 'stop' | 'restart';

export function initControl(init: InitSystem, action: ControlAction, name: string): string[] {
  switch (init) {
    case 'systemd':
      return ['systemctl', action, name];
    case 'openrc':
      return ['rc-service', name, action];
    case 'upstart':
      return action === 'restart'
        ? ['sh', '-c', 'initctl restart "$1" || initctl start "$1"', 'sh', name]
        : ['initctl', action, name];
    case 'monit':
      return ['monit', action, name];
  }
}

/**
 * The argv a person (or svc start|stop|restart) uses. When monit watches the service, it must be
 * told, or it would restart what was just stopped: monit runs the init system's program itself.
 */
export function serviceControl(
  init: InitSystem,
  monit: boolean,
  action: ControlAction,
  name: string,
): string[] {
  return monit ? ['monit', action, name] : initControl(init, action, name);
}
