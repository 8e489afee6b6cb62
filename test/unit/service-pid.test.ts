// Where root reads the service's own pid, per init system: under OpenRC the pidfile is
// supervise-daemon's, so the health gate, crash detection and `svc status` read OpenRC's record
// of its child (root's /run/openrc), while start-or-restart is still asked of the pidfile (a
// supervisor waiting to respawn its child is up). Elsewhere the pidfile is the service's.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildApply, type ApplyInput } from '../../src/core/apply-script.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { servicePidFile } from '../../src/core/layout.js';
import { controlScript, statusScript } from '../../src/core/lifecycle.js';
import type { InitSystem, Manifest } from '../../src/core/manifest.js';
import { resolveHomePaths } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import { SALT, facts, file, manifest, operations } from '../helpers/plan-fixtures.js';

const PIDFILE = '/run/api-orders.pid';
const CHILD = '/run/openrc/options/api-orders/child_pid';

const CASES: [InitSystem | undefined, string][] = [
  ['openrc', CHILD],
  ['systemd', PIDFILE],
  ['upstart', PIDFILE],
  ['monit', PIDFILE],
  [undefined, PIDFILE],
];

function applyScript(init: InitSystem): string {
  const m: Manifest = { ...manifest, init };
  const unit = {
    openrc: 'etc/init.d/api-orders',
    systemd: 'etc/systemd/system/api-orders.service',
    upstart: 'etc/init/api-orders.conf',
    monit: 'usr/local/lib/svc/api-orders/ctl',
  }[init];
  const config = [file('etc/default/api-orders', 'X=1\n', 0o600), file(unit, '#!/bin/sh\n', 0o755)];
  const hostFacts = facts([], { init: init === 'monit' ? 'none' : init });
  const ops = resolveHomePaths(operations(config, m), hostFacts.login.home);
  const input: ApplyInput = {
    manifest: m,
    operations: ops,
    plan: planHost('web1', ops, hostFacts, 'f'.repeat(64)),
    facts: hostFacts,
    factRequest: buildFactRequest(m, ops, 'deploy', false, SALT),
    holder: '{"who":"test"}',
    lockWaitSeconds: 0,
    healthTimeoutSeconds: 5,
    now: '2026-11-27T00:00:00.000Z',
    nonce: 'n0nce',
  };
  return buildApply(input, [{ path: 'server.js', mode: 0o644, content: new Uint8Array() }]).script;
}

describe('the service pid', () => {
  it.each(CASES)('%s: read from %s', (init, path) => {
    expect(servicePidFile('api-orders', init)).toBe(path);
  });

  it.each(CASES)('%s: svc status and start|stop|restart read %s', (init, path) => {
    const m = { ...manifest, init };
    const scripts = [statusScript(m), ...(init ? [controlScript(m, 'restart')] : [])];
    for (const script of scripts) {
      expect(script.split('\n')).toContain(`pidfile=${path}`);
    }
  });

  it.each(CASES.filter(([init]) => init !== undefined))(
    '%s: the deploy asks the pidfile whether to restart, and watches %s',
    (init, path) => {
      const lines = applyScript(init!).split('\n');
      const decide = lines.indexOf(`read_pid ${PIDFILE}`);
      expect(decide).toBeGreaterThanOrEqual(0);
      expect(lines[decide + 1]).toMatch(
        /^if \[ -n "\$pid" \] && proc_alive "\$pid"; then old_pid=\$pid; action=restart;/,
      );
      // Under OpenRC the old pid the new one must differ from is the child's on a restart; on a
      // start, only a child the supervisor now recorded did not start (the tests below).
      if (path === CHILD)
        expect(lines.slice(decide + 2, decide + 6)).toEqual([
          `if [ "$action" = restart ]; then read_pid ${CHILD}; old_pid=$pid; else`,
          `  read_pid ${PIDFILE}; sup=$pid; read_pid ${CHILD}`,
          `  if [ -n "$pid" ] && proc_alive "$pid" && [ "$ppid" != "$sup" ]; then old_pid=$pid; fi`,
          'fi',
        ]);
      else expect(lines.join('\n')).not.toContain('child_pid');
      expect(
        lines.filter((l) => l.includes('wait_new_pid ')).map((l) => l.trim().split(' ')[1]),
      ).toEqual(expect.arrayContaining([path]));
      for (const line of lines.filter((l) => /^\s*wait_new_pid /.test(l))) {
        expect(line.trim().split(' ')[1]).toBe(path);
      }
      const gate = lines.find((l) => l.startsWith('gate_begin '));
      if (init === 'systemd')
        expect(gate).toBe(`gate_begin '' api-orders /var/log/api-orders/api-orders.log api-orders`);
      else expect(gate).toBe(`gate_begin ${path} '' /var/log/api-orders/api-orders.log api-orders`);
    },
  );

  it.each(CASES.filter(([init]) => init !== undefined))(
    '%s: a worker (no port) is health-checked by %s',
    (init, path) => {
      const m: Manifest = { ...manifest, init, port: undefined, health: undefined };
      const health = operations([], m).find((op) => op.kind === 'health');
      expect(health).toMatchObject({ kind: 'health', pidfile: path });
    },
  );
});

