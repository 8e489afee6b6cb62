// A hostile service user must not make root write through its log (issue 5, "a hostile host").
// /var/log/NAME belongs to the service user, so that user can replace NAME.log with a symbolic
// link to a root-only file, or to a path in a root-only directory. If root opened the log, the
// next start would append the service's output there (or create the file): root escalation.
// The generated units open the log as the service user, after the privilege drop, so the link
// gets the service user's permissions: nothing outside its reach is written.
//
// What is right when the log is unusable: the service still starts. The service user sets its own
// log aside, as itself (it owns the directory), and a fresh log is opened; the link is kept, as
// NAME.log.unusable-PID, for whoever investigates. The same path takes care of a root-owned log
// left by an older svc, which the service user could not append to.
//
// For init monit (a light sandbox host: monit and start-stop-daemon) and init systemd (a
// sandbox host booting real systemd), each through the real bin/svc: new, deploy, restart.
// Needs root and a built dist/ (npm run build); the systemd part needs systemd-container.
// SVC_SKIP_SANDBOX=1 skips it.
import { execFileSync, spawnSync } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  existsSync,
  lstatSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { withLog } from '../../src/scaffold/log-wrapper.js';
import {
  eventually,
  runSvc,
  sandboxSupport,
  startSandbox,
  SVC,
  type Sandbox,
} from '../helpers/sandbox.js';

const NAME = 'api-x';
const HOST = 'sbx-1';
const LOG = `/var/log/${NAME}/${NAME}.log`;
const VICTIM = '/etc/svc-victim';
const VICTIM_TEXT = `root only, ${process.pid}\n`;
/** A path that does not exist, in a directory only root may write. */
const PLANTED = '/etc/sudoers.d/svc-pwn';

