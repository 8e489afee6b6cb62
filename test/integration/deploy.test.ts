// svc deploy end to end on real sandbox hosts (network + mount namespaces, real sshd, monit
// supervising the service under init: monit): the service really runs and answers /ok, the
// layout is exact, a redeploy is a no-op, a bad release is rolled back, concurrent deploys
// never corrupt anything.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLock, lockState } from '../helpers/lock.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const SECRET = `deploy-secret-${process.pid}-${Date.now()}`;
let sbx: Sandbox;
let work: string;
let project: string;

function deploy(args: string[] = []) {
  return runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...args], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });
}

/** Runs a command on a host as root and returns its stdout; the command must succeed. */
function onHost(host: string, command: string): string {
  const result = sbx.ssh(host, command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

const ok = (host: string) =>
  sbx.ssh(host, 'curl -fsS --max-time 2 http://127.0.0.1:3000/ok', { user: 'root' });

const pidOf = (host: string) => onHost(host, 'cat /run/api-orders.pid').trim();
const current = (host: string) => onHost(host, 'readlink /var/www/api-orders/current').trim();

beforeAll(async () => {
  sbx = await startSandbox({ count: 2 });
  work = mkdtempSync(join(tmpdir(), 'svc-deploy-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    [
      'new',
      'api-orders',
      '--yes',
      '--cutover',
      'restart',
      '--init',
      'monit',
      '--dir',
      project,
      '--env',
      `TOKEN=${SECRET}`,
    ],
    {
      env: { ...process.env, CI: '1' },
    },
  );
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc deploy', () => {
  let firstRelease = '';

  it('deploys to every host; the service answers /ok', async () => {
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/sbx-1 +deployed +[0-9a-f]{12} /);
    expect(result.stdout).toMatch(/sbx-2 +deployed +[0-9a-f]{12} /);
    for (const host of ['sbx-1', 'sbx-2'])
      expect(await eventually(() => ok(host).stdout === 'ok\n', 10)).toBe(true);
    firstRelease = current('sbx-1').replace('releases/', '');
    expect(firstRelease).toMatch(/^[0-9a-f]{12}$/);
    expect(`${result.stdout}${result.stderr}`).not.toContain(SECRET);
  });

  it('lays out the host exactly, owners and modes included', () => {
    const listing = onHost(
      'sbx-1',
      'stat -c "%n %a %U:%G %F" /var/www/api-orders /var/www/api-orders/releases /var/log/api-orders /var/db/api-orders /var/lib/svc/api-orders /etc/default/api-orders /usr/local/lib/svc/api-orders/ctl /home/deploy/service /home/deploy/log /home/deploy/db /home/deploy/image',
    );
    expect(listing.trim().split('\n')).toEqual([
      '/var/www/api-orders 755 root:root directory',
      '/var/www/api-orders/releases 755 root:root directory',
      '/var/log/api-orders 750 api-orders:api-orders directory',
      '/var/db/api-orders 750 api-orders:api-orders directory',
      '/var/lib/svc/api-orders 700 root:root directory',
      '/etc/default/api-orders 600 root:root regular file',
      '/usr/local/lib/svc/api-orders/ctl 755 root:root regular file',
      '/home/deploy/service 755 deploy:deploy directory',
      '/home/deploy/log 755 deploy:deploy directory',
      '/home/deploy/db 755 deploy:deploy directory',
      '/home/deploy/image 755 deploy:deploy directory',
    ]);
    const links = onHost(
      'sbx-1',
      'for l in /var/www/api-orders/current /home/deploy/service/api-orders /home/deploy/log/api-orders /home/deploy/db/api-orders; do printf "%s -> %s\\n" "$l" "$(readlink "$l")"; done',
    );
    expect(links.trim().split('\n')).toEqual([
      `/var/www/api-orders/current -> releases/${firstRelease}`,
      '/home/deploy/service/api-orders -> /var/www/api-orders/current',
      '/home/deploy/log/api-orders -> /var/log/api-orders',
      '/home/deploy/db/api-orders -> /var/db/api-orders',
    ]);
    expect(onHost('sbx-1', 'getent passwd api-orders | cut -d: -f6,7').trim()).toBe(
      '/var/db/api-orders:/usr/sbin/nologin',
    );
    expect(onHost('sbx-1', 'grep -c TOKEN= /etc/default/api-orders').trim()).toBe('1');
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('free');
  });

  it('keeps the service supervised: monit restarts a killed process', async () => {
    const before = pidOf('sbx-1');
    onHost('sbx-1', `kill -9 ${before}`);
    const back = await eventually(() => {
      const pid = sbx.ssh('sbx-1', 'cat /run/api-orders.pid', { user: 'root' }).stdout.trim();
      return pid !== '' && pid !== before && ok('sbx-1').stdout === 'ok\n';
    }, 45);
    expect(back).toBe(true);
  }, 60_000);

  it('a second deploy right away changes nothing and restarts nothing', async () => {
    const pid = pidOf('sbx-2');
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/sbx-1 +unchanged/);
    expect(result.stdout).toMatch(/sbx-2 +unchanged/);
    expect(onHost('sbx-2', 'ls /var/www/api-orders/releases').trim()).toBe(firstRelease);
    expect(pidOf('sbx-2')).toBe(pid);
  });

  it('rolls a release that fails its health check back to the previous one, which serves again', async () => {
    const server = join(project, 'server.js');
    const good = readFileSync(server, 'utf8');
    writeFileSync(
      server,
      good.replace(
        "response.writeHead(200, { 'content-type': 'text/plain' });\n    response.end('ok\\n');",
        "response.writeHead(500);\n    response.end('broken\\n');",
      ),
    );
    try {
      const result = await deploy(['--health-timeout', '3', '--parallel', '1']);
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/sbx-1 +rolled back/);
      expect(result.stdout).toMatch(
        /failed its health check; the previous release is serving again/,
      );
      expect(current('sbx-1')).toBe(`releases/${firstRelease}`);
      expect(await eventually(() => ok('sbx-1').stdout === 'ok\n', 10)).toBe(true);
      const records = JSON.parse(onHost('sbx-1', 'cat /var/lib/svc/api-orders/installed.json')) as {
        history: { status: string }[];
      };
      expect(records.history.at(-1)!.status).toBe('bad');
      expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('free');
    } finally {
      writeFileSync(server, good);
    }
  }, 60_000);

  it('two concurrent deploys: one applies, the other is refused, nothing is corrupted', async () => {
    writeFileSync(join(project, 'VERSION'), 'two\n');
    const [a, b] = await Promise.all([deploy(), deploy()]);
    const outcomes = [a, b].map((result) => /^sbx-1 {2,}(\S+)/m.exec(result.stdout)?.[1]).sort();
    expect(outcomes[0]).toBe('deployed');
    // The other was refused (the lock, or its plan gone stale under the first), or, when the first
    // had finished before it read the host, found nothing left to do. Never a second apply.
    expect(['locked', 'stale', 'unchanged']).toContain(outcomes[1]);
    expect(await eventually(() => ok('sbx-1').stdout === 'ok\n', 10)).toBe(true);
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('free');
    const again = await deploy();
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/sbx-1 +(unchanged|deployed)/);
  }, 60_000);

  it('refuses at once while another deploy holds the lock, naming it', async () => {
    writeFileSync(join(project, 'VERSION'), 'three\n');
    const held = await holdLock(
      sbx,
      'sbx-2',
      'api-orders',
      '{"who":"ops@laptop","since":"2026-11-27T00:00:00Z","pid":4242,"command":"svc deploy web"}',
    );
    try {
      const result = await deploy();
      expect(result.code).toBe(1);
      expect(result.stdout).toMatch(/sbx-2 +locked/);
      expect(result.stdout).toContain(
        'sbx-2: locked by ops@laptop since 2026-11-27T00:00:00Z (pid 4242: svc deploy web)',
      );
      expect(result.stdout).toMatch(/sbx-1 +deployed/);
      const retry = await runSvc(
        ['deploy', 'sandbox', '--yes', '--retry-failed', '--dir', project],
        { ...sbx.env, HOME: join(work, 'home') },
      );
      expect(retry.stdout).not.toContain('sbx-1 ');
      expect(retry.stdout).toMatch(/sbx-2 +locked/);
    } finally {
      await held.release();
    }
    expect(lockState(sbx, 'sbx-2', 'api-orders')).toBe('free');
  }, 60_000);
});

