// ~/script/NAME/*: each helper script run by a real sh with stand-ins for sudo and the init
// tools (they print their argv), per init system, monit or not, root or not: the exact command
// it runs, the arguments it passes on, and the line that tells a person what it does.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HELPER_SCRIPTS, helperScripts } from '../../src/core/helper-scripts.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { manifest } from '../helpers/plan-fixtures.js';

let bin = '';
beforeAll(() => {
  bin = mkdtempSync(join(tmpdir(), 'svc-helper-'));
  for (const tool of ['sudo', 'systemctl', 'rc-service', 'initctl', 'monit', 'tail', 'sh']) {
    writeFileSync(join(bin, tool), `#!/bin/dash\nprintf '%s\\n' "${tool} $*"\n`);
    chmodSync(join(bin, tool), 0o755);
  }
});
afterAll(() => {
  if (bin !== '') rmSync(bin, { recursive: true, force: true });
});

/** What the script runs, given one extra argument from the person ("-x"). */
function runs(text: string): string {
  const file = join(bin, 'script');
  writeFileSync(file, text);
  return execFileSync('/bin/sh', [file, '-x'], {
    encoding: 'utf8',
    env: { PATH: bin },
  }).trimEnd();
}

const HEADERS = {
  start: 'start it',
  stop: 'stop it: TERM, the stop timeout, then KILL',
  restart: 'restart it',
  status: 'is it running?',
  logs: 'its log (add -f to follow)',
} as const;

type Case = [InitSystem | undefined, boolean, Record<(typeof HELPER_SCRIPTS)[number], string>];
const CASES: Case[] = [
  [
    'systemd',
    false,
    {
      start: 'systemctl start api-orders -x',
      stop: 'systemctl stop api-orders -x',
      restart: 'systemctl restart api-orders -x',
      status: 'systemctl status --no-pager api-orders -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ],
  [
    'openrc',
    false,
    {
      start: 'rc-service api-orders start -x',
      stop: 'rc-service api-orders stop -x',
      restart: 'rc-service api-orders restart -x',
      status: 'rc-service api-orders status -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ],
  [
    'upstart',
    false,
    {
      start: 'initctl start api-orders -x',
      stop: 'initctl stop api-orders -x',
      restart: 'sh -c initctl restart "$1" || initctl start "$1" sh api-orders -x',
      status: 'initctl status api-orders -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ],
  [
    'monit',
    false,
    {
      start: 'monit start api-orders -x',
      stop: 'monit stop api-orders -x',
      restart: 'monit restart api-orders -x',
      status: 'monit status api-orders -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ],
  [
    undefined,
    false,
    {
      start: 'monit start api-orders -x',
      stop: 'monit stop api-orders -x',
      restart: 'monit restart api-orders -x',
      status: 'monit status api-orders -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ],
  ...(['systemd', 'openrc', 'upstart'] as const).map((init): Case => [
    init,
    true,
    {
      start: 'monit start api-orders -x',
      stop: 'monit stop api-orders -x',
      restart: 'monit restart api-orders -x',
      status: 'monit status api-orders -x',
      logs: 'tail -n 100 /var/log/api-orders/api-orders.log -x',
    },
  ]),
];

describe('helperScripts', () => {
  it.each(CASES)('init %s, monit %s, as root: runs the command itself', (init, monit, want) => {
    const scripts = helperScripts({ ...manifest, init, monit } as Manifest, 'root');
    expect(Object.keys(scripts)).toEqual([...HELPER_SCRIPTS]);
    for (const name of HELPER_SCRIPTS)
      expect([name, runs(scripts[name])]).toEqual([name, want[name]]);
  });

  it.each(CASES)('init %s, monit %s, as deploy: through sudo -n', (init, monit, want) => {
    const scripts = helperScripts({ ...manifest, init, monit } as Manifest, 'deploy');
    for (const name of HELPER_SCRIPTS)
      expect([name, runs(scripts[name])]).toEqual([name, `sudo -n ${want[name]}`]);
  });

  it.each(HELPER_SCRIPTS)('%s says what it does, and that svc wrote it', (name) => {
    const [shebang, header] = helperScripts(manifest, 'deploy')[name].split('\n');
    expect([shebang, header]).toEqual([
      '#!/bin/sh',
      `# api-orders: ${HEADERS[name]}. Written by svc deploy; svc start|stop|... TARGET does the same from afar.`,
    ]);
  });
});
