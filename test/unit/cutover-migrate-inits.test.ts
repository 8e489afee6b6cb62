// A live cutover: restart service moved to switch under OpenRC and `init: monit` (issue 11), in
// the apply script's text: the slot gated first, then the old process stopped by its own init
// system's means (its root-owned pidfile: its script is the slots' by now), nginx onto the port,
// OpenRC told it stopped; undo starts it again the way its init system does. Upstart is refused.
import { describe, expect, it } from 'vitest';
import { buildApply } from '../../src/core/apply-script.js';
import { NGINX_BINARY } from '../../src/core/cutover.js';
import { slotUnitFiles } from '../../src/core/cutover-slots.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import type { PathFact } from '../../src/core/facts.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { planHost } from '../../src/core/plan.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const NGINX: PathFact = { path: NGINX_BINARY, type: 'file', mode: 0o755, sha256: 'f'.repeat(64) };
const of = (init: InitSystem, monit: boolean): Manifest => ({
  ...manifest,
  cutover: 'switch',
  init,
  monit: monit || init === 'monit',
});

function script(m: Manifest): string {
  const config = [
    file('etc/nginx/sites-enabled/api-orders.conf', 'server { listen 3000; }\n'),
    ...slotUnitFiles(m).map((path) => file(path.slice(1), `# ${path}\n`, 0o755)),
    ...(m.monit ? [file('etc/monit/conf.d/api-orders', 'check process api-orders-a\n')] : []),
  ];
  const operationList = operations(config, m);
  const hf = facts([NGINX], {
    init: m.init === 'monit' ? 'none' : m.init!,
    service: { active: true, pid: 77 },
  });
  const plan = planHost('web1', operationList, hf, 'digest');
  expect(plan.problems).toEqual([]);
  return buildApply(
    {
      manifest: m,
      operations: operationList,
      plan,
      facts: hf,
      factRequest: buildFactRequest(m, operationList, 'deploy', false, SALT),
      holder: '{}',
      lockWaitSeconds: 5,
      healthTimeoutSeconds: 30,
      now: '2026-01-01T00:00:00Z',
      nonce: 'n',
    },
    [],
  ).script;
}

const order = (text: string, needles: string[]) => {
  const at = needles.map((needle) => text.indexOf(needle, text.indexOf('applying=1')));
  expect(
    at.every((index) => index >= 0),
    JSON.stringify(at),
  ).toBe(true);
  expect([...at].sort((x, y) => x - y)).toEqual(at);
};

describe('moving a live restart service to switch', () => {
  it.each<[string, Manifest, string, string[], string]>([
    [
      'OpenRC (monit watching)',
      of('openrc', true),
      // The pid there is supervise-daemon's: it stops the service at TERM and removes its pidfile.
      'old_stop() { { start-stop-daemon --stop --oknodo --pidfile /run/api-orders.pid --retry TERM/30/KILL/5 >/dev/null 2>&1 & }; }',
      [
        'rc-service api-orders zap >/dev/null 2>&1 || :',
        'rc-update del api-orders default >/dev/null 2>&1 || :',
      ],
      '[ "${migrated-0}" != 1 ] || { port_free 3000 100; rc-service api-orders zap >/dev/null 2>&1; rc-service api-orders start </dev/null 3>&- 9>&-; }',
    ],
    [
      'init: monit',
      of('monit', true),
      'old_stop() { { start-stop-daemon --stop --oknodo --pidfile /run/api-orders.pid --retry TERM/30/KILL/5 --user api-orders --remove-pidfile >/dev/null 2>&1 & }; }',
      [],
      '[ "${migrated-0}" != 1 ] || { port_free 3000 100; /usr/local/lib/svc/api-orders/ctl start </dev/null 3>&- 9>&-; }',
    ],
  ])(
    '%s: gated first, stopped by its pidfile, the gap measured; undo starts it',
    (_, m, stop, after, undo) => {
      const text = script(m);
      order(text, [
        'wait_healthy url http://127.0.0.1:13000/ok 30',
        'nginx -t ||',
        stop,
        'take_port 3000 40 || took=$?',
        ...after,
      ]);
      expect(text).toContain(undo);
    },
  );

  it('under systemd, systemctl as before', () => {
    const text = script(of('systemd', false));
    order(text, [
      'old_stop() { systemctl stop --no-block -- api-orders.service; }',
      'take_port 3000 40 || took=$?',
      'systemctl disable --quiet -- api-orders.service',
    ]);
    expect(text).toContain(
      '[ "${migrated-0}" != 1 ] || { port_free 3000 100; systemctl daemon-reload; systemctl start -- api-orders.service </dev/null 3>&- 9>&-; }',
    );
  });
});