describe.skipIf(process.env.SVC_SKIP_SANDBOX === '1').each([
  { init: 'monit' as const, systemd: false },
  { init: 'systemd' as const, systemd: true },
])('service logs under init $init', ({ init, systemd }) => {
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

  /** A command on the host as the service user (who has no login shell: runuser, no shell). */
  const asServiceUser = (argv: string[]) =>
    onHost(['runuser', '-u', NAME, '--', ...argv].map((word) => `'${word}'`).join(' '));

  /** What the init system and the host say, for failure messages. */
  const diagnostics = () =>
    sandbox().ssh(
      HOST,
      [
        `ls -la /var/log/${NAME}`,
        `cat /run/${NAME}.pid`,
        systemd
          ? `systemctl status --no-pager ${NAME} 2>&1 | head -20; journalctl -u ${NAME} --no-pager -n 20`
          : `monit status ${NAME}`,
        `tail -n 5 ${LOG}`,
      ].join(' 2>&1; '),
      { user: 'root' },
    ).stdout;

  const pid = () =>
    sandbox()
      .ssh(HOST, `p=$(cat /run/${NAME}.pid) && kill -0 "$p" && echo "$p"`, { user: 'root' })
      .stdout.trim();
  const ok = () =>
    sandbox().ssh(HOST, 'curl -fsS --max-time 2 http://127.0.0.1:3000/ok', { user: 'root' }).stdout;

  /** Owner, group, mode and type of a path, and a digest of its content if it is a file. */
  const fingerprint = (path: string) =>
    onHost(`stat -c '%U:%G %a %F' ${path} && { [ ! -f ${path} ] || sha256sum < ${path}; }`).trim();

  /** Restarts through svc (monit, which runs the init system's start and stop), then waits. */
  async function restartAndServe(): Promise<string> {
    const before = pid();
    const result = await svc(['restart', 'sandbox']);
    expect(result.code, `${result.stdout}${result.stderr}\n${diagnostics()}`).toBe(0);
    const serving = await eventually(() => pid() !== '' && ok() === 'ok\n', 30);
    expect(serving, diagnostics()).toBe(true);
    const now = pid();
    expect(now).not.toBe(before);
    // Stopped by its pidfile: the old process is gone, and only the new one runs.
    expect(onHost(`kill -0 ${before} 2>/dev/null && echo alive || echo gone`).trim()).toBe('gone');
    expect(onHost(`pgrep -u ${NAME}`).trim()).toBe(now);
    return now;
  }

  /** The log is a regular file of the service user holding this process's start. */
  function expectFreshLog(servicePid: string): void {
    expect(onHost(`stat -c '%U:%G %F' ${LOG}`).trim()).toBe(`${NAME}:${NAME} regular file`);
    const log = onHost(`cat ${LOG}`);
    expect(log).toContain(`${NAME} listening on 0.0.0.0:3000`);
    // The process writing it is the service itself (the shell exec'd it), as the service user.
    expect(onHost(`ps -o user=,args= -p ${servicePid}`).trim()).toMatch(
      new RegExp(`^${NAME} +/usr/bin/node server\\.js$`),
    );
    expect(onHost(`readlink /proc/${servicePid}/fd/1`).trim()).toBe(LOG);
  }

  beforeAll(async () => {
    const unsupported = sandboxSupport();
    if (unsupported) throw new Error(unsupported);
    work = mkdtempSync(join(tmpdir(), `svc-logs-${init}-`));
    project = join(work, NAME);
    execFileSync(
      SVC,
      ['new', NAME, '--yes', '--cutover', 'restart', '--init', init, '--dir', project],
      {
        env: { ...process.env, CI: '1' },
      },
    );
    sbx = await startSandbox({ count: 1, systemd });
  }, 180_000);

  afterAll(async () => {
    try {
      await sbx?.down();
    } finally {
      if (work) rmSync(work, { recursive: true, force: true });
    }
  }, 150_000);

  it('deploys; the log is the service user’s own file and holds the service’s output', async () => {
    const result = await svc(['deploy', 'sandbox', '--yes']);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(await eventually(() => ok() === 'ok\n', 20), diagnostics()).toBe(true);
    const servicePid = pid();
    expectFreshLog(servicePid);
    expect(
      await eventually(() => onHost(`cat ${LOG}`).includes('GET /ok 200'), 10),
      diagnostics(),
    ).toBe(true);
  }, 120_000);

  // Only the monit launcher is a script of ours that could start a second copy.
  if (init === 'monit')
    it('the launcher still sees the running service by pidfile and --exec: no second start', () => {
      const running = pid();
      const launcher = `/usr/local/lib/svc/${NAME}/ctl`;
      expect(onHost(`${launcher} start 2>&1`)).toMatch(/already running/);
      expect(onHost(`${launcher} status; echo "status $?"`).trim()).toBe('status 0');
      expect(pid()).toBe(running);
      expect(onHost(`pgrep -u ${NAME}`).trim()).toBe(running);
    });

  it('a link to a root-only file: the file is untouched, the service starts on a fresh log', async () => {
    onHost(`umask 077 && printf %s '${VICTIM_TEXT}' > ${VICTIM} && chmod 0600 ${VICTIM}`);
    const before = fingerprint(VICTIM);
    expect(before).toMatch(/^root:root 600 regular file\n[0-9a-f]{64} {2}-$/);
    asServiceUser(['ln', '-sfn', VICTIM, LOG]);
    expect(onHost(`readlink ${LOG}`).trim()).toBe(VICTIM);

    const servicePid = await restartAndServe();

    expect(fingerprint(VICTIM)).toBe(before);
    expect(onHost(`cat ${VICTIM}`)).toBe(VICTIM_TEXT);
    expectFreshLog(servicePid);
    // The link was set aside by the service user, not followed.
    const aside = onHost(`find /var/log/${NAME} -name '${NAME}.log.unusable-*' -type l`).trim();
    expect(aside.split('\n')).toHaveLength(1);
    expect(onHost(`readlink ${aside}`).trim()).toBe(VICTIM);
    expect(onHost(`cat ${LOG}`)).toContain(`svc: ${LOG} set aside`);
  }, 120_000);

  it('a link to a path in a root-only directory: nothing is created there', async () => {
    onHost(`install -d -m 0750 /etc/sudoers.d && rm -f ${PLANTED}`);
    asServiceUser(['ln', '-sfn', PLANTED, LOG]);

    const servicePid = await restartAndServe();

    expect(onHost(`if [ -e ${PLANTED} ]; then echo created; else echo absent; fi`).trim()).toBe(
      'absent',
    );
    expectFreshLog(servicePid);
  }, 120_000);

  it('a root-owned log (left by an older svc) is set aside, untouched, and a fresh one is used', async () => {
    onHost(`rm -f ${LOG} && printf 'old root log\\n' > ${LOG} && chmod 0644 ${LOG}`);
    const before = fingerprint(LOG);
    expect(before).toMatch(/^root:root 644 regular file/);

    const servicePid = await restartAndServe();

    expectFreshLog(servicePid);
    const aside = onHost(
      `find /var/log/${NAME} -name '${NAME}.log.unusable-*' -type f -user root`,
    ).trim();
    expect(aside.split('\n')).toHaveLength(1);
    expect(fingerprint(aside)).toBe(before);
  }, 120_000);

  it('still rotates: the logrotate file works as the service user on its own log', () => {
    const output = onHost(
      `logrotate -f -s /var/lib/svc/logrotate-test.state /etc/logrotate.d/${NAME} 2>&1; echo "exit $?"`,
    );
    expect(output.trim().split('\n').at(-1), output).toBe('exit 0');
    expect(onHost(`stat -c '%U:%G %F' ${LOG}.1`).trim()).toBe(`${NAME}:${NAME} regular file`);
    expect(fingerprint(VICTIM)).toMatch(/^root:root 600 regular file/);
    expect(onHost(`cat ${VICTIM}`)).toBe(VICTIM_TEXT);
  });

  // `svc logs` (issue 9, point 7) runs as root on the host; it must read the log as the service
  // user, or a link there would print any file on the host to whoever runs svc logs.
  it('svc logs prints the service’s own log', async () => {
    // Just rotated, the log may be empty: a line of the service user's own.
    asServiceUser(['sh', '-c', `echo svc-logs-probe >> ${LOG}`]);
    const result = await svc(['logs', 'sandbox', '-n', '50']);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toContain(`${HOST} | svc-logs-probe\n`);
  });

  describe('svc logs with a link planted as the log', () => {
    const refused = `svc: error: ${HOST}: ${LOG} is a symbolic link, not a log: svc logs does not follow links in the service user's directory\n`;

    it.each([
      ['/etc/shadow', 'root:'],
      [VICTIM, VICTIM_TEXT.trim()],
    ])('-> %s: nothing of it printed, one line saying why, exit 1', async (target, content) => {
      asServiceUser(['ln', '-sfn', target, LOG]);
      for (const follow of [[], ['-f']]) {
        const result = await svc(['logs', 'sandbox', '-n', '5', ...follow]);
        expect(result.stdout).not.toContain(content);
        expect(result.stdout).toBe('');
        expect(result.stderr).toBe(refused);
        expect(result.code).toBe(1);
      }
    });

    it('a root-only file in its place (a hard link would look so): not readable by the service user', async () => {
      onHost(`rm -f ${LOG} && cp ${VICTIM} ${LOG} && chmod 0600 ${LOG}`);
      const result = await svc(['logs', 'sandbox', '-n', '5']);
      expect(result.stdout).toBe('');
      expect(result.stderr).toBe(
        `svc: error: ${HOST}: ${LOG} is not readable by ${NAME}: svc logs reads it as the service user, never as root\n`,
      );
      expect(result.code).toBe(1);
    });
  });
});

