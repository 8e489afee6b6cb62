// cutover: switch under each init system, and with monit (cutover-slots.ts): what the plan asks
// for, the apply script's commands in their order (run through sh -n), and the live slot's
// commands for svc start|stop|restart|status and the helper scripts, run by the real sh and sed
// with stand-ins for monit, systemctl, rc-service and initctl that print their words.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import {
  NGINX_BINARY,
  slotsOf,
  upstreamFile,
  upstreamText,
  type Slot,
} from '../../src/core/cutover.js';
import { liveSlotArgv, slotUnitFiles } from '../../src/core/cutover-slots.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import { controlScript, statusScript } from '../../src/core/lifecycle.js';
import type { Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

type Init = NonNullable<Manifest['init']>;
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const upstreamFact = (slot: Slot): PathFact => ({
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(new TextEncoder().encode(upstreamText('api-orders', slot))),
});
const switchOf = (init: Init, monit: boolean): Manifest => ({
  ...manifest,
  cutover: 'switch',
  init,
  monit,
});
/** config/ with every file the slots need under the manifest's init (and monit's check). */
const configOf = (m: Manifest) => [
  file('etc/nginx/sites-enabled/api-orders.conf', 'upstream x { include y; }\n'),
  ...slotUnitFiles(m).map((path) => file(path.slice(1), `# ${path}\n`)),
  ...(m.monit ? [file('etc/monit/conf.d/api-orders', 'check process api-orders-a\n')] : []),
];
const [A, B] = slotsOf(manifest);

function applyScript(m: Manifest, paths: PathFact[]): string {
  const ops = operations(configOf(m), m);
  const hostFacts = facts([NGINX, ...paths], { init: m.init === 'monit' ? 'none' : m.init! });
  const plan = planHost('web1', ops, hostFacts, 'digest');
  expect(plan.problems).toEqual([]);
  return buildApply(
    {
      manifest: m,
      operations: ops,
      plan,
      facts: hostFacts,
      factRequest: buildFactRequest(m, ops, 'deploy', false, SALT),
      holder: '{}',
      lockWaitSeconds: 5,
      healthTimeoutSeconds: 30,
      now: '2026-01-01T00:00:00Z',
      nonce: 'n',
    },
    [],
  ).script;
}

/** Each needle after the previous one, from `applying=1` on. */
function expectInOrder(text: string, needles: string[]): void {
  let from = text.indexOf('applying=1');
  for (const needle of needles) {
    const at = text.indexOf(needle, from);
    expect(at, `${needle} (after position ${from})`).toBeGreaterThan(from);
    from = at;
  }
}

describe('the plan of a switch under each init system', () => {
  it.each<[Init, boolean]>([
    ['systemd', true],
    ['openrc', false],
    ['openrc', true],
    ['upstart', false],
    ['monit', true],
  ])('%s (monit %s): the steps, no problem', (init, monit) => {
    const m = switchOf(init, monit);
    const plan = planHost(
      'web1',
      operations(configOf(m), m),
      facts([NGINX], { init: init === 'monit' ? 'none' : init }),
      'digest',
    );
    expect(plan.problems).toEqual([]);
    expect(plan.changes.find((c) => c.kind === 'service')?.steps).toEqual([
      'start slot a (127.0.0.1:13000) with release abc123abc123, gate its health there',
      'switch: nginx on port 3000 to slot a (nginx -t, reload)',
    ]);
  });

  it.each<[Init, boolean, string]>([
    [
      'upstart',
      false,
      'svc.yaml says cutover: switch, but config/ has no config/etc/init/api-orders-slots.conf: the slots under init: upstart need it (svc new api-orders --cutover switch writes it)',
    ],
    [
      'monit',
      true,
      'svc.yaml says cutover: switch, but config/ has no config/usr/local/lib/svc/api-orders/ctl: the slots under init: monit need it (svc new api-orders --cutover switch writes it)',
    ],
    [
      'openrc',
      true,
      'svc.yaml says cutover: switch, but config/ has no config/etc/init.d/api-orders, config/usr/local/lib/svc/api-orders/ctl: the slots under init: openrc need them (svc new api-orders --cutover switch writes them)',
    ],
  ])('%s (monit %s): names the slot files config/ lacks', (init, monit, problem) => {
    const m = switchOf(init, monit);
    const config = configOf(m).filter(
      (f) =>
        ![
          'etc/init/api-orders-slots.conf',
          'usr/local/lib/svc/api-orders/ctl',
          'etc/init.d/api-orders',
        ].includes(f.path),
    );
    const plan = planHost(
      'web1',
      operations(config, m),
      facts([NGINX], { init: init === 'monit' ? 'none' : init }),
      'digest',
    );
    expect(plan.problems).toEqual([problem]);
  });
});

describe('the apply script of a switch from slot a to b', () => {
  it.each<[string, Manifest, string[]]>([
    [
      'init: monit',
      switchOf('monit', true),
      [
        'monit reload',
        'monit_ready api-orders-a',
        'monit_ready api-orders-b',
        'slot_monit -g api-orders-slots unmonitor || :',
        '[ ! -e /var/lib/svc/api-orders/slot-a.on ] || slot_monit monitor api-orders-a',
        '[ ! -e /var/lib/svc/api-orders/slot-b.on ] || slot_monit monitor api-orders-b',
        'if pid_ok /run/api-orders@23000.pid; then slot_monit stop api-orders-b',
        ': > /var/lib/svc/api-orders/slot-b.on',
        "gate_begin /run/api-orders@23000.pid ''",
        'slot_start() { slot_monit start api-orders-b || :; }',
        "wait_new_pid /run/api-orders@23000.pid '' 15",
        'wait_healthy url http://127.0.0.1:23000/ok 30',
        'reload_nginx ||',
        'drain_port 13000 30',
        'rm -f -- /var/lib/svc/api-orders/slot-a.on',
        'slot_monit stop api-orders-a',
        'slot_gone /run/api-orders@13000.pid 45',
      ],
    ],
    [
      'init: openrc',
      switchOf('openrc', false),
      [
        '[ "$(readlink -- /etc/init.d/api-orders.a)" = api-orders ] || ln -s -f -n -T -- api-orders /etc/init.d/api-orders.a',
        '[ "$(readlink -- /etc/init.d/api-orders.b)" = api-orders ] || ln -s -f -n -T -- api-orders /etc/init.d/api-orders.b',
        'rc-service api-orders.b stop',
        ': > /var/lib/svc/api-orders/slot-b.on',
        'rc-update add api-orders.b default',
        "gate_begin /run/openrc/options/api-orders.b/child_pid ''",
        'rc-service api-orders.b start',
        "wait_new_pid /run/openrc/options/api-orders.b/child_pid '' 30",
        'drain_port 13000 30',
        'rc-update del api-orders.a default',
        'rc-service api-orders.a stop',
      ],
    ],
    [
      'init: upstart',
      switchOf('upstart', false),
      [
        'initctl reload-configuration',
        'initctl stop api-orders SLOT=b',
        ': > /var/lib/svc/api-orders/slot-b.on',
        "gate_begin /run/api-orders@23000.pid ''",
        'initctl start api-orders SLOT=b',
        'drain_port 13000 30',
        'rm -f -- /var/lib/svc/api-orders/slot-a.on',
        'initctl stop api-orders SLOT=a',
      ],
    ],
    [
      'systemd with monit',
      switchOf('systemd', true),
      [
        'systemctl daemon-reload',
        'monit reload',
        'monit_ready api-orders-b',
        'systemctl enable --quiet -- api-orders@23000.service',
        "gate_begin '' api-orders@23000.service",
        'slot_monit start api-orders-b',
        'drain_port 13000 30',
        'systemctl disable --quiet -- api-orders@13000.service',
        'slot_monit stop api-orders-a',
        'slot_gone /run/api-orders@13000.pid 45',
      ],
    ],
  ])('%s', (_, m, needles) => {
    const text = applyScript(m, [upstreamFact(A!)]);
    expectInOrder(text, needles);
    // monit's helpers are there exactly when monit acts on the slots.
    expect(text.includes('slot_monit() {')).toBe(m.monit);
    // The slot that served is never restarted.
    expect(text).not.toMatch(/\b(systemctl|rc-service|initctl|monit) restart\b/);
    const syntax = spawnSync('sh', ['-n', '-c', text], { encoding: 'utf8' });
    expect(syntax.stderr).toBe('');
    expect(syntax.status).toBe(0);
  });
});

describe('the live slot for svc start|stop|restart|status and the helper scripts', () => {
  let dir = '';
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svc-cutover-slots-'));
    for (const tool of ['monit', 'systemctl', 'rc-service', 'initctl'])
      writeFileSync(join(dir, tool), `#!/bin/sh\necho ${tool} "$@"\n`, { mode: 0o755 });
  });
  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  const run = (argv: string[]) =>
    spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8', env: { PATH: `${dir}:/usr/bin:/bin` } });
  const withUpstream = (slot: Slot) => {
    const upstream = join(dir, `upstream-${slot.name}.conf`);
    writeFileSync(upstream, upstreamText('api-orders', slot));
    return (word: string) => word.replace(upstreamFile('api-orders'), upstream);
  };

  it.each<[Init, boolean, Slot, 'start' | 'stop' | 'restart' | 'status', string]>([
    ['monit', true, B!, 'restart', 'monit restart api-orders-b'],
    ['systemd', true, A!, 'stop', 'monit stop api-orders-a'],
    ['systemd', false, B!, 'status', 'systemctl status --no-pager -- api-orders@23000.service'],
    ['openrc', false, A!, 'restart', 'rc-service api-orders.a restart'],
    ['upstart', false, B!, 'start', 'initctl start api-orders SLOT=b'],
  ])('%s (monit %s), slot %o live: %s', (init, monit, slot, action, expected) => {
    const m = switchOf(init, monit);
    const argv = liveSlotArgv(m, [A!, B!], action).map(withUpstream(slot));
    const result = run(argv);
    expect(result.stderr).toBe('');
    expect(result.stdout.trim()).toBe(expected);
    // svc start|stop|restart: the same command in the control script's case.
    if (action !== 'status')
      expect(controlScript(m, action)).toContain(`${slot.port}) ${expected} ;;`);
  });

  it.each<[Init, boolean, Slot, string]>([
    ['monit', true, A!, 'api-orders|/run/api-orders@13000.pid|api-orders-a'],
    ['openrc', true, B!, 'api-orders|/run/openrc/options/api-orders.b/child_pid|api-orders-b'],
    ['upstart', false, B!, 'api-orders|/run/api-orders@23000.pid|api-orders-b'],
    ['systemd', true, A!, 'api-orders@13000|/run/api-orders@13000.pid|api-orders-a'],
  ])(
    'svc status under %s (monit %s), slot %o live: its pid and monit check',
    (init, monit, slot, expected) => {
      const text = statusScript(switchOf(init, monit));
      const preamble = withUpstream(slot)(text.slice(0, text.indexOf('\nfield release')));
      const result = spawnSync(
        'sh',
        ['-c', `${preamble}\nprintf '%s|%s|%s' "$name" "$pidfile" "$check"`],
        {
          encoding: 'utf8',
        },
      );
      expect(result.stdout).toBe(expected);
      expect(text).toContain('monit status "${check:-$name}"');
    },
  );
});
