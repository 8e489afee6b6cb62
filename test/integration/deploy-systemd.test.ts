// svc deploy end to end on sandbox hosts that boot real systemd (systemd-nspawn), with the
// scaffold's defaults: init: systemd and a monit check. The generated unit really runs the service
// as its own user with the hardening in effect, systemd supervises it, a redeploy is a no-op, a
// changed (secret) environment file restarts it without its content ever being shown, a bad
// release is rolled back, and the unit's stop semantics hold: TERM, the stop timeout, then KILL.
//
// Needs root, a built dist/ and systemd-container (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  runSvc,
  sandboxSupport,
  startSandbox,
  SVC,
  type CommandResult,
  type Sandbox,
} from '../helpers/sandbox.js';

const NAME = 'api-orders';
const HOSTS = ['sbx-1', 'sbx-2'];
const SECRET = `systemd-secret-${process.pid}-${Date.now()}`;

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1')('svc deploy on systemd hosts', () => {
  let sbx: Sandbox | undefined;
  let work = '';
  let project = '';

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };

  function deploy(args: string[] = []): Promise<CommandResult> {
    return runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...args], {
      ...sandbox().env,
      HOME: join(work, 'home'),
    });
  }

  /** A command on a host as root; it must succeed. Returns its stdout. */
  function onHost(host: string, command: string): string {
    const result = sandbox().ssh(host, command, { user: 'root' });
    expect(result.code, `${host}: ${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** A command on a host as root, whatever its exit code. */
  const tryOnHost = (host: string, command: string) =>
    sandbox().ssh(host, command, { user: 'root' });

  const answersOk = (host: string) =>
    tryOnHost(host, 'curl -fsS --max-time 2 http://127.0.0.1:3000/ok').stdout === 'ok\n';

  /** systemd's MainPID of the unit ('0' when it runs nothing). */
  const mainPid = (host: string) =>
    onHost(host, `systemctl show -p MainPID --value ${NAME}`).trim();

  const pidfile = (host: string) =>
    tryOnHost(host, `cat /run/${NAME}.pid 2>/dev/null`).stdout.trim();

  const current = (host: string) => onHost(host, `readlink /var/www/${NAME}/current`).trim();

  /** Polls `check` until it passes or `seconds` have gone by; returns whether it passed. */
  async function eventually(check: () => boolean, seconds: number): Promise<boolean> {
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() < deadline) {
      if (check()) return true;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
    return check();
  }

  /** Everything a host says about the unit, for failure messages. */
  const unitState = (host: string) =>
    tryOnHost(
      host,
      `systemctl status --no-pager ${NAME} 2>&1 | head -20; journalctl -u ${NAME} --no-pager -n 20 2>&1; tail -5 /var/log/${NAME}/${NAME}.log 2>&1`,
    ).stdout;

  /** Replaces a project file for the duration of `body`, then puts it back whatever happens. */
  async function withFile<T>(
    path: string,
    edit: (text: string) => string,
    body: () => Promise<T>,
  ): Promise<T> {
    const file = join(project, path);
    const before = readFileSync(file, 'utf8');
    const after = edit(before);
    expect(after, `the edit of ${path} changed nothing`).not.toBe(before);
    writeFileSync(file, after);
    try {
      return await body();
    } finally {
      writeFileSync(file, before);
    }
  }

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    work = mkdtempSync(join(tmpdir(), 'svc-deploy-systemd-'));
    project = join(work, NAME);
    execFileSync(SVC, ['new', NAME, '--yes', '--dir', project], {
      env: { ...process.env, CI: '1' },
    });
    // The defaults are what this file tests: init systemd, a monit check.
    const manifest = readFileSync(join(project, 'svc.yaml'), 'utf8');
    expect(manifest).toMatch(/^init: systemd$/m);
    expect(manifest).toMatch(/^monit: true$/m);
    sbx = await startSandbox({ count: HOSTS.length, systemd: true, user: 'deploy' });
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 90_000);

  let firstRelease = '';

  it('deploys; systemd runs the service, enabled, as its own user, hardened, watched by monit', async () => {
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    firstRelease = current('sbx-1');
    expect(firstRelease).toMatch(/^releases\/[0-9a-f]{12}$/);
    for (const host of HOSTS) {
      expect(result.stdout).toMatch(new RegExp(`^${host} +deployed +[0-9a-f]{12} `, 'm'));
      expect(current(host)).toBe(firstRelease);
      expect(onHost(host, `systemctl is-active ${NAME}`)).toBe('active\n');
      expect(onHost(host, `systemctl is-enabled ${NAME}`)).toBe('enabled\n');
      expect(await eventually(() => answersOk(host), 15), unitState(host)).toBe(true);

      const pid = mainPid(host);
      expect(pid).toMatch(/^[1-9]\d*$/);
      expect(await eventually(() => pidfile(host) === pid, 10), unitState(host)).toBe(true);
      expect(onHost(host, `ps -o user= -p ${pid}`).trim()).toBe(NAME);
      expect(onHost(host, `readlink /proc/${pid}/cwd`).trim()).toMatch(
        new RegExp(`^/var/www/${NAME}/releases/[0-9a-f]{12}$`),
      );

      // The hardening really applies to the running process, not just to the unit file:
      // NoNewPrivileges, ProtectSystem=strict (even root in its mount namespace cannot write
      // /etc or /usr), ReadWritePaths (its db and log directories stay writable), ProtectHome.
      expect(onHost(host, `grep '^NoNewPrivs:' /proc/${pid}/status`)).toMatch(/:\s+1\n$/);
      for (const path of ['/etc', '/usr', `/var/www/${NAME}`]) {
        const write = tryOnHost(host, `nsenter -t ${pid} -m touch ${path}/.svc-probe`);
        expect(write.code, `${path} is writable by the service`).not.toBe(0);
        expect(write.stderr).toContain('Read-only file system');
      }
      const dbWrite = tryOnHost(
        host,
        `nsenter -t ${pid} -m -S "$(id -u ${NAME})" -G "$(id -g ${NAME})" sh -c 'touch /var/db/${NAME}/.svc-probe && rm /var/db/${NAME}/.svc-probe'`,
      );
      expect(dbWrite.code, dbWrite.stderr).toBe(0);
      expect(onHost(host, 'ls -A /home')).toContain('deploy');
      expect(tryOnHost(host, `nsenter -t ${pid} -m ls -A /home`).stdout).toBe('');

      // monit knows the check (it may still be initializing on a fresh host).
      expect(
        await eventually(
          () => new RegExp(`\\b${NAME}\\b.*Process`).test(tryOnHost(host, 'monit summary').stdout),
          15,
        ),
        tryOnHost(host, 'monit summary').stdout,
      ).toBe(true);
    }
  }, 90_000);

  it('keeps it supervised: systemd restarts a killed process (Restart=on-failure)', async () => {
    const host = 'sbx-1';
    const before = mainPid(host);
    onHost(host, `kill -9 ${before}`);
    const back = await eventually(() => {
      const pid = mainPid(host);
      return pid !== '0' && pid !== before && pidfile(host) === pid && answersOk(host);
    }, 30);
    expect(back, unitState(host)).toBe(true);
    expect(onHost(host, `systemctl is-active ${NAME}`)).toBe('active\n');
    expect(Number(onHost(host, `systemctl show -p NRestarts --value ${NAME}`))).toBeGreaterThan(0);
  }, 60_000);

  it('a second deploy right away changes nothing and restarts nothing', async () => {
    const pids = HOSTS.map(mainPid);
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const host of HOSTS) expect(result.stdout).toMatch(new RegExp(`^${host} +unchanged`, 'm'));
    expect(HOSTS.map(mainPid)).toEqual(pids);
    for (const host of HOSTS) expect(current(host)).toBe(firstRelease);
  }, 60_000);

  it('a changed environment file restarts the service with it, never showing its content', async () => {
    const pids = HOSTS.map(mainPid);
    appendFileSync(join(project, 'config/etc/default', NAME), `FOO=bar\nTOKEN=${SECRET}\n`);
    const result = await deploy();
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    expect(output).toContain('(sensitive value changed)');
    expect(output).not.toContain('FOO');
    expect(output).not.toContain(SECRET);
    expect(output).not.toContain('NODE_ENV');
    for (const [index, host] of HOSTS.entries()) {
      expect(result.stdout).toMatch(new RegExp(`^${host} +deployed`, 'm'));
      expect(output).toContain(`${host}: restarted ${NAME}`);
      const pid = mainPid(host);
      expect(pid).toMatch(/^[1-9]\d*$/);
      expect(pid).not.toBe(pids[index]);
      const environment = onHost(host, `tr '\\0' '\\n' < /proc/${pid}/environ`).split('\n');
      expect(environment).toContain('FOO=bar');
      expect(environment).toContain(`TOKEN=${SECRET}`);
      expect(await eventually(() => answersOk(host), 15), unitState(host)).toBe(true);
      expect(await eventually(() => pidfile(host) === pid, 10)).toBe(true);
      // Only the environment changed: the same release serves.
      expect(current(host)).toBe(firstRelease);
    }
  }, 60_000);

  it('rolls a release that fails its health check back; the previous release serves again', async () => {
    await withFile(
      'server.js',
      (good) =>
        good.replace(
          "response.writeHead(200, { 'content-type': 'text/plain' });\n    response.end('ok\\n');",
          "response.writeHead(500);\n    response.end('broken\\n');",
        ),
      async () => {
        const result = await deploy(['--health-timeout', '3']);
        expect(result.code, result.stdout + result.stderr).toBe(1);
        for (const host of HOSTS) {
          expect(result.stdout).toMatch(new RegExp(`^${host} +rolled back`, 'm'));
          expect(result.stdout).toContain(
            `failed its health check; the previous release is serving again`,
          );
          expect(current(host)).toBe(firstRelease);
          expect(onHost(host, `systemctl is-active ${NAME}`)).toBe('active\n');
          expect(await eventually(() => answersOk(host), 15), unitState(host)).toBe(true);
          const pid = mainPid(host);
          expect(onHost(host, `readlink /proc/${pid}/cwd`).trim()).toBe(
            `/var/www/${NAME}/${firstRelease}`,
          );
          expect(await eventually(() => pidfile(host) === pid, 10)).toBe(true);
          const records = JSON.parse(onHost(host, `cat /var/lib/svc/${NAME}/installed.json`)) as {
            history: { status: string }[];
          };
          expect(records.history.at(-1)!.status).toBe('bad');
          expect(onHost(host, 'ls -A /var/lib/svc/locks')).toBe('');
        }
      },
    );
  }, 90_000);

  it('stops as the unit says: TERM, the stop timeout, then KILL', async () => {
    const host = 'sbx-1';
    const stubborn = [
      "import { createServer } from 'node:http';",
      'const log = (message) => process.stdout.write(`${new Date().toISOString()} ${message}\\n`);',
      "createServer((request, response) => response.end('ok\\n')).listen(Number(process.env.PORT), '0.0.0.0');",
      "process.on('SIGTERM', () => log('SIGTERM ignored'));",
      '',
    ].join('\n');
    await withFile(
      'svc.yaml',
      (text) => text.replace(/^stopTimeout: 30$/m, 'stopTimeout: 3'),
      () =>
        withFile(
          `config/etc/systemd/system/${NAME}.service`,
          (text) => text.replace(/^TimeoutStopSec=30$/m, 'TimeoutStopSec=3'),
          () =>
            withFile(
              'server.js',
              () => stubborn,
              async () => {
                const result = await deploy(['--health-timeout', '15']);
                expect(result.code, result.stdout + result.stderr).toBe(0);
                expect(result.stdout).toMatch(new RegExp(`^${host} +deployed`, 'm'));
                expect(onHost(host, `systemctl show -p TimeoutStopUSec --value ${NAME}`)).toBe(
                  '3s\n',
                );
                const pid = mainPid(host);
                expect(onHost(host, `readlink /proc/${pid}/cwd`).trim()).not.toBe(
                  `/var/www/${NAME}/${firstRelease}`,
                );
                expect(await eventually(() => answersOk(host), 15), unitState(host)).toBe(true);

                // monit would start it again behind our back: stop watching first, as an
                // operator would, then stop the unit and time it on the host.
                const stop = onHost(
                  host,
                  [
                    `monit unmonitor ${NAME}`,
                    'started=$(date +%s%N)',
                    `systemctl stop ${NAME}`,
                    'ended=$(date +%s%N)',
                    'echo "$(( (ended - started) / 1000000 ))"',
                    `systemctl show -p Result --value ${NAME}`,
                    `systemctl is-active ${NAME} || true`,
                    `kill -0 ${pid} 2>/dev/null && echo alive || echo gone`,
                  ].join('\n'),
                );
                const [millis, unitResult, active, survivor] = stop.trim().split('\n');
                const seconds = Number(millis) / 1000;
                console.info(`${host}: systemctl stop took ${seconds.toFixed(1)} s`);
                expect(unitResult, unitState(host)).toBe('timeout');
                // A unit killed after its stop timeout ends failed (Result=timeout), never active.
                expect(active).toMatch(/^(failed|inactive)$/);
                expect(survivor).toBe('gone');
                // Generous bounds: at least most of the 3 s stop timeout, far less than the 30 s
                // default it replaced.
                expect(seconds).toBeGreaterThanOrEqual(2.5);
                expect(seconds).toBeLessThan(15);
                // It got TERM first (and ignored it), then systemd killed it.
                expect(onHost(host, `cat /var/log/${NAME}/${NAME}.log`)).toContain(
                  'SIGTERM ignored',
                );
                expect(onHost(host, `journalctl -u ${NAME} --no-pager -o cat`)).toMatch(
                  /timed out\. Killing|SIGKILL/,
                );
                expect(pidfile(host)).toBe('');
              },
            ),
        ),
    );
  }, 90_000);
});
