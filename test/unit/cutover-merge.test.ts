// cutover: switch with slots under every init system (h-slots) and warm slots, the lock-free
// drain and the move from restart (h-warm), together: keepWarm under every init system; what is
// systemd's alone is refused by the plan elsewhere, in one line naming the fix; no switch off systemd runs systemctl; a live slot
// whose process is gone is started again by a deploy; undo reports a put-back nginx refuses.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { slotsOf, upstreamFile, upstreamText, NGINX_BINARY } from '../../src/core/cutover.js';
import { planSwitch } from '../../src/core/cutover-plan.js';
import { switchActivation } from '../../src/core/cutover-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { factScript } from '../../src/core/facts.js';
import { slotControl, slotProcessPidfile, slotUnitFiles } from '../../src/core/cutover-slots.js';
import type { SlotFact } from '../../src/core/cutover-warm.js';
import type { HostFacts, PathFact } from '../../src/core/facts.js';
import type { Manifest } from '../../src/core/manifest.js';
import type { ServiceOperation } from '../../src/core/operations.js';
import { shellCommand } from '../../src/core/quote.js';
import { sha256Hex } from '../../src/core/release.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

type Init = NonNullable<Manifest['init']>;
const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const [A, B] = slotsOf(manifest);
const upstreamFact = (port: number): PathFact => ({
  path: upstreamFile('api-orders'),
  type: 'file',
  mode: 0o644,
  sha256: sha256Hex(
    new TextEncoder().encode(upstreamText('api-orders', port === A!.port ? A! : B!)),
  ),
});
const switchOf = (init: Init, monit: boolean, extra: Partial<Manifest> = {}): Manifest => ({
  ...manifest,
  cutover: 'switch',
  init,
  monit,
  ...extra,
});
const serviceOf = (m: Manifest): ServiceOperation => {
  const config = [
    file('etc/nginx/sites-enabled/api-orders.conf', 'upstream x { include y; }\n'),
    ...slotUnitFiles(m).map((path) => file(path.slice(1), `# ${path}\n`)),
    ...(m.monit ? [file('etc/monit/conf.d/api-orders', 'check process api-orders-a\n')] : []),
  ];
  const op = operations(config, m).find((candidate) => candidate.kind === 'service');
  if (op?.kind !== 'service' || op.cutover === undefined) throw new Error('no cutover');
  return op;
};
const hostFacts = (m: Manifest, paths: PathFact[], overrides: Partial<HostFacts> = {}) =>
  facts([NGINX, ...paths], { init: m.init === 'monit' ? 'none' : m.init!, ...overrides });
const plan = (m: Manifest, hf: HostFacts, changed: string[] = ['/var/www/api-orders/current']) => {
  const op = serviceOf(m);
  return planSwitch(op, op.cutover!, hf, 'web1', changed);
};
const OTHERS: [Init, boolean][] = [
  ['openrc', false],
  ['openrc', true],
  ['upstart', false],
  ['upstart', true],
  ['monit', false],
];

