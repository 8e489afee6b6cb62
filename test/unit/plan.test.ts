// The planner, facts in and changes out: every fixture is data, no host involved.
import { describe, expect, it } from 'vitest';
import { planHost, summarize } from '../../src/core/plan.js';
import {
  CONFIG,
  deployedFacts,
  facts,
  file,
  operations,
  withRecordedFile,
} from '../helpers/plan-fixtures.js';

const actions = (plan: ReturnType<typeof planHost>) =>
  plan.changes.map((change) => `${change.action} ${change.kind} ${change.target}`);

describe('planHost', () => {
  it('on an empty host, creates everything and starts the service', () => {
    const plan = planHost('web1', operations(), facts(), 'digest');
    expect(actions(plan)).toEqual([
      'create user api-orders',
      'create dir /var/www/api-orders',
      'create dir /var/log/api-orders',
      'create release /var/www/api-orders/releases/abc123abc123',
      'create link /var/www/api-orders/current',
      'create dir /etc/default',
      'create dir /etc/systemd/system',
      'create dir /etc/monit/conf.d',
      'create file /etc/default/api-orders',
      'create file /etc/systemd/system/api-orders.service',
      'create file /etc/monit/conf.d/api-orders',
      'create link /home/deploy/service/api-orders',
      'start service api-orders',
      'reload monit api-orders',
    ]);
    expect(summarize(plan.changes)).toEqual({ create: 12, update: 0, delete: 0, restart: 2 });
    expect(plan.problems).toEqual([]);
  });

  it('refuses a config/ file inside a directory the service user owns (root would write there)', () => {
    const plan = planHost(
      'web1',
      operations([...CONFIG, file('var/log/api-orders/seed.log', 'x\n')]),
      facts(),
      'digest',
    );
    expect(plan.problems).toEqual([
      'config/var/log/api-orders/seed.log: /var/log/api-orders belongs to the service user; svc (root) does not write into it: ship the file in the release, or let the service create it',
    ]);
    expect(actions(plan)).not.toContain('create file /var/log/api-orders/seed.log');
  });

  it('shows a new file as a diff from /dev/null, and a secret one never', () => {
    const plan = planHost('web1', operations(), facts(), 'digest');
    const unit = plan.changes.find((change) => change.target.endsWith('.service'))!;
    expect(unit.diff).toContain('--- /dev/null');
    expect(unit.diff).toContain('+ExecStart=/usr/bin/node server.js');
    const env = plan.changes.find((change) => change.target === '/etc/default/api-orders')!;
    expect(env).toMatchObject({ sensitive: true, detail: '0600 root:root' });
    expect(JSON.stringify(plan)).not.toContain('hunter2');
  });

  it('plans nothing on a host that already matches', () => {
    const plan = planHost('web1', operations(), deployedFacts(), 'digest');
    expect(plan.changes).toEqual([]);
    expect(plan.problems).toEqual([]);
    expect(plan.unchanged).toBe(operations().filter((op) => op.kind !== 'health').length);
  });

  it('updates a changed file with a diff, and restarts the service because of it', () => {
    const changed = [
      CONFIG[0]!,
      file('etc/systemd/system/api-orders.service', '[Service]\nExecStart=/usr/bin/node app.js\n'),
      CONFIG[2]!,
    ];
    const before = deployedFacts();
    before.paths.get('/etc/systemd/system/api-orders.service')!.content = CONFIG[1]!.content;
    const plan = planHost('web1', operations(changed), before, 'digest');
    expect(actions(plan)).toEqual([
      'update file /etc/systemd/system/api-orders.service',
      'restart service api-orders',
    ]);
    expect(plan.changes[0]!.diff).toContain(
      '-ExecStart=/usr/bin/node server.js\n+ExecStart=/usr/bin/node app.js',
    );
    expect(plan.changes[1]!.reasons).toEqual(['/etc/systemd/system/api-orders.service changed']);
  });

  it('says a secret changed without showing either value', () => {
    const changed = [
      file('etc/default/api-orders', 'SECRET=correct-horse\n', 0o600),
      CONFIG[1]!,
      CONFIG[2]!,
    ];
    const plan = planHost('web1', operations(changed), deployedFacts(), 'digest');
    expect(plan.changes[0]).toMatchObject({
      action: 'update',
      target: '/etc/default/api-orders',
      sensitive: true,
      reasons: ['content changed'],
    });
    expect(plan.changes[0]!.diff).toBeUndefined();
    expect(JSON.stringify(plan)).not.toMatch(/hunter2|correct-horse/);
  });

  it('reports mode and owner drift', () => {
    const before = deployedFacts();
    Object.assign(before.paths.get('/var/log/api-orders')!, {
      mode: 0o777,
      owner: 'root',
      group: 'root',
    });
    const plan = planHost('web1', operations(), before, 'digest');
    expect(plan.changes).toEqual([
      {
        action: 'update',
        kind: 'dir',
        target: '/var/log/api-orders',
        reasons: ['mode 0777 -> 0750', 'owner root:root -> api-orders:api-orders'],
        detail: '0750 api-orders:api-orders',
      },
    ]);
  });

  it('warns before overwriting a file svc did not create', () => {
    const before = deployedFacts();
    before.installed = [];
    before.paths.get('/etc/monit/conf.d/api-orders')!.sha256 = '0'.repeat(64);
    const plan = planHost('web1', operations(), before, 'digest');
    const monit = plan.changes.find((change) => change.target === '/etc/monit/conf.d/api-orders')!;
    expect(monit.warnings).toEqual(['not created by svc: deploy overwrites it only with --adopt']);
    expect(actions(plan)).toContain('reload monit api-orders');
  });

  it('deletes a file that left config/ while its content is what svc installed', () => {
    const before = withRecordedFile(deployedFacts(), '/etc/logrotate.d/api-orders');
    const plan = planHost('web1', operations(), before, 'digest');
    expect(actions(plan)).toEqual(['delete file /etc/logrotate.d/api-orders']);
    expect(plan.warnings).toEqual([]);
  });

  it.each([
    [
      'changed since svc installed it',
      { type: 'file' as const, sha256: 'b'.repeat(64) },
      'it was changed since svc installed it',
    ],
    ['replaced by a link', { type: 'link' as const }, 'it is now a symbolic link'],
    ['replaced by a directory', { type: 'dir' as const }, 'it is now a directory'],
    ['not reported by the host', null, 'the host did not say what it is now'],
  ])('keeps a file that left config/ but was %s, and says so', (_, now, why) => {
    const before = withRecordedFile(deployedFacts(), '/etc/x', 'a'.repeat(64), now);
    const plan = planHost('web1', operations(), before, 'digest');
    expect(actions(plan)).toEqual([]);
    expect(plan.warnings).toEqual([
      `/etc/x left config/ but is kept: ${why}; remove it by hand if it should go`,
    ]);
  });

  it('keeps a recorded file without a recorded hash (an older svc): never deletes blind', () => {
    const before = deployedFacts();
    before.installed = [...before.installed!, '/etc/shadow'];
    before.recordedNow.set('/etc/shadow', { type: 'file', sha256: 'c'.repeat(64) });
    const plan = planHost('web1', operations(), before, 'digest');
    expect(actions(plan)).toEqual([]);
    expect(plan.warnings[0]).toMatch(/^\/etc\/shadow left config\/ but is kept: svc has no record/);
  });

  it('forgets a recorded file that is already gone, without a change', () => {
    const before = withRecordedFile(deployedFacts(), '/etc/x', 'a'.repeat(64), { type: 'absent' });
    const plan = planHost('web1', operations(), before, 'digest');
    expect(actions(plan)).toEqual([]);
    expect(plan.warnings).toEqual([]);
  });

  it('gives an adopted file its original back when it leaves config/', () => {
    const before = withRecordedFile(deployedFacts(), '/etc/x');
    before.adopted.add('/etc/x');
    expect(actions(planHost('web1', operations(), before, 'digest'))).toEqual([
      'update file /etc/x',
    ]);
  });

  it("refuses any config/ file in svc's own state, even with --allow-path", () => {
    const path = '/var/lib/svc/api-other/installed.json';
    const ops = operations([...CONFIG, file(path.slice(1), '{"files":["/etc/shadow"]}')]);
    const plan = planHost('web1', ops, facts(), 'digest', [path]);
    expect(plan.problems).toEqual([
      "config/var/lib/svc/api-other/installed.json: /var/lib/svc is svc's own state (records, locks); config/ can never write there",
    ]);
    expect(plan.changes.map((change) => change.target)).not.toContain(path);
  });

  it('refuses to plan through a link where svc expects a directory', () => {
    const before = deployedFacts();
    before.paths.set('/var/log/api-orders', {
      path: '/var/log/api-orders',
      type: 'link',
      target: '/etc',
    });
    const plan = planHost('web1', operations(), before, 'digest');
    expect(plan.problems).toEqual([
      '/var/log/api-orders on web1 is a symbolic link, expected a directory; svc does not replace or follow what it did not make',
    ]);
  });

  it('refuses a host whose init system is not the manifest one', () => {
    const plan = planHost('web1', operations(), facts([], { init: 'none' }), 'digest');
    expect(plan.problems).toEqual([
      'svc.yaml says init: systemd, but web1 runs no systemd (no init system svc knows): deploy to a host that runs systemd (a sandbox one: svc sandbox up --systemd), or use init: monit (svc.yaml and config/, as svc new --init monit makes them)',
    ]);
    expect(actions(plan)).not.toContain('start service api-orders');
  });

  it('refuses monit checks on a host without monit', () => {
    const plan = planHost(
      'web1',
      operations(),
      facts([], { monit: { installed: false, running: false } }),
      'digest',
    );
    expect(plan.problems).toEqual([
      'svc.yaml says monit: true, but monit is not installed on web1',
    ]);
  });
});

