// svc deploy end to end on OpenRC hosts: light sandbox hosts with Debian 12's OpenRC (0.45)
// unpacked into them (test/helpers/openrc.ts), so the generated /etc/init.d script runs under the
// real openrc-run, rc-service and supervise-daemon. The host's PID 1 is the sandbox's, not
// openrc; OpenRC's state lives in the host's own /run.
//
// Needs root, a built dist/ and the OpenRC .deb files (scripts/fetch-openrc, run by .ci/run).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orc';
const PORT = 3217;
const HOST = 'sbx-1';

describe('svc deploy on an OpenRC host', () => {
  let sbx: Sandbox | undefined;
  let work = '';
  let project = '';

  const sandbox = (): Sandbox => {
    if (!sbx) throw new Error('the sandbox did not start');
    return sbx;
  };
  const svc = (args: string[]) =>
    runSvc([...args, '--dir', project], { ...sandbox().env, HOME: join(work, 'home') });

  /** A command on the host as root; it must succeed. Returns its stdout. */
  function onHost(command: string): string {
    const result = sandbox().ssh(HOST, command, { user: 'root' });
    expect(result.code, `${command}: ${result.stderr}`).toBe(0);
    return result.stdout;
  }

  /** What the host says about the service, in one round trip. */
  interface ServiceState {
    /** rc-service's word: started, stopped, crashed, ... */
    status: string;
    /** The pid in the pidfile ('' without one). */
    pidfile: string;
    /** The pids of the service's program (node), space-separated. */
    node: string;
    /** The body of GET /ok, '' when it does not answer 200. */
    ok: string;
  }

  function state(): ServiceState {
    const script = [
      `echo "status=$(rc-service ${NAME} status 2>&1 | sed -n 's/.*status: //p')"`,
      `echo "pidfile=$(cat /run/${NAME}.pid 2>/dev/null)"`,
      `echo "node=$(pgrep -u ${NAME} -x node | tr '\\n' ' ')"`,
      `echo "ok=$(curl -fsS --max-time 2 http://127.0.0.1:${PORT}/ok 2>/dev/null)"`,
    ].join('\n');
    return Object.fromEntries(
      onHost(script)
        .split('\n')
        .filter((line) => line.includes('='))
        .map((line) => [
          line.slice(0, line.indexOf('=')),
          line.slice(line.indexOf('=') + 1).trim(),
        ]),
    ) as unknown as ServiceState;
  }

  /** The one node process of the service, answering /ok. */
  const serving = (s: ServiceState) =>
    s.status === 'started' && /^[1-9]\d*$/.test(s.node) && s.ok === 'ok';

  async function waitFor(check: (s: ServiceState) => boolean, seconds: number) {
    let last = state();
    await eventually(() => check((last = state())), seconds);
    return last;
  }

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), 'svc-deploy-openrc-'));
    project = join(work, NAME);
    execFileSync(
      SVC,
      [
        'new',
        NAME,
        '--yes',
        '--cutover',
        'restart',
        '--init',
        'openrc',
        '--port',
        String(PORT),
        '--dir',
        project,
      ],
      { env: { ...process.env, CI: '1' } },
    );
    expect(readFileSync(join(project, 'svc.yaml'), 'utf8')).toMatch(/^monit: true$/m);
    sbx = await startSandbox({ count: 1, openrc: true, user: 'deploy' });
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('the host runs OpenRC (softlevel default) under a PID 1 that is not openrc', () => {
    const out = onHost(
      'cat /proc/1/comm; cat /run/openrc/softlevel; echo; cat /lib/rc/version; command -v supervise-daemon',
    ).split('\n');
    expect(out[0]).not.toMatch(/openrc|init/);
    expect(out[1]).toBe('default');
    expect(out[2]).toMatch(/^0\.45/);
    expect(out[3]).toMatch(/supervise-daemon$/);
  });

  let release = '';

  it('deploys; openrc-run runs the service as its user, in the default runlevel; svc status gives its pid', async () => {
    const result = await svc(['deploy', 'sandbox', '--yes']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const now = await waitFor(serving, 15);
    expect(now, onHost(`tail -5 /var/log/${NAME}/${NAME}.log`)).toMatchObject({
      status: 'started',
      ok: 'ok',
    });
    expect(onHost(`rc-update show default | grep -c '${NAME} '`).trim()).toBe('1');
    expect(onHost(`ps -o user= -p ${now.node}`).trim()).toBe(NAME);
    release = onHost(`readlink /var/www/${NAME}/current`)
      .trim()
      .replace(/^releases\//, '');
    expect(onHost(`readlink /proc/${now.node}/cwd`).trim()).toBe(
      `/var/www/${NAME}/releases/${release}`,
    );
    const status = await svc(['status', 'sandbox']);
    expect(status.stdout).toMatch(new RegExp(`^${HOST} +${release} +running +${now.node} `, 'm'));
  }, 120_000);

  it('supervise-daemon runs it: the pidfile is the supervisor, root, and the service is its child', () => {
    const now = state();
    expect(serving(now)).toBe(true);
    const [supervisor, child, parent] = onHost(
      `ps -o user=,args= -p ${now.pidfile}; cat /run/openrc/options/${NAME}/child_pid; echo; ps -o ppid= -p ${now.node}`,
    )
      .trim()
      .split('\n')
      .map((line) => line.trim());
    expect(supervisor).toMatch(new RegExp(`^root +supervise-daemon ${NAME} --start `));
    expect(child).toBe(now.node);
    expect(parent).toBe(now.pidfile);
  });

  it('a crash is restarted by supervise-daemon, without monit', async () => {
    onHost(`monit unmonitor ${NAME}`);
    expect(await eventually(() => /Not monitored/.test(onHost(`monit summary ${NAME}`)), 20)).toBe(
      true,
    );
    try {
      const before = state();
      expect(serving(before)).toBe(true);
      onHost(`kill -KILL ${before.node}`);
      const after = await waitFor((s) => serving(s) && s.node !== before.node, 15);
      expect(after, onHost(`tail -5 /var/log/${NAME}/${NAME}.log`)).toMatchObject({
        status: 'started',
        ok: 'ok',
        pidfile: before.pidfile,
      });
      expect(after.node).not.toBe(before.node);
      // Still unmonitored: it was supervise-daemon, not monit.
      expect(onHost(`monit summary ${NAME}`)).toMatch(/Not monitored/);
      const status = await svc(['status', 'sandbox']);
      expect(status.stdout).toMatch(
        new RegExp(`^${HOST} +${release} +running +${after.node} `, 'm'),
      );
    } finally {
      onHost(`monit monitor ${NAME}`);
    }
  }, 60_000);

  it('gives up on a service that crashes at once: at most 5 restarts within 60 s, then stopped', async () => {
    // The generated script, as a second service whose program cannot start (a module that is
    // not there): its own pidfile, the same log.
    const crashy = 'orc-crashy';
    const log = `/var/log/${NAME}/${NAME}.log`;
    const count = () => Number(onHost(`grep -c 'Cannot find module' ${log} || true`).trim());
    onHost(
      `sed -e 's#/run/${NAME}\\.pid#/run/${crashy}.pid#' -e "s# server\\.js'\\$# missing.js'#" /etc/init.d/${NAME} > /etc/init.d/${crashy} && chmod 0755 /etc/init.d/${crashy}`,
    );
    expect(onHost(`grep -c missing.js /etc/init.d/${crashy}`).trim()).toBe('1');
    const before = count();
    try {
      onHost(`rc-service ${crashy} start >/dev/null 2>&1`);
      // 1 start and 5 respawns 2 s apart: about 10 s, then the supervisor gives up.
      const stopped = () =>
        /status: stopped/.test(onHost(`rc-service ${crashy} status 2>&1 || true`));
      expect(await eventually(stopped, 30)).toBe(true);
      expect(count() - before).toBe(6);
      expect(onHost(`test -e /run/${crashy}.pid && echo kept || echo removed`).trim()).toBe(
        'removed',
      );
      // And it stays given up.
      await new Promise((resolve) => setTimeout(resolve, 3000));
      expect(count() - before).toBe(6);
    } finally {
      sandbox().ssh(HOST, `rc-service ${crashy} stop; rm -f /etc/init.d/${crashy}`, {
        user: 'root',
      });
    }
  }, 60_000);

  it('stop ends the service and its supervisor and removes the pidfile; start brings it back', async () => {
    const before = state();
    const stop = await svc(['stop', 'sandbox']);
    expect(stop.code, stop.stdout + stop.stderr).toBe(0);
    const stopped = state();
    expect(stopped).toMatchObject({ status: 'stopped', pidfile: '', node: '', ok: '' });
    expect(onHost(`ps -p ${before.pidfile} >/dev/null && echo alive || echo gone`).trim()).toBe(
      'gone',
    );
    expect(onHost(`test -e /run/${NAME}.pid && echo kept || echo removed`).trim()).toBe('removed');
    const start = await svc(['start', 'sandbox']);
    expect(start.code, start.stdout + start.stderr).toBe(0);
    const now = await waitFor(serving, 15);
    expect(serving(now)).toBe(true);
    expect(start.stdout).toContain(`${HOST}: running (pid ${now.node})`);
  }, 90_000);

  it('stops as the script says: TERM, then KILL once the stop timeout (retry) has passed', async () => {
    // A release whose server ignores SIGTERM. svc.yaml's stopTimeout does not re-render config/
    // (the script was rendered by `svc new`), so the script's retry is lowered alongside.
    const stubborn = [
      "import { createServer } from 'node:http';",
      'const log = (message) => process.stdout.write(`${new Date().toISOString()} ${message}\\n`);',
      "createServer((request, response) => response.end('ok\\n')).listen(Number(process.env.PORT), '0.0.0.0');",
      "process.on('SIGTERM', () => log('SIGTERM ignored'));",
      '',
    ].join('\n');
    const edits: Record<string, (text: string) => string> = {
      'svc.yaml': (text) => text.replace(/^stopTimeout: 30$/m, 'stopTimeout: 3'),
      [`config/etc/init.d/${NAME}`]: (text) =>
        text.replace(/^retry=TERM\/30\/KILL\/5$/m, 'retry=TERM/3/KILL/5'),
      'server.js': () => stubborn,
    };
    const saved = new Map<string, string>();
    try {
      for (const [path, edit] of Object.entries(edits)) {
        const before = readFileSync(join(project, path), 'utf8');
        const after = edit(before);
        expect(after, `the edit of ${path} changed nothing`).not.toBe(before);
        saved.set(path, before);
        writeFileSync(join(project, path), after);
      }
      const result = await svc(['deploy', 'sandbox', '--yes', '--health-timeout', '15']);
      expect(result.code, result.stdout + result.stderr).toBe(0);
      const now = await waitFor(serving, 15);
      expect(serving(now)).toBe(true);
      // monit would start it again behind our back: stop watching first, then time the stop.
      const stop = onHost(
        [
          `monit unmonitor ${NAME}`,
          'tries=0',
          `until monit summary ${NAME} | grep -q 'Not monitored'; do`,
          '  tries=$((tries + 1)); [ "$tries" -le 100 ] || { echo "monit still watches" >&2; exit 1; }',
          '  sleep 0.2',
          'done',
          'started=$(date +%s%N)',
          `rc-service ${NAME} stop >/dev/null 2>&1`,
          'ended=$(date +%s%N)',
          'echo "$(( (ended - started) / 1000000 ))"',
          `kill -0 ${now.node} 2>/dev/null && echo alive || echo gone`,
          `test -e /run/${NAME}.pid && echo kept || echo removed`,
        ].join('\n'),
      );
      const [millis, survivor, pidfile] = stop.trim().split('\n');
      const seconds = Number(millis) / 1000;
      expect(survivor).toBe('gone');
      expect(pidfile).toBe('removed');
      // Most of the 3 s stop timeout, far less than the 30 s it replaced.
      expect(seconds).toBeGreaterThanOrEqual(2.5);
      expect(seconds).toBeLessThan(15);
      // It got TERM first (and ignored it), then the supervisor killed it.
      expect(onHost(`cat /var/log/${NAME}/${NAME}.log`)).toContain('SIGTERM ignored');
      expect(state()).toMatchObject({ status: 'stopped', node: '', pidfile: '' });
    } finally {
      for (const [path, before] of saved) writeFileSync(join(project, path), before);
      sandbox().ssh(HOST, `monit monitor ${NAME}`, { user: 'root' });
    }
  }, 150_000);
});