/**
 * The deploy's start lines as the generated script has them, with the functions they call, run by
 * sh against a pidfile and child_pid in `dir` (rc-service a stub that records its calls, rollback
 * one that says so and stops). `raced`: the first read of the pidfile (the start-or-restart
 * decision) finds nothing, the later ones what the file holds, as when monit starts the service
 * right after that read.
 */
function startLinesIn(dir: string, raced: boolean): string {
  const lines = applyScript('openrc').split('\n');
  const from = (first: string, start = 0) =>
    lines.findIndex((l, i) => i >= start && l.startsWith(first));
  const lib = lines.slice(
    from('uptime_cs() {'),
    from('[ -d /var/lib/svc ]', from('uptime_cs() {')),
  );
  const decide = from(`read_pid ${PIDFILE}`);
  const start = lines.slice(decide, from('[ "$started" = 0 ] || rollback', decide) + 1);
  const race = [
    'pidfile_reads=0',
    'read_pid() {',
    `  if [ "$1" = ${PIDFILE} ]; then pidfile_reads=$((pidfile_reads + 1)); fi`,
    '  if [ "$pidfile_reads" = 1 ] && [ "$1" = ' +
      PIDFILE +
      ' ]; then pid=; else file_pid "$1"; fi',
    '}',
  ];
  return [
    lines.find((l) => l.startsWith('uptime_s() {'))!,
    ...lib.map((l) => (raced && l === 'read_pid() {' ? 'file_pid() {' : l)),
    ...(raced ? race : []),
    'rollback() { echo ROLLBACK; exit 3; }',
    ...start,
    'echo "STARTED action=$action old_pid=$old_pid"',
  ]
    .join('\n')
    .replaceAll(PIDFILE, join(dir, 'api-orders.pid'))
    .replaceAll(CHILD, join(dir, 'child_pid'))
    .replaceAll('/var/log/api-orders/api-orders.log', join(dir, 'api-orders.log'));
}

/**
 * Runs the start lines with a live child recorded in child_pid (a `sleep` this shell started,
 * so its parent is this shell) and `supervisor` in the pidfile ($$: this shell, the child's
 * parent; or a pid that is no process).
 */
function startWithChild(supervisor: string, raced: boolean) {
  const dir = mkdtempSync(join(tmpdir(), 'svc-openrc-race-'));
  try {
    mkdirSync(join(dir, 'bin'));
    writeFileSync(join(dir, 'bin', 'rc-service'), `#!/bin/sh\necho "$*" >> ${dir}/calls\n`);
    chmodSync(join(dir, 'bin', 'rc-service'), 0o755);
    const harness =
      `sleep 60 & child=$!; trap 'kill $child' EXIT\n` +
      `echo $child > ${dir}/child_pid; echo ${supervisor} > ${dir}/api-orders.pid\n` +
      startLinesIn(dir, raced);
    const run = spawnSync('sh', ['-c', harness], {
      encoding: 'utf8',
      env: { ...process.env, PATH: `${join(dir, 'bin')}:${process.env.PATH}` },
      timeout: 30_000,
    });
    const calls = spawnSync('cat', [join(dir, 'calls')], { encoding: 'utf8' }).stdout;
    return { stdout: run.stdout, stderr: run.stderr, calls };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("OpenRC: what the deploy's start takes for a new child", () => {
  // monit starts a check it has just loaded on its own. When it lands after the deploy read
  // supervise-daemon's pidfile (nothing: a start) and before it read OpenRC's child_pid, the
  // deploy took monit's fresh child for the old one: its own start was a no-op, and it waited
  // for a pid other than that one until it rolled back (CI: openrc first deploy "failed its
  // health check" while the release answered /ok).
  it("monit's child, started right after the decision: taken at once, no rollback", () => {
    const run = startWithChild('$$', true);
    expect(run.stdout, run.stderr).toContain('STARTED action=start old_pid=\n');
    expect(run.stdout).not.toContain('ROLLBACK');
    expect(run.calls).toBe('api-orders start\n');
  });

  // supervise-daemon killed (the OOM killer) leaves its child running, still recorded: that is
  // the old release, which may hold the port and answer the health check. Taken as new, the
  // deploy would report the new release live while the old one serves.
  it('a child its supervisor left behind: waited past (here: nothing new comes, rolled back)', () => {
    const run = startWithChild('999999999', false);
    expect(run.stdout, run.stderr).toContain('ROLLBACK');
    expect(run.stdout).not.toContain('STARTED');
    expect(run.calls).toContain('api-orders start\n');
  });
});