describe('releases', () => {
  const history = (ids: string[]) =>
    ids.map((id) => ({ id, status: 'good' as const, at: '2026-01-01T00:00:00Z' }));

  it('deletes the oldest releases beyond keep, never the current or the previous one', () => {
    const before = deployedFacts();
    const ids = [
      'r00000000001',
      'r00000000002',
      'r00000000003',
      'r00000000004',
      'r00000000005',
      'r00000000006',
    ];
    before.releases = [...ids, 'abc123abc123'];
    before.history = history([
      'r00000000001',
      'r00000000002',
      'r00000000003',
      'r00000000004',
      'r00000000005',
      'abc123abc123',
      'r00000000006',
    ]);
    // current points at abc123abc123 (deployedFacts), so r00000000006 is merely the newest other one
    const plan = planHost('web1', operations(), before, 'digest');
    expect(actions(plan)).toEqual([
      'delete release /var/www/api-orders/releases/r00000000001',
      'delete release /var/www/api-orders/releases/r00000000002',
    ]);
  });

  it('refuses a file another service installed', () => {
    const before = deployedFacts();
    before.claimed = new Map([['/etc/monit/conf.d/api-orders', 'api-legacy']]);
    const plan = planHost('web1', operations(), before, 'digest');
    expect(plan.problems).toEqual([
      "/etc/monit/conf.d/api-orders on web1 is installed by service api-legacy; svc does not take another service's files",
    ]);
  });

  it('warns when the release failed its health check before', () => {
    const before = deployedFacts();
    before.history = [{ id: 'abc123abc123', status: 'bad', at: '2026-02-03T04:05:06Z' }];
    expect(planHost('web1', operations(), before, 'digest').warnings).toEqual([
      'release abc123abc123 failed its health check on web1 at 2026-02-03T04:05:06Z',
    ]);
  });
});