// The same wrapper, on this machine, without a sandbox: run as an unprivileged user (nobody) the
// way every unit runs it, with the log replaced as above, and once in a directory that user does
// not own, where it cannot even set the log aside: then the start fails and nothing is written.
describe.skipIf(process.getuid?.() !== 0)('the log wrapper as an unprivileged user', () => {
  let root = '';
  let dir = '';
  let log = '';
  const NOBODY = { uid: 65534, gid: 65534 };

  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'svc-log-wrapper-'));
    chmodSync(root, 0o755);
  });
  afterAll(() => {
    if (root) rmSync(root, { recursive: true, force: true });
  });

  /** A fresh log directory, owned by nobody (or by root, `ownedByRoot`). */
  function freshDir(ownedByRoot = false): void {
    dir = mkdtempSync(join(root, 'log-'));
    chmodSync(dir, 0o750);
    if (!ownedByRoot) chownSync(dir, NOBODY.uid, NOBODY.gid);
    else chmodSync(dir, 0o755);
    log = join(dir, 'svc.log');
  }

  /** A root-only file with known content; returns its path. */
  function victim(name: string): string {
    const path = join(root, name);
    writeFileSync(path, 'root only\n', { mode: 0o600 });
    return path;
  }

  function runAsNobody(command: string[]) {
    const [file, ...args] = withLog(log, command);
    const result = spawnSync(
      'setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', '--', file!, ...args],
      { encoding: 'utf8', timeout: 10_000 },
    );
    return { code: result.status, stderr: result.stderr };
  }

  const asides = () => readdirSync(dir).filter((name) => name.startsWith('svc.log.unusable-'));
  const expectFreshLog = (text: string) => {
    const stat = lstatSync(log);
    expect(stat.isFile() && stat.uid === NOBODY.uid).toBe(true);
    expect(readFileSync(log, 'utf8')).toContain(text);
  };

  it('a plain start appends the output to the log, created by the user', () => {
    freshDir();
    expect(runAsNobody(['/bin/sh', '-c', 'echo out; echo err >&2'])).toEqual({
      code: 0,
      stderr: '',
    });
    expect(readFileSync(log, 'utf8')).toBe('out\nerr\n');
    expectFreshLog('out');
    expect(runAsNobody(['/bin/echo', 'again']).code).toBe(0);
    expect(readFileSync(log, 'utf8')).toBe('out\nerr\nagain\n');
  });

  it('a link to a root-only file is set aside, not followed', () => {
    freshDir();
    const target = victim('victim');
    symlinkSync(target, log);
    expect(runAsNobody(['/bin/echo', 'hello']).code).toBe(0);
    expect(readFileSync(target, 'utf8')).toBe('root only\n');
    expect(statSync(target).mode & 0o777).toBe(0o600);
    expectFreshLog('hello');
    expect(readFileSync(log, 'utf8')).toMatch(
      /^svc: .*svc\.log set aside as .*svc\.log\.unusable-\d+: /,
    );
    const [aside] = asides();
    expect(readlinkSync(join(dir, aside!))).toBe(target);
  });

  it('a link into a root-only directory creates nothing there', () => {
    freshDir();
    const closed = join(root, 'closed');
    mkdirSync(closed, { mode: 0o700 });
    symlinkSync(join(closed, 'planted'), log);
    expect(runAsNobody(['/bin/echo', 'hello']).code).toBe(0);
    expect(readdirSync(closed)).toEqual([]);
    expectFreshLog('hello');
  });

  it('a root-owned log is set aside unchanged', () => {
    freshDir();
    writeFileSync(log, 'old\n', { mode: 0o644 });
    expect(runAsNobody(['/bin/echo', 'hello']).code).toBe(0);
    expectFreshLog('hello');
    const [aside] = asides();
    expect(readFileSync(join(dir, aside!), 'utf8')).toBe('old\n');
    expect(statSync(join(dir, aside!)).uid).toBe(0);
  });

  it('where the user cannot set it aside, the start fails: nothing written, nothing run', () => {
    freshDir(true);
    const target = victim('victim-2');
    symlinkSync(target, log);
    const open = mkdtempSync(join(root, 'open-'));
    chownSync(open, NOBODY.uid, NOBODY.gid);
    const ran = join(open, 'ran');
    const result = runAsNobody(['/bin/sh', '-c', `echo ran > ${ran}`]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/Permission denied/);
    expect(readFileSync(target, 'utf8')).toBe('root only\n');
    expect(existsSync(ran)).toBe(false);
  });
});