describe('an install step', () => {
  it('runs in the new release before it goes live; a failing one leaves the previous release serving', async () => {
    const manifestFile = join(project, 'svc.yaml');
    const original = readFileSync(manifestFile, 'utf8');
    try {
      writeFileSync(manifestFile, `${original}install: [/bin/sh, -c, "echo built > BUILT"]\n`);
      writeFileSync(join(project, 'VERSION'), 'four\n');
      const built = await deploy();
      expect(built.code, built.stdout + built.stderr).toBe(0);
      expect(built.stdout).toContain('; then /bin/sh -c echo built > BUILT');
      expect(onHost('sbx-1', 'cat /var/www/api-orders/current/BUILT')).toBe('built\n');
      const live = current('sbx-1');

      writeFileSync(manifestFile, `${original}install: [/bin/false]\n`);
      writeFileSync(join(project, 'VERSION'), 'five\n');
      const failed = await deploy(['--parallel', '1']);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toContain('the install step failed');
      expect(current('sbx-1')).toBe(live);
      expect(
        onHost('sbx-1', 'ls -A /var/www/api-orders/releases | grep -c partial || true').trim(),
      ).toBe('0');
      expect(ok('sbx-1').stdout).toBe('ok\n');
    } finally {
      writeFileSync(manifestFile, original);
    }
  }, 90_000);
});

describe('--json', () => {
  it('streams one JSON event per line: plan, step, result, summary', async () => {
    writeFileSync(join(project, 'VERSION'), 'json\n');
    const result = await deploy(['--json']);
    expect(result.code, result.stderr).toBe(0);
    const events = result.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { event: string; host?: string; status?: string });
    expect(new Set(events.map((event) => event.event))).toEqual(
      new Set(['plan', 'step', 'result', 'summary']),
    );
    expect(
      events.filter((event) => event.event === 'result').map((event) => [event.host, event.status]),
    ).toEqual([
      ['sbx-1', 'deployed'],
      ['sbx-2', 'deployed'],
    ]);
    expect(events.at(-1)).toEqual({ event: 'summary', hosts: 2, failed: [] });
  });
});
