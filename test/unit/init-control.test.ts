// The argv that starts, stops and restarts a service under each init system: one table, since
// deploy, the lifecycle commands and the helper scripts all run exactly these words.
import { describe, expect, it } from 'vitest';
import { initControl, serviceControl } from '../../src/core/init-control.js';
import type { InitSystem } from '../../src/core/manifest.js';

const UPSTART_RESTART = ['sh', '-c', 'initctl restart "$1" || initctl start "$1"', 'sh', 'api'];

describe('initControl', () => {
  it.each([
    ['systemd', 'start', ['systemctl', 'start', 'api']],
    ['systemd', 'stop', ['systemctl', 'stop', 'api']],
    ['systemd', 'restart', ['systemctl', 'restart', 'api']],
    ['openrc', 'start', ['rc-service', 'api', 'start']],
    ['openrc', 'stop', ['rc-service', 'api', 'stop']],
    ['openrc', 'restart', ['rc-service', 'api', 'restart']],
    ['upstart', 'start', ['initctl', 'start', 'api']],
    ['upstart', 'stop', ['initctl', 'stop', 'api']],
    // initctl restart fails on a stopped job: then it is started.
    ['upstart', 'restart', UPSTART_RESTART],
    ['monit', 'start', ['monit', 'start', 'api']],
    ['monit', 'stop', ['monit', 'stop', 'api']],
    ['monit', 'restart', ['monit', 'restart', 'api']],
  ] as const)('%s %s: %j', (init, action, argv) => {
    expect(initControl(init, action, 'api')).toEqual(argv);
  });
});

describe('serviceControl', () => {
  const inits: InitSystem[] = ['systemd', 'openrc', 'upstart', 'monit'];
  it.each(inits)('%s watched by monit: monit is told, or it would undo the action', (init) => {
    expect(serviceControl(init, true, 'stop', 'api')).toEqual(['monit', 'stop', 'api']);
    expect(serviceControl(init, true, 'start', 'api')).toEqual(['monit', 'start', 'api']);
  });
  it.each(inits)('%s alone: the init system itself', (init) => {
    expect(serviceControl(init, false, 'restart', 'api')).toEqual(
      initControl(init, 'restart', 'api'),
    );
  });
  it('upstart restart: the start fallback really runs when restart fails (real sh)', async () => {
    const { execFileSync } = await import('node:child_process');
    const [shell, flag, text, zero, name] = UPSTART_RESTART;
    // initctl as a sh function: restart fails, start succeeds.
    const out = execFileSync(
      shell!,
      [flag!, `initctl() { echo "initctl $*"; [ "$1" = start ]; }\n${text}`, zero!, name!],
      { encoding: 'utf8' },
    );
    expect(out).toBe('initctl restart api\ninitctl start api\n');
  });
});
