// svc deploy end to end on sandbox hosts that boot real systemd (systemd-nspawn), with the
// scaffold's defaults: init: systemd and a monit check. The generated unit really runs the service
// as its own user with the hardening in effect, systemd supervises it, a redeploy is a no-op, a
// changed (secret) environment file restarts it without its content ever being shown, a bad
// release is rolled back, and the unit's stop semantics hold: TERM, the stop timeout, then KILL.
//
// Needs root, a built dist/ and systemd-container (see .ci/run). SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockState } from '../helpers/lock.js';
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

  /** svc deploy to every host; a slow one (a loaded machine) is reported with its output. */
  async function deploy(args: string[] = []): Promise<CommandResult> {
    const started = Date.now();
    const result = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...args], {
      ...sandbox().env,
      HOME: join(work, 'home'),
    });
    const seconds = (Date.now() - started) / 1000;
    if (seconds > 30)
      console.warn(`svc deploy ${args.join(' ')} took ${seconds.toFixed(1)} s:\n${result.stderr}`);
    return result;
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

  /** What a host says about the service, in one round trip. */
  interface ServiceState {
    active: string;
    enabled: string;
    /** systemd's MainPID ('0' when the unit runs nothing). */
    pid: string;
    pidfile: string;
    /** The body of GET /ok, '' when it does not answer 200. */
    ok: string;
    current: string;
    /** The MainPID's user and working directory ('' without a MainPID). */
    user: string;
    cwd: string;
  }

  function state(host: string): ServiceState {
    const script = [
      `pid=$(systemctl show -p MainPID --value ${NAME})`,
      `echo "active=$(systemctl is-active ${NAME})"`,
      `echo "enabled=$(systemctl is-enabled ${NAME} 2>/dev/null)"`,
      'echo "pid=$pid"',
      `echo "pidfile=$(cat /run/${NAME}.pid 2>/dev/null)"`,
      'echo "ok=$(curl -fsS --max-time 2 http://127.0.0.1:3000/ok 2>/dev/null)"',
      `echo "current=$(readlink /var/www/${NAME}/current)"`,
      'echo "user=$([ "$pid" = 0 ] || ps -o user= -p "$pid")"',
      'echo "cwd=$([ "$pid" = 0 ] || readlink "/proc/$pid/cwd")"',
    ].join('\n');
    const fields = Object.fromEntries(
      onHost(host, script)
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [
          line.slice(0, line.indexOf('=')),
          line.slice(line.indexOf('=') + 1).trim(),
        ]),
    );
    return fields as unknown as ServiceState;
  }

  /** Running under systemd, its pidfile written, answering /ok. */
  const serving = (s: ServiceState) =>
    s.active === 'active' && /^[1-9]\d*$/.test(s.pid) && s.pidfile === s.pid && s.ok === 'ok';

  /** Polls the host's state until `check` accepts it or `seconds` have gone by; returns the last. */
  async function waitFor(
    host: string,
    check: (s: ServiceState) => boolean,
    seconds: number,
  ): Promise<ServiceState> {
    const deadline = Date.now() + seconds * 1000;
    for (;;) {
      const now = state(host);
      if (check(now) || Date.now() >= deadline) return now;
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }

  /** Everything a host says about the unit, for failure messages. */
  const unitState = (host: string) =>
    tryOnHost(
      host,
      `systemctl status --no-pager ${NAME} 2>&1 | head -20; journalctl -u ${NAME} --no-pager -n 20 2>&1; tail -5 /var/log/${NAME}/${NAME}.log 2>&1`,
    ).stdout;

  /** Edits project files for the duration of `body`, then puts them back whatever happens. */
  async function withFiles<T>(
    edits: Record<string, (text: string) => string>,
    body: () => Promise<T>,
  ): Promise<T> {
    const saved = new Map<string, string>();
    try {
      for (const [path, edit] of Object.entries(edits)) {
        const file = join(project, path);
        const before = readFileSync(file, 'utf8');
        const after = edit(before);
        expect(after, `the edit of ${path} changed nothing`).not.toBe(before);
        saved.set(file, before);
        writeFileSync(file, after);
      }
      return await body();
    } finally {
      for (const [file, before] of saved) writeFileSync(file, before);
    }
  }

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    work = mkdtempSync(join(tmpdir(), 'svc-deploy-systemd-'));
    project = join(work, NAME);
    execFileSync(SVC, ['new', NAME, '--yes', '--cutover', 'restart', '--dir', project], {
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
  }, 150_000);

  let firstRelease = '';

  it('deploys; systemd runs the service, enabled, as its own user, hardened, watched by monit', async () => {
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const host of HOSTS) {
      expect(result.stdout).toMatch(new RegExp(`^${host} +deployed +[0-9a-f]{12} `, 'm'));
      const now = await waitFor(host, serving, 15);
      expect(now, unitState(host)).toMatchObject({
        active: 'active',
        enabled: 'enabled',
        ok: 'ok',
        pidfile: now.pid,
        user: NAME,
        current: expect.stringMatching(/^releases\/[0-9a-f]{12}$/),
      });
      expect(now.cwd).toBe(`/var/www/${NAME}/${now.current}`);
      firstRelease ||= now.current;
      expect(now.current).toBe(firstRelease);

      // The hardening holds for the running process, not just in the unit file: NoNewPrivileges;
      // ProtectSystem=strict (even root, in the service's mount namespace, cannot write /etc or
      // /usr or the release); ReadWritePaths (the service user can write its db directory);
      // ProtectHome (/home is empty in there).
      const probe = onHost(
        host,
        [
          `pid=${now.pid}`,
          'grep "^NoNewPrivs:" "/proc/$pid/status"',
          `for path in /etc /usr /var/www/${NAME}/current; do`,
          '  out=$(nsenter -t "$pid" -m touch "$path/.svc-probe" 2>&1) && echo "$path: writable" || echo "$path: $out"',
          'done',
          `out=$(nsenter -t "$pid" -m -S "$(id -u ${NAME})" -G "$(id -g ${NAME})" sh -c 'touch /var/db/${NAME}/.svc-probe && rm /var/db/${NAME}/.svc-probe' 2>&1) && echo "db: writable" || echo "db: $out"`,
          'echo "home outside: $(ls -A /home | tr "\\n" " ")"',
          'echo "home inside: $(nsenter -t "$pid" -m ls -A /home 2>&1 | tr "\\n" " ")"',
        ].join('\n'),
      );
      const lines = probe
        .trimEnd()
        .split('\n')
        .map((line) => line.trimEnd());
      expect(lines[0]).toMatch(/^NoNewPrivs:\s+1$/);
      for (const [index, path] of ['/etc', '/usr', `/var/www/${NAME}/current`].entries())
        expect(lines[index + 1]).toMatch(new RegExp(`^${path}: .*Read-only file system`));
      expect(lines[4]).toBe('db: writable');
      expect(lines[5]!.split(' ')).toContain('deploy');
      expect(lines[6]).toBe('home inside:');

      // monit knows the check and finds the process.
      let summary = '';
      const deadline = Date.now() + 20_000;
      do {
        summary = tryOnHost(host, `monit summary ${NAME}`).stdout;
        if (new RegExp(`^ ${NAME} +OK +Process`, 'm').test(summary)) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      } while (Date.now() < deadline);
      expect(summary).toMatch(new RegExp(`^ ${NAME} +OK +Process`, 'm'));
    }
  }, 150_000);

  it('keeps it supervised: systemd restarts a killed process (Restart=on-failure)', async () => {
    const host = 'sbx-1';
    const before = state(host).pid;
    onHost(host, `kill -9 ${before}`);
    const after = await waitFor(host, (s) => serving(s) && s.pid !== before, 30);
    expect(after.pid, unitState(host)).not.toBe(before);
    expect(serving(after), JSON.stringify(after)).toBe(true);
    expect(Number(onHost(host, `systemctl show -p NRestarts --value ${NAME}`))).toBeGreaterThan(0);
  }, 150_000);

  it('gives up on a unit that crashes at once: StartLimitBurst trips', async () => {
    const host = 'sbx-2';
    // The generated unit as installed, under another name, its command one that fails at once.
    const unit = 'svc-crashy';
    onHost(
      host,
      [
        `sed -e 's|^ExecStart=.*|ExecStart=/bin/false|' -e 's|/run/${NAME}\\.pid|/run/${unit}.pid|g' /etc/systemd/system/${NAME}.service > /etc/systemd/system/${unit}.service`,
        'systemctl daemon-reload',
        `systemctl start ${unit} || true`,
      ].join('\n'),
    );
    try {
      let shown = '';
      const deadline = Date.now() + 40_000;
      do {
        shown = onHost(host, `systemctl show -p Result -p NRestarts -p ActiveState ${unit}`);
        if (shown.includes('ActiveState=failed')) break;
        await new Promise((resolve) => setTimeout(resolve, 500));
      } while (Date.now() < deadline);
      const journal = tryOnHost(host, `journalctl -u ${unit} --no-pager -o cat`).stdout;
      expect(shown, journal).toContain('ActiveState=failed');
      expect(journal).toContain('Start request repeated too quickly');
      // It stays given up: no further restarts.
      const restarts = shown.match(/NRestarts=(\d+)/)![1];
      await new Promise((resolve) => setTimeout(resolve, 3_000));
      expect(onHost(host, `systemctl show -p NRestarts -p ActiveState ${unit}`)).toBe(
        `NRestarts=${restarts}\nActiveState=failed\n`,
      );
    } finally {
      tryOnHost(
        host,
        `systemctl stop ${unit}; systemctl reset-failed ${unit}; rm -f /etc/systemd/system/${unit}.service; systemctl daemon-reload`,
      );
    }
  }, 150_000);

  it('a second deploy right away changes nothing and restarts nothing', async () => {
    const before = HOSTS.map((host) => state(host).pid);
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    for (const host of HOSTS) expect(result.stdout).toMatch(new RegExp(`^${host} +unchanged`, 'm'));
    const after = HOSTS.map(state);
    expect(after.map((s) => s.pid)).toEqual(before);
    for (const s of after) expect(s.current).toBe(firstRelease);
  }, 150_000);

  it('a changed environment file restarts the service with it, never showing its content', async () => {
    const before = HOSTS.map((host) => state(host).pid);
    // A value in svc.yaml env:, a secret by name in secrets:, its value in .svc/secrets/default.
    const yaml = join(project, 'svc.yaml');
    writeFileSync(
      yaml,
      readFileSync(yaml, 'utf8').replace(/^env: \{\}$/m, 'env: { FOO: bar }\nsecrets: [TOKEN]'),
    );
    mkdirSync(join(project, '.svc', 'secrets'), { recursive: true, mode: 0o700 });
    writeFileSync(join(project, '.svc', 'secrets', 'default'), `TOKEN=${SECRET}\n`, {
      mode: 0o600,
    });
    const result = await deploy();
    const output = result.stdout + result.stderr;
    expect(result.code, output).toBe(0);
    // svc.yaml's value is diffed as it is (it is in svc.yaml anyway); the secret is named only.
    expect(output).toContain('+FOO=bar');
    expect(output).toContain('+ TOKEN (sensitive value added)');
    for (const content of [SECRET, 'NODE_ENV', 'PORT=']) expect(output).not.toContain(content);
    for (const [index, host] of HOSTS.entries()) {
      expect(result.stdout).toMatch(new RegExp(`^${host} +deployed`, 'm'));
      expect(output).toContain(`${host}: restarted ${NAME}`);
      const now = await waitFor(host, serving, 15);
      expect(serving(now), unitState(host)).toBe(true);
      expect(now.pid).not.toBe(before[index]);
      const environment = onHost(host, `tr '\\0' '\\n' < /proc/${now.pid}/environ`).split('\n');
      expect(environment).toContain('FOO=bar');
      expect(environment).toContain(`TOKEN=${SECRET}`);
      // svc.yaml ships in the release, so editing its env: made a new release.
      expect(now.current).not.toBe(firstRelease);
    }
    // The release the next tests expect to find serving (and roll back to).
    firstRelease = state(HOSTS[0]!).current;
  }, 150_000);

  it('rolls a release that fails its health check back; the previous release serves again', async () => {
    const broken = (good: string) =>
      good.replace(
        "response.writeHead(200, { 'content-type': 'text/plain' });\n    response.end('ok\\n');",
        "response.writeHead(500);\n    response.end('broken\\n');",
      );
    await withFiles({ 'server.js': broken }, async () => {
      const result = await deploy(['--health-timeout', '3']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      for (const host of HOSTS) {
        expect(result.stdout).toMatch(new RegExp(`^${host} +rolled back`, 'm'));
        expect(result.stdout).toMatch(
          new RegExp(
            `${host}: release [0-9a-f]{12} failed its health check; the previous release is serving again`,
          ),
        );
        const now = await waitFor(host, serving, 15);
        expect(serving(now), unitState(host)).toBe(true);
        expect(now.current).toBe(firstRelease);
        expect(now.cwd).toBe(`/var/www/${NAME}/${firstRelease}`);
        const records = JSON.parse(onHost(host, `cat /var/lib/svc/${NAME}/installed.json`)) as {
          history: { status: string }[];
        };
        expect(records.history.at(-1)!.status).toBe('bad');
        expect(lockState(sandbox(), host, NAME)).toBe('free');
      }
    });
  }, 150_000);

  it('stops as the unit says: TERM, then KILL once TimeoutStopSec has passed', async () => {
    const host = 'sbx-1';
    // A release whose server ignores SIGTERM. svc.yaml's stopTimeout does not re-render config/
    // (the unit was rendered by `svc new`), so the unit's TimeoutStopSec is lowered alongside.
    const stubborn = [
      "import { createServer } from 'node:http';",
      'const log = (message) => process.stdout.write(`${new Date().toISOString()} ${message}\\n`);',
      "createServer((request, response) => response.end('ok\\n')).listen(Number(process.env.PORT), '0.0.0.0');",
      "process.on('SIGTERM', () => log('SIGTERM ignored'));",
      '',
    ].join('\n');
    await withFiles(
      {
        'svc.yaml': (text) => text.replace(/^stopTimeout: 30$/m, 'stopTimeout: 3'),
        [`config/etc/systemd/system/${NAME}.service`]: (text) =>
          text.replace(/^TimeoutStopSec=30$/m, 'TimeoutStopSec=3'),
        'server.js': () => stubborn,
      },
      async () => {
        const result = await deploy(['--health-timeout', '15']);
        expect(result.code, result.stdout + result.stderr).toBe(0);
        expect(result.stdout).toMatch(new RegExp(`^${host} +deployed`, 'm'));
        const now = await waitFor(host, serving, 15);
        expect(serving(now), unitState(host)).toBe(true);
        expect(now.cwd).not.toBe(`/var/www/${NAME}/${firstRelease}`);
        expect(onHost(host, `systemctl show -p TimeoutStopUSec --value ${NAME}`)).toBe('3s\n');

        // monit would start it again behind our back: stop watching first, as an operator
        // would, then stop the unit and time that on the host.
        const stop = onHost(
          host,
          [
            `monit unmonitor ${NAME}`,
            'tries=0',
            `until monit summary ${NAME} | grep -q 'Not monitored'; do`,
            '  tries=$((tries + 1)); [ "$tries" -le 100 ] || { echo "monit still watches" >&2; exit 1; }',
            '  sleep 0.2',
            'done',
            'started=$(date +%s%N)',
            `systemctl stop ${NAME}`,
            'ended=$(date +%s%N)',
            'echo "$(( (ended - started) / 1000000 ))"',
            `systemctl show -p Result --value ${NAME}`,
            `systemctl is-active ${NAME} || true`,
            `kill -0 ${now.pid} 2>/dev/null && echo alive || echo gone`,
          ].join('\n'),
        );
        const [millis, unitResult, active, survivor] = stop.trim().split('\n');
        const seconds = Number(millis) / 1000;
        console.info(`${host}: systemctl stop took ${seconds.toFixed(1)} s`);
        expect(unitResult, unitState(host)).toBe('timeout');
        // A unit killed after its stop timeout ends failed (Result=timeout), never active.
        expect(active).toMatch(/^(failed|inactive)$/);
        expect(survivor).toBe('gone');
        // Generous bounds: most of the 3 s stop timeout, far less than the 30 s it replaced.
        expect(seconds).toBeGreaterThanOrEqual(2.5);
        expect(seconds).toBeLessThan(15);
        // It got TERM first (and ignored it), then systemd killed it.
        expect(onHost(host, `cat /var/log/${NAME}/${NAME}.log`)).toContain('SIGTERM ignored');
        expect(onHost(host, `journalctl -u ${NAME} --no-pager -o cat`)).toMatch(
          /State 'stop-sigterm' timed out\. Killing\./,
        );
        expect(state(host).pidfile).toBe('');
      },
    );
  }, 150_000);
});
