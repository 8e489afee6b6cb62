// cutover: switch (issue 11) in the pure core: svc.yaml's rules, the slot ports, which slot the
// host serves from, what the plan says (the steps, or the one problem and its fix), the env file
// without PORT and HOST, and the apply script's switch as text.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { controlScript, statusScript } from '../../src/core/lifecycle.js';
import { helperScripts } from '../../src/core/helper-scripts.js';
import { shellCommand } from '../../src/core/quote.js';
import {
  derivedSlotPorts,
  liveSlot,
  NGINX_BINARY,
  slotsOf,
  switchSteps,
  upstreamFile,
  upstreamText,
} from '../../src/core/cutover.js';
import { buildApply } from '../../src/core/apply-script.js';
import { liveSlotArgv } from '../../src/core/cutover-slots.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { renderEnvFile } from '../../src/core/env-file.js';
import type { PathFact } from '../../src/core/facts.js';
import { formatProblems, validateManifest, type Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { formatHostOutcome, planDocument } from '../../src/core/plan-format.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const SWITCH: Manifest = { ...manifest, cutover: 'switch', monit: false };
const CONFIG = [
  file('etc/systemd/system/api-orders@.service', '[Service]\nExecStart=/usr/bin/node server.js\n'),
  file('etc/nginx/sites-enabled/api-orders.conf', 'upstream x { include y; }\n'),
];
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const upstreamFact = (text: string): PathFact => ({
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(new TextEncoder().encode(text)),
});
const [A, B] = slotsOf(SWITCH);
const id = (text: string) => text;

function lines(change: Record<string, unknown>): string[] {
  const data: Record<string, unknown> = { ...SWITCH, ...change };
  for (const [key, value] of Object.entries(change)) if (value === undefined) delete data[key];
  const result = validateManifest(data);
  return result.ok ? [] : formatProblems('svc.yaml', result.problems);
}

describe('svc.yaml: cutover, drainTimeout, slotPorts', () => {
  it.each<[string, Record<string, unknown>, string[]]>([
    ['switch', {}, []],
    ['restart', { cutover: 'restart', monit: true }, []],
    ['none given', { cutover: undefined, monit: true }, []],
    ['drainTimeout 1 and slotPorts', { drainTimeout: 1, slotPorts: [4001, 4002] }, []],
    [
      'an unknown cutover',
      { cutover: 'swap' },
      ['svc.yaml: cutover: must be one of restart, switch'],
    ],
    [
      'drainTimeout 0',
      { drainTimeout: 0 },
      ['svc.yaml: drainTimeout: must be a whole number of seconds between 1 and 3600'],
    ],
    [
      'drainTimeout without switch',
      { cutover: 'restart', monit: true, drainTimeout: 5 },
      ['svc.yaml: drainTimeout: only cutover: switch drains a slot; it needs cutover: switch'],
    ],
    [
      'slotPorts without switch',
      { cutover: undefined, monit: true, slotPorts: [4001, 4002] },
      ['svc.yaml: slotPorts: only cutover: switch has slots; it needs cutover: switch'],
    ],
    [
      'one slot port',
      { slotPorts: [4001] },
      ['svc.yaml: slotPorts: must be two ports, e.g. [13000, 23000]'],
    ],
    [
      'the same slot port twice',
      { slotPorts: [4001, 4001] },
      ['svc.yaml: slotPorts: must be two different ports'],
    ],
    [
      'a slot on the public port',
      { slotPorts: [3000, 4001] },
      ['svc.yaml: slotPorts: must differ from port (3000): nginx listens there'],
    ],
    [
      'a worker',
      { name: 'service-orders', port: undefined, health: undefined },
      [
        'svc.yaml: cutover: switch needs a process that answers HTTP on a port (api-, or a node www- site); use restart',
      ],
    ],
    [
      'appPort beside switch',
      { name: 'www-orders', appPort: 13000 },
      [
        "svc.yaml: appPort: is not used with cutover: switch (the process listens on its slots' ports, 13000 and 23000); remove it",
      ],
    ],
    // monit watches the slots (cutover-slots.ts): no longer refused.
    ['monit beside switch', { monit: true }, []],
    ['init: monit', { init: 'monit', monit: true }, []],
    [
      'PORT in env:',
      { env: { PORT: '1' } },
      [
        'svc.yaml: env.PORT: is set by svc for each slot under cutover: switch; remove it from env:',
      ],
    ],
  ])('%s', (_, change, expected) => {
    expect(lines(change)).toStrictEqual(expected);
  });
});

describe('slot ports', () => {
  it.each<[number, [number, number]]>([
    [3000, [13000, 23000]],
    [8080, [18080, 28080]],
    [50000, [40000, 60000]],
    [60000, [40000, 50000]],
    [1, [10001, 20001]],
    [65535, [45535, 55535]],
  ])('derivedSlotPorts(%i) -> %j', (port, slots) => {
    expect(derivedSlotPorts(port)).toEqual(slots);
  });

  it('never gives the public port, the same port twice, or one below 1024', () => {
    for (let port = 1; port <= 65535; port += 7) {
      const [a, b] = derivedSlotPorts(port);
      expect(a).not.toBe(b);
      expect([a, b]).not.toContain(port);
      expect(Math.min(a, b)).toBeGreaterThanOrEqual(1024);
      expect(Math.max(a, b)).toBeLessThanOrEqual(65535);
    }
  });

  it('takes svc.yaml slotPorts over the derived ones', () => {
    expect(slotsOf({ port: 3000, slotPorts: [4002, 4001] })).toEqual([
      { name: 'a', port: 4002 },
      { name: 'b', port: 4001 },
    ]);
  });
});

describe('the live slot, from the upstream file', () => {
  it.each<[string, PathFact[], ReturnType<typeof liveSlot>]>([
    ['no file', [], { state: 'none' }],
    ['slot a', [upstreamFact(upstreamText('api-orders', A))], { state: 'live', slot: A, idle: B }],
    ['slot b', [upstreamFact(upstreamText('api-orders', B))], { state: 'live', slot: B, idle: A }],
    [
      'a file edited by hand',
      [upstreamFact('server 127.0.0.1:13000;\n')],
      {
        state: 'unknown',
        why: '/var/lib/svc/api-orders/upstream.conf names neither slot (13000, 23000)',
      },
    ],
  ])('%s', (_, paths, expected) => {
    expect(liveSlot('api-orders', [A, B], facts(paths))).toEqual(expected);
  });

  it('says the steps', () => {
    const cutover = {
      slots: [A, B] as [typeof A, typeof B],
      port: 3000,
      drainSeconds: 30,
      release: 'r1',
    };
    expect(switchSteps(cutover, { state: 'live', slot: A, idle: B })).toEqual([
      'start slot b (127.0.0.1:23000) with release r1, gate its health there',
      'switch: nginx on port 3000 to slot b (nginx -t, reload)',
      'drain slot a (up to 30 s), then stop it',
    ]);
    expect(switchSteps(cutover, { state: 'none' })).toEqual([
      'start slot a (127.0.0.1:13000) with release r1, gate its health there',
      'switch: nginx on port 3000 to slot a (nginx -t, reload)',
    ]);
  });
});

describe('the plan of a switch', () => {
  const plan = (
    paths: PathFact[],
    forManifest: Manifest = SWITCH,
    config = CONFIG,
    active = false,
  ) =>
    planHost(
      'web1',
      operations(config, forManifest),
      facts(paths, { service: { active, ...(active && { pid: 77 }) } }),
      'digest',
    );

  it('asks the host for the upstream file and nginx', () => {
    const request = buildFactRequest(SWITCH, operations(CONFIG, SWITCH), 'deploy', false, SALT);
    expect(request.paths.map((path) => path.path)).toEqual(
      expect.arrayContaining([upstreamFile('api-orders'), NGINX_BINARY]),
    );
    const restart = buildFactRequest(manifest, operations(), 'deploy', false, SALT);
    expect(restart.paths.map((path) => path.path)).not.toContain(NGINX_BINARY);
  });

  it('shows the steps of the first switch', () => {
    const result = plan([NGINX]);
    expect(result.problems).toEqual([]);
    const change = result.changes.find((c) => c.kind === 'service');
    expect(change).toMatchObject({
      action: 'switch',
      target: 'api-orders',
      reasons: ['no slot serves yet'],
      steps: [
        'start slot a (127.0.0.1:13000) with release abc123abc123, gate its health there',
        'switch: nginx on port 3000 to slot a (nginx -t, reload)',
      ],
    });
  });

  it.each<[string, PathFact[], Manifest, boolean, string[]]>([
    [
      'no nginx',
      [],
      SWITCH,
      false,
      [
        'svc.yaml says cutover: switch, but nginx is not installed on web1 (no /usr/sbin/nginx): install it there (apt-get install nginx), or use cutover: restart',
      ],
    ],
    [
      'init: openrc',
      [NGINX],
      { ...SWITCH, init: 'openrc' },
      false,
      [
        'svc.yaml says init: openrc, but web1 runs systemd: deploy to a host that runs openrc, or use init: systemd or monit (svc.yaml and config/, as svc new --init systemd makes them)',
      ],
    ],
    [
      'an upstream file naming neither slot',
      [NGINX, upstreamFact('server 127.0.0.1:9;\n')],
      SWITCH,
      false,
      [
        '/var/lib/svc/api-orders/upstream.conf names neither slot (13000, 23000): svc cannot tell which slot serves api-orders on web1; remove the file to start from slot a',
      ],
    ],
  ])('refuses: %s', (_, paths, forManifest, active, problems) => {
    expect(plan(paths, forManifest, CONFIG, active).problems).toEqual(problems);
  });

  it('refuses a project without the template unit, naming the file and svc new', () => {
    const config = [CONFIG[1]!, file('etc/systemd/system/api-orders.service', '[Service]\n')];
    expect(plan([NGINX], SWITCH, config).problems).toEqual([
      'svc.yaml says cutover: switch, but config/ has no config/etc/systemd/system/api-orders@.service: the slots under init: systemd need it (svc new api-orders --cutover switch writes it)',
    ]);
  });
});

describe('the env file under switch', () => {
  it('has no PORT or HOST (each slot unit sets them)', () => {
    const text = renderEnvFile(SWITCH, { name: 'default', env: { A: 'b' }, secrets: [] });
    expect(text).not.toMatch(/^(PORT|HOST)=/m);
    expect(text).toMatch(/^A=/m);
    const restart = renderEnvFile(manifest, { name: 'default', env: {}, secrets: [] });
    expect(restart).toMatch(/^PORT="?3000"?$/m);
  });
});

describe('the apply script of a switch', () => {
  function script(paths: PathFact[]): string {
    const ops = operations(CONFIG, SWITCH);
    const hostFacts = facts([NGINX, ...paths]);
    const plan = planHost('web1', ops, hostFacts, 'digest');
    return buildApply(
      {
        manifest: SWITCH,
        operations: ops,
        plan,
        facts: hostFacts,
        factRequest: buildFactRequest(SWITCH, ops, 'deploy', false, SALT),
        holder: '{}',
        lockWaitSeconds: 5,
        healthTimeoutSeconds: 30,
        now: '2026-01-01T00:00:00Z',
        nonce: 'n',
      },
      [],
    ).script;
  }

  it('starts the idle slot, gates it on its own port, switches, then drains the old one', () => {
    const text = script([upstreamFact(upstreamText('api-orders', A))]);
    const order = [
      'systemctl stop -- api-orders@23000.service',
      // Marked and enabled before it starts (the launcher's guide when monit watches).
      ': > /var/lib/svc/api-orders/slot-b.on',
      'systemctl enable --quiet -- api-orders@23000.service',
      'systemctl start -- api-orders@23000.service',
      'wait_healthy url http://127.0.0.1:23000/ok 30',
      'nginx -t ||',
      'reload_nginx ||',
      'writeRecords-placeholder',
      'drain_port 13000 30',
      // Unmarked and disabled first: nothing starts the drained slot again once it is stopped.
      'rm -f -- /var/lib/svc/api-orders/slot-a.on',
      'systemctl disable --quiet -- api-orders@13000.service',
      'systemctl stop -- api-orders@13000.service',
    ];
    const records = text.indexOf('installed.json.svc-new', text.indexOf('reload_nginx ||'));
    const at = order.map((needle) =>
      needle === 'writeRecords-placeholder'
        ? records
        : text.indexOf(needle, text.indexOf('applying=1')),
    );
    expect(
      at.every((index) => index >= 0),
      JSON.stringify(at),
    ).toBe(true);
    expect([...at].sort((x, y) => x - y)).toEqual(at);
    // The slot that served is never restarted.
    expect(text).not.toContain('systemctl restart');
  });

  it('starts slot a when nothing is live, and drains nothing', () => {
    const text = script([]);
    expect(text).toContain('systemctl start -- api-orders@13000.service');
    expect(text).not.toContain('drain_port ');
  });
});

describe('svc status|start|stop|restart under switch', () => {
  // The preamble, run by the real sh and sed against the upstream file svc writes.
  it.each([A, B])('names the live slot $name unit from the upstream file', (slot) => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-cutover-'));
    try {
      const upstream = join(dir, 'upstream.conf');
      writeFileSync(upstream, upstreamText('api-orders', slot));
      const text = statusScript(SWITCH);
      const preamble = text
        .slice(0, text.indexOf('\nfield release'))
        .replace(upstreamFile('api-orders'), upstream);
      const result = spawnSync('sh', ['-c', `${preamble}\nprintf '%s|%s' "$name" "$pidfile"`], {
        encoding: 'utf8',
      });
      expect(result.stdout).toBe(`api-orders@${slot.port}|/run/api-orders@${slot.port}.pid`);
      expect(controlScript(SWITCH, 'restart')).toContain(
        `${slot.port}) systemctl restart -- api-orders@${slot.port}.service ;;`,
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('a switch in the plan text and JSON', () => {
  const plan = planHost('web1', operations(CONFIG, SWITCH), facts([NGINX]), 'digest');
  const outcome = {
    host: 'web1',
    address: '10.0.0.1',
    port: 22,
    user: 'deploy',
    status: 'planned' as const,
    plan,
  };
  const plain = { green: id, yellow: id, red: id, bold: id, dim: id };

  it('numbers the steps under the change', () => {
    const text = formatHostOutcome(outcome, plain);
    expect(text).toContain(
      [
        '  ⇄ switch service api-orders',
        '      no slot serves yet',
        '      1. start slot a (127.0.0.1:13000) with release abc123abc123, gate its health there',
        '      2. switch: nginx on port 3000 to slot a (nginx -t, reload)',
      ].join('\n'),
    );
  });

  it('carries them in the JSON document', () => {
    const doc = planDocument('api-orders', [outcome]) as {
      hosts: { changes: { action: string; steps?: string[] }[] }[];
    };
    const change = doc.hosts[0]!.changes.find((c) => c.action === 'switch');
    expect(change?.steps).toEqual(plan.changes.find((c) => c.action === 'switch')!.steps);
  });
});

describe('the helper scripts under switch', () => {
  // The argv the scripts exec, run by the real sh and sed, with a systemctl that prints its words.
  it.each([
    [A, 'restart' as const, 'restart -- api-orders@13000.service'],
    [B, 'status' as const, 'status --no-pager -- api-orders@23000.service'],
  ])('acts on the live slot %#', (slot, action, expected) => {
    const dir = mkdtempSync(join(tmpdir(), 'svc-cutover-'));
    try {
      const upstream = join(dir, 'upstream.conf');
      writeFileSync(upstream, upstreamText('api-orders', slot));
      writeFileSync(join(dir, 'systemctl'), '#!/bin/sh\necho "$@"\n', { mode: 0o755 });
      const argv = liveSlotArgv(SWITCH, [A, B], action).map((word) =>
        word.replace(upstreamFile('api-orders'), upstream),
      );
      const result = spawnSync(argv[0]!, argv.slice(1), {
        encoding: 'utf8',
        env: { PATH: `${dir}:/usr/bin:/bin` },
      });
      expect(result.stdout.trim()).toBe(expected);
      expect(helperScripts(SWITCH, 'deploy').restart).toContain(
        shellCommand(['sudo', '-n', ...liveSlotArgv(SWITCH, [A, B], 'restart')]),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says so when no slot is live', () => {
    const argv = liveSlotArgv(SWITCH, [A, B], 'start').map((word) =>
      word.replace(upstreamFile('api-orders'), '/nonexistent/upstream.conf'),
    );
    const result = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
    expect(result.status).toBe(1);
    expect(result.stderr).toContain('api-orders: no live slot (no deploy has switched yet)');
  });
});