describe('the plan under each init system', () => {
  it.each<[Init, boolean]>([...OTHERS, ['systemd', false], ['systemd', true]])(
    'keeps keepWarm under %s (monit: %s)',
    (init, monit) => {
      const m = switchOf(init, monit, { keepWarm: true });
      const result = plan(m, hostFacts(m, [upstreamFact(A!.port)]));
      expect(result.problems).toEqual([]);
      expect(result.change?.steps?.at(-1)).toBe(
        'keep slot a running with the release it serves now (keepWarm: svc rollback switches back to it without a start)',
      );
    },
  );

  it.each<[Init, boolean]>([
    ['upstart', false],
    ['upstart', true],
  ])('refuses moving a live restart service over under %s (monit: %s)', (init, monit) => {
    const m = switchOf(init, monit);
    const active = { service: { active: true, pid: 77 } };
    expect(plan(m, hostFacts(m, [], active)).problems).toEqual([
      `api-orders still runs as /run/api-orders.pid (cutover: restart) on web1, pid 77: moving a live restart service to cutover: switch is not done under init: upstart yet; stop it first (svc stop TARGET), then deploy the switch`,
    ]);
  });

  it.each<[Init, boolean, string[]]>([
    [
      'openrc',
      false,
      [
        "stop OpenRC's api-orders (cutover: restart, pid 77; it serves port 3000 until then): SIGTERM, its requests in flight finish",
        'nginx takes port 3000 the moment it is free: new connections are refused in between (the gap is measured and reported)',
        "disable OpenRC's api-orders",
      ],
    ],
    [
      'openrc',
      true,
      [
        "stop OpenRC's api-orders (cutover: restart, pid 77; it serves port 3000 until then): SIGTERM, its requests in flight finish",
        'nginx takes port 3000 the moment it is free: new connections are refused in between (the gap is measured and reported)',
        "disable OpenRC's api-orders",
      ],
    ],
    [
      'monit',
      false,
      [
        'stop api-orders (pidfile /run/api-orders.pid) (cutover: restart, pid 77; it serves port 3000 until then): SIGTERM, its requests in flight finish',
        'nginx takes port 3000 the moment it is free: new connections are refused in between (the gap is measured and reported)',
      ],
    ],
  ])('moves a live restart service over under %s (monit: %s)', (init, monit, steps) => {
    const m = switchOf(init, monit);
    const result = plan(m, hostFacts(m, [], { service: { active: true, pid: 77 } }));
    expect(result.problems).toEqual([]);
    expect(result.change?.steps?.slice(1)).toEqual(steps);
  });

  it('moves a live restart service over under systemd', () => {
    const m = switchOf('systemd', false);
    const result = plan(m, hostFacts(m, [], { service: { active: true, pid: 77 } }));
    expect(result.problems).toEqual([]);
    expect(result.change?.steps?.[1]).toMatch(
      /^stop api-orders\.service \(cutover: restart, pid 77;/,
    );
  });

  it.each<[Init, string]>([
    ['systemd', 'systemctl stop api-orders.service'],
    ['openrc', 'rc-service api-orders stop'],
    ['upstart', 'initctl stop api-orders'],
    ['monit', 'monit stop api-orders'],
  ])('refuses a restart process beside a live slot under %s with its own stop', (init, stop) => {
    const m = switchOf(init, false);
    const hf = hostFacts(m, [upstreamFact(A!.port)], { service: { active: true, pid: 77 } });
    const unit = init === 'systemd' ? 'api-orders.service' : '/run/api-orders.pid';
    expect(plan(m, hf).problems).toEqual([
      `api-orders still runs as ${unit} (cutover: restart) on web1, pid 77 beside the live slot a: stop it (${stop} there), then deploy`,
    ]);
  });
});

describe('a live slot that is down', () => {
  const m = switchOf('systemd', false);
  const slots = (livePid: number | undefined) =>
    new Map<number, SlotFact>([
      [A!.port, livePid === undefined ? {} : { pid: livePid, release: 'old000old000' }],
      [B!.port, {}],
    ]);
  it.each<[string, Map<number, SlotFact> | undefined, string[] | undefined]>([
    [
      'no process in the live unit: a switch',
      slots(undefined),
      ['slot a (live, port 13000) is not running'],
    ],
    ['the live unit runs: nothing to do', slots(100), undefined],
    ['no slot facts (not systemd): nothing to do', undefined, undefined],
  ])('%s', (_, slotFacts, reasons) => {
    const hf = hostFacts(m, [upstreamFact(A!.port)], slotFacts ? { slots: slotFacts } : {});
    const result = plan(m, hf, []);
    expect(result.problems).toEqual([]);
    expect(result.change?.reasons).toEqual(reasons);
    if (reasons !== undefined)
      expect(result.change?.steps?.[0]).toBe(
        `start slot b (127.0.0.1:${B!.port}) with release ${serviceOf(m).cutover!.release}, gate its health there`,
      );
  });
});

function activation(m: Manifest, hf: HostFacts) {
  const op = serviceOf(m);
  return switchActivation({
    manifest: m,
    cutover: op.cutover!,
    facts: hf,
    changes: [],
    healthTimeoutSeconds: 30,
    front: undefined,
    recordBad: ': records',
    ...(m.monit || m.init === 'monit' ? { monitCheck: '/etc/monit/conf.d/api-orders' } : {}),
    lock: { file: '/var/lib/svc/locks/api-orders.lock', holder: '/h', waitSeconds: 120 },
  });
}

describe('no systemctl off systemd', () => {
  // Slot b as systemd's facts would show it warm, and a live restart process: neither may make
  // the script reach for systemctl where there is none.
  const warmB = new Map<number, SlotFact>([
    [A!.port, { pid: 100, release: 'old000old000' }],
    [B!.port, { pid: 200, release: 'x', envSha256: 'e'.repeat(64), unitSha256: 'u'.repeat(64) }],
  ]);
  const textOf = (m: Manifest, hf: HostFacts) => {
    const act = activation(m, hf);
    return [
      ...act.start,
      ...act.rollback,
      ...act.undoBefore,
      ...act.undoService,
      ...act.after,
    ].join('\n');
  };

  it.each(OTHERS)('under %s (monit: %s), drain and all', (init, monit) => {
    const m = switchOf(init, monit);
    for (const hf of [
      hostFacts(m, [upstreamFact(A!.port)], { slots: warmB }),
      hostFacts(m, [], { service: { active: true, pid: 77 } }),
    ])
      expect(textOf(m, hf)).not.toContain('systemctl');
    // The drain without the lock tells the drained process by the slot's own pidfile, and stops
    // it through the init system or monit.
    const after = activation(m, hostFacts(m, [upstreamFact(A!.port)])).after.join('\n');
    expect(after).toContain(`drained_pid=$(read_pid ${slotProcessPidfile(m, A!)}; echo "$pid")`);
    expect(after).toContain(
      monit || init === 'monit'
        ? 'slot_monit stop api-orders-a'
        : shellCommand(slotControl(m, A!, 'stop')),
    );
    expect(after).toContain('drain_port 13000 30 /var/lib/svc/api-orders/upstream.conf');
  });

  it.each(OTHERS)(
    'nor in the fact script under %s (monit: %s): slot facts from the pidfile',
    (init, monit) => {
      const m = switchOf(init, monit);
      const config = [
        file('etc/nginx/sites-enabled/api-orders.conf', 'upstream x { include y; }\n'),
        ...slotUnitFiles(m).map((path) => file(path.slice(1), `# ${path}\n`)),
      ];
      const request = buildFactRequest(m, operations(config, m), 'deploy', false, SALT);
      expect(request.slots?.map((slot) => slot.unit)).toEqual(['', '']);
      // slot_fact asks systemctl only for a unit it is given.
      expect(factScript(request)).toContain(
        `slot_fact '' 13000 /var/lib/svc/api-orders/slot.13000 ${slotProcessPidfile(m, A!)}`,
      );
    },
  );

  it('under systemd the slot is the unit, by its MainPID', () => {
    const m = switchOf('systemd', false);
    const after = activation(m, hostFacts(m, [upstreamFact(A!.port)])).after.join('\n');
    expect(after).toContain(
      'drained_pid=$(systemctl show -p MainPID --value -- api-orders@13000.service 2>/dev/null)',
    );
  });
});

describe('undo reports a refused put-back', () => {
  // The undo line that puts the old upstream file back, run by sh with nginx and the file moves
  // as stand-ins, wrapped as apply-script.ts wraps each undo step.
  let stage = '';
  beforeAll(() => {
    stage = mkdtempSync(join(tmpdir(), 'svc-putback-'));
  });
  afterAll(() => {
    if (stage) rmSync(stage, { recursive: true, force: true });
  });
  const run = (nginxT: number, before: boolean) => {
    rmSync(join(stage, 'upstream.before'), { force: true });
    if (before) writeFileSync(join(stage, 'upstream.before'), 'server 127.0.0.1:13000;\n');
    const m = switchOf('systemd', false);
    const [putBack] = activation(m, hostFacts(m, [upstreamFact(A!.port)])).undoBefore;
    const script = [
      'rm() { :; }; cp() { :; }; mv() { :; }',
      `nginx() { return ${nginxT}; }`,
      'reload_nginx() { echo reloaded; }',
      'say() { printf "%s\\n" "$*"; }',
      `stage='${stage}' switched=1`,
      `{ ${putBack}; } || say "WARNING undo step 1 failed"`,
    ].join('\n');
    return spawnSync('sh', ['-c', script], { encoding: 'utf8' }).stdout;
  };
  it.each<[string, number, boolean, string]>([
    ['nginx -t passes: reloaded', 0, true, 'reloaded\n'],
    ['nginx -t refuses: no reload, the step fails', 1, true, 'WARNING undo step 1 failed\n'],
    // A first switch: nothing to put back; the upstream file goes after the site (undoLast),
    // never before it, so no nginx -t fails on the site's include (review F6).
    ['nothing was there before: nothing to do, no warning', 1, false, ''],
  ])('%s', (_, nginxT, before, out) => {
    expect(run(nginxT, before)).toBe(out);
  });
});
