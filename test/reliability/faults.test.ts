// Faults during a deploy, on real sandbox hosts (sshd + monit): the connection cut at each step,
// sshd restarted, a full disk, svc or the host's deploy shell SIGKILLed, a slow health check. After
// each, the host must be consistent (the old release serving, or the new one fully switched and
// healthy; whole files in /etc; the lock free; no staging left) and a plain rerun must converge:
// deploy, then `svc plan --detailed-exitcode` says nothing is left to change.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { lockState } from '../helpers/lock.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';
import {
  cutConnections,
  hostAdmin,
  pauseAt,
  reached,
  removePauses,
  restartSshd,
  root,
  setLink,
} from './helpers/faults.js';

const NAME = 'api-orders';
const TOKEN = `faults-${process.pid}`;
let sbx: Sandbox;
let work: string;
let project: string;

const env = () => ({ ...sbx.env, HOME: join(work, 'home') });
const svc = (args: string[]) => runSvc([...args, '--dir', project], env());
const deploy = (target: string, args: string[] = []) =>
  svc(['deploy', target, '--yes', '--json', ...args]);

/**
 * A new version of everything a deploy touches: the release (a VERSION file), the env file svc
 * writes (a value in svc.yaml's env:) and the monit check (a comment: monit reload), so every
 * step runs.
 */
function newVersion(label: string): void {
  writeFileSync(join(project, 'VERSION'), `${label}\n`);
  const manifest = join(project, 'svc.yaml');
  const yaml = readFileSync(manifest, 'utf8').replace(/^env: .*$/m, `env: { VERSION: ${label} }`);
  if (!yaml.includes(`VERSION: ${label}`)) throw new Error('svc.yaml has no one-line env: to edit');
  writeFileSync(manifest, yaml);
  const check = join(project, 'config', 'etc', 'monit', 'conf.d', NAME);
  const text = readFileSync(check, 'utf8').replace(/^# version: .*\n/m, '');
  writeFileSync(check, `${text}# version: ${label}\n`);
}

const current = (host: string) =>
  root(sbx, host, `readlink /var/www/${NAME}/current`).trim().replace('releases/', '');

/** The release the running process was started in (its cwd), or '' when none runs. */
function serving(host: string): string {
  const out = sbx.ssh(
    host,
    `pid=$(cat /run/${NAME}.pid 2>/dev/null) && readlink /proc/$pid/cwd && curl -fsS --max-time 2 http://127.0.0.1:3000/ok`,
    { user: 'root' },
  );
  if (out.code !== 0) return '';
  const [cwd, body] = out.stdout.split('\n');
  return body === 'ok' ? cwd!.replace(`/var/www/${NAME}/releases/`, '') : '';
}

/**
 * The host is consistent: its own deploy script ended (lock free, nothing staged), `current` is
 * one of `allowed` and complete, that release is what serves, /etc files are whole.
 */
async function expectConsistent(host: string, allowed: string[]): Promise<string> {
  expect(await eventually(() => lockState(sbx, host, NAME) === 'free', 90)).toBe(true);
  const now = current(host);
  expect(allowed).toContain(now);
  expect(root(sbx, host, `cat /var/www/${NAME}/releases/${now}/server.js`)).toContain(
    'createServer',
  );
  expect(await eventually(() => serving(host) === now, 30)).toBe(true);
  expect(root(sbx, host, `cat /etc/default/${NAME}`)).toMatch(
    new RegExp(`^TOKEN="?${TOKEN}"?$`, 'm'),
  );
  root(sbx, host, 'monit -t');
  expect(
    root(sbx, host, `ls -a /etc/default /etc/monit/conf.d /var/www/${NAME}/releases`),
  ).not.toMatch(/\.svc-new|\.partial/);
  return now;
}

/** A plain rerun converges: deploy succeeds, then the plan is empty. */
async function expectConverges(host: string): Promise<void> {
  const again = await deploy(host);
  expect(again.code, again.stdout + again.stderr).toBe(0);
  const plan = await svc(['plan', host, '--detailed-exitcode']);
  expect(plan.code, plan.stdout + plan.stderr).toBe(0);
}

/** The release ID a deploy's --json result event reports for the host. */
function resultOf(
  output: string,
  host: string,
): { status?: string; message?: string; release?: string } {
  for (const line of output.split('\n')) {
    if (!line.startsWith('{')) continue;
    const event = JSON.parse(line) as { event: string; host?: string };
    if (event.event === 'result' && event.host === host) return event as never;
  }
  return {};
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 4 });
  work = mkdtempSync(join(tmpdir(), 'svc-faults-'));
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
      'monit',
      '--dir',
      project,
      '--env',
      `TOKEN=${TOKEN}`,
    ],
    { env: { ...process.env, CI: '1' } },
  );
  newVersion('base');
  const first = await deploy('sandbox');
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  for (const host of ['sbx-1', 'sbx-2', 'sbx-3', 'sbx-4']) {
    try {
      setLink(sbx, host, 'up');
    } catch {
      // the sandbox may be gone already
    }
  }
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

interface CutDeploy {
  before: string;
  /** What `current` may point at afterwards: the release before, or the one this deploy made. */
  allowed: string[];
  result: Awaited<ReturnType<typeof deploy>>;
}

/**
 * Deploys a new version to `host`, paused at one step, and calls `cut` there; `heal` (a link
 * brought back up, say) runs before the pause is removed.
 */
async function deployCutAt(
  host: string,
  label: string,
  pause: { command: string; when: string; input?: number },
  cut: () => void,
  heal: () => void = () => undefined,
): Promise<CutDeploy> {
  const before = current(host);
  const releasesBefore = releasesOn(host);
  newVersion(label);
  pauseAt(sbx, host, pause.command, pause.when, 3);
  let result: CutDeploy['result'];
  try {
    const running = deploy(host);
    expect(await reached(sbx, host)).toBe(true);
    cut();
    result = await running;
  } finally {
    heal();
    removePauses(sbx, host, [pause.command]);
  }
  const made = releasesOn(host).filter((id) => !releasesBefore.includes(id));
  return { before, allowed: [before, ...made], result };
}

describe('the SSH connection cut in the middle of each apply step', () => {
  const steps: [string, string, string][] = [
    // The release carries 4 MB that do not compress: the upload is still in flight at the cut.
    ['upload', 'tar', 'case "$*" in *-xzf*) true ;; *) false ;; esac'],
    ['overlay', 'install', 'case "$*" in *.svc-new*) true ;; *) false ;; esac'],
    ['unit install (monit reload)', 'monit', '[ "$1" = reload ]'],
    ['switch of current', 'mv', 'case "$*" in */current) true ;; *) false ;; esac'],
    // Under init: monit the deploy restarts through the launcher, in the background, while the
    // gate polls for the new process: the cut falls in the gate's first poll after it.
    ['restart', 'sleep', '[ "$1" = 0.05 ]'],
    ['health check', 'curl', 'true'],
  ];

  it.each(steps)(
    'cut during %s: the host ends consistent, the lock is free, a rerun converges',
    async (step, command, when) => {
      const host = 'sbx-1';
      const big = join(project, 'big.bin');
      if (step === 'upload') writeFileSync(big, randomBytes(4 << 20));
      try {
        const { before, allowed, result } = await deployCutAt(
          host,
          `cut-${step}`,
          { command, when },
          () => expect(cutConnections(sbx, host)).toBeGreaterThan(0),
        );
        expect(result.code).not.toBe(0);
        expect(resultOf(result.stdout, host).message).toMatch(/connection was lost/);
        // Cut mid-upload, nothing may change; later, the host finishes or undoes on its own.
        await expectConsistent(host, step === 'upload' ? [before] : allowed);
      } finally {
        rmSync(big, { force: true });
      }
      await expectConverges(host);
    },
    120_000,
  );

  it('the network vanishes during the health check: svc gives up within its keepalive, the host finishes alone', async () => {
    const host = 'sbx-2';
    const { allowed, result } = await deployCutAt(
      host,
      'link-down',
      { command: 'curl', when: 'true' },
      () => setLink(sbx, host, 'down'),
      () => setLink(sbx, host, 'up'),
    );
    expect(result.code).not.toBe(0);
    expect(resultOf(result.stdout, host).message).toMatch(/connection was lost/);
    await expectConsistent(host, allowed);
    await expectConverges(host);
    // Mostly wall time (the keepalive's give-up, the host finishing alone): 79-86 s in every CI
    // run, so the backstop is wider than the suite's 120 s.
  }, 180_000);
});

describe('sshd restarted mid-run', () => {
  it('leaves the running deploy alone: it finishes and reports success', async () => {
    const host = 'sbx-1';
    newVersion('sshd-restart');
    pauseAt(sbx, host, 'install', 'case "$*" in *.svc-new*) true ;; *) false ;; esac', 2);
    try {
      const running = deploy(host);
      expect(await reached(sbx, host)).toBe(true);
      restartSshd(sbx, host);
      const result = await running;
      expect(result.code, result.stdout).toBe(0);
      const release = resultOf(result.stdout, host).release!;
      expect(await expectConsistent(host, [release])).toBe(release);
    } finally {
      removePauses(sbx, host, ['install']);
    }
    await expectConverges(host);
  }, 120_000);
});

describe('a full disk', () => {
  it('/var/www full: the copy fails, the previous release serves, nothing partial is left', async () => {
    const host = 'sbx-3';
    const before = current(host);
    const used = Number(root(sbx, host, 'df -k --output=used /var/www | tail -n 1').trim());
    hostAdmin(sbx, host, `mount -o remount,size=${used + 64}k /var/www`);
    writeFileSync(join(project, 'big.bin'), Buffer.alloc(512 * 1024, 7));
    try {
      const result = await deploy(host);
      expect(result.code).not.toBe(0);
      expect(resultOf(result.stdout, host).message).toMatch(/No space left on device/);
      await expectConsistent(host, [before]);
    } finally {
      hostAdmin(sbx, host, 'mount -o remount,size=64m /var/www');
    }
    await expectConverges(host);
    rmSync(join(project, 'big.bin'));
  }, 120_000);

  it('/etc full: the new file cannot be written, the old one stays whole', async () => {
    const host = 'sbx-3';
    // The env file svc writes grows by a long value in svc.yaml's env:.
    const manifest = join(project, 'svc.yaml');
    const original = readFileSync(manifest, 'utf8');
    const grown = original.replace(/^env: \{ (.*) \}$/m, `env: { $1, EXTRA: ${'x'.repeat(8192)} }`);
    expect(grown).not.toBe(original);
    const before = root(sbx, host, `cat /etc/default/${NAME}`);
    const pidBefore = root(sbx, host, `cat /run/${NAME}.pid`);
    // A small filesystem over /etc/default holding what was there, filled to the brim.
    hostAdmin(
      sbx,
      host,
      'cp -a /etc/default /tmp/default.keep && mount -t tmpfs -o size=64k tmpfs /etc/default && cp -a /tmp/default.keep/. /etc/default/ && (dd if=/dev/zero of=/etc/default/filler bs=4k 2>/dev/null || true)',
    );
    writeFileSync(manifest, grown);
    try {
      const result = await deploy(host);
      expect(result.code).not.toBe(0);
      expect(resultOf(result.stdout, host).message).toMatch(/No space left on device/);
      expect(root(sbx, host, `cat /etc/default/${NAME}`)).toBe(before);
      // It failed before anything was (re)started: undo leaves the running release alone.
      expect(root(sbx, host, `cat /run/${NAME}.pid`)).toBe(pidBefore);
      await expectConsistent(host, [current(host)]);
    } finally {
      hostAdmin(sbx, host, 'umount /etc/default && rm -rf /tmp/default.keep');
      writeFileSync(manifest, original);
    }
    await expectConverges(host);
  }, 120_000);
});

describe('SIGKILL', () => {
  it('svc itself killed mid-apply: the host finishes alone and frees the lock', async () => {
    const host = 'sbx-4';
    const before = current(host);
    newVersion('svc-killed');
    // The launcher's start waiting for the new process to listen (it holds the launcher's lock).
    pauseAt(sbx, host, 'sleep', '[ "$1" = 0.1 ] && [ "${SVC_CTL_LOCKED-}" = 1 ]', 3);
    try {
      const child = spawn(SVC, ['deploy', host, '--yes', '--dir', project], {
        env: { ...env(), NO_COLOR: '1' },
        stdio: 'ignore',
      });
      const exited = new Promise((resolve) => child.once('exit', resolve));
      expect(await reached(sbx, host)).toBe(true);
      child.kill('SIGKILL');
      await exited;
      const now = await expectConsistent(host, [before, ...releasesOn(host)]);
      expect(now).not.toBe(before);
    } finally {
      removePauses(sbx, host, ['sleep']);
    }
    await expectConverges(host);
  }, 120_000);

  it("the host's deploy shell killed: the kernel frees the lock, the next deploy warns and converges", async () => {
    const host = 'sbx-4';
    const before = current(host);
    // mktemp's names in /tmp: the deploy's script and its output file go with their names at
    // once, so a SIGKILL (no EXIT trap runs) leaves neither behind.
    const tmpFiles = () =>
      root(sbx, host, "find /tmp -maxdepth 1 '(' -name 'tmp.*' -o -name 'svc-run.*' ')' | sort");
    const tmpBefore = tmpFiles();
    newVersion('shell-killed');
    pauseAt(sbx, host, 'install', 'case "$*" in *.svc-new*) true ;; *) false ;; esac', 3);
    try {
      const running = deploy(host);
      expect(await reached(sbx, host)).toBe(true);
      const note = root(sbx, host, `cat /var/lib/svc/locks/${NAME}.holder`).split('\n')[1]!;
      root(sbx, host, `kill -KILL ${note.split(' ')[0]}`);
      const result = await running;
      expect(result.code).not.toBe(0);
    } finally {
      removePauses(sbx, host, ['install']);
    }
    expect(tmpFiles()).toBe(tmpBefore);
    expect(await eventually(() => lockState(sbx, host, NAME).startsWith('stale'), 30)).toBe(true);
    const again = await deploy(host);
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(resultOf(again.stdout, host).message).toContain('a previous deploy did not finish');
    const now = await expectConsistent(host, releasesOn(host));
    expect(now).not.toBe(before);
    await expectConverges(host);
  }, 120_000);
});

function releasesOn(host: string): string[] {
  return root(sbx, host, `ls /var/www/${NAME}/releases`).trim().split('\n');
}

describe('a health check that answers too slowly', () => {
  it('is a failed health check: rolled back, the previous release serves', async () => {
    const host = 'sbx-2';
    const before = current(host);
    const serverFile = join(project, 'server.js');
    const good = readFileSync(serverFile, 'utf8');
    writeFileSync(
      serverFile,
      good.replace(
        'if (pathname === HEALTH_PATH) {',
        "if (pathname === HEALTH_PATH) { setTimeout(() => { response.writeHead(200); response.end('ok\\n'); }, 5000); return; } if (false) {",
      ),
    );
    try {
      const result = await deploy(host, ['--health-timeout', '4']);
      expect(result.code).not.toBe(0);
      expect(resultOf(result.stdout, host).status).toBe('rolled back');
      expect(resultOf(result.stdout, host).message).toContain(
        'the previous release is serving again',
      );
      await expectConsistent(host, [before]);
    } finally {
      writeFileSync(serverFile, good);
    }
    await expectConverges(host);
  }, 120_000);
});

describe('hosts that do not answer', () => {
  it('a host whose network is gone: the connect timeout names it; the others deploy', async () => {
    newVersion('one-host-gone');
    setLink(sbx, 'sbx-3', 'down');
    try {
      // 8 s: the other hosts' handshakes must finish within it on a slow, busy machine too.
      const result = await deploy('sandbox', ['--connect-timeout', '8']);
      expect(result.code).toBe(1);
      // One line that says what to check (issue 10), not ssh2's words.
      expect(resultOf(result.stdout, 'sbx-3').message).toMatch(
        /^((timed out after 8 s|no route to the host|timed out): is the address right, and the host up\?|the connection closed before the ssh handshake: is the host up, and sshd on that port\?)$/,
      );
      for (const host of ['sbx-1', 'sbx-2', 'sbx-4'])
        expect(resultOf(result.stdout, host).status, result.stdout).toBe('deployed');
    } finally {
      setLink(sbx, 'sbx-3', 'up');
    }
    await expectConverges('sbx-3');
  }, 120_000);

  it('a host whose shell hangs: the command timeout names host and step; the others deploy', async () => {
    newVersion('one-host-hangs');
    root(
      sbx,
      'sbx-2',
      "printf '#!/bin/sh\\nexec sleep 30\\n' > /usr/local/bin/getent && chmod 755 /usr/local/bin/getent",
    );
    try {
      // 8 s: the healthy hosts' facts must come within it on a slow, busy machine too (2 s did
      // not once, with all four hosts gathering at once); sbx-2's hang (30 s) is well past it.
      const result = await deploy('sandbox', ['--command-timeout', '8']);
      expect(result.code).toBe(1);
      expect(resultOf(result.stdout, 'sbx-2').message).toMatch(
        /gathering facts did not finish within 8 s/,
      );
      for (const host of ['sbx-1', 'sbx-3', 'sbx-4'])
        expect(resultOf(result.stdout, host).status, result.stdout).toBe('deployed');
    } finally {
      root(sbx, 'sbx-2', 'rm -f /usr/local/bin/getent');
    }
    await expectConverges('sbx-2');
  }, 120_000);

  it('--max-fail with hosts down: once the budget is spent the rest is not touched', async () => {
    newVersion('max-fail');
    const untouched = current('sbx-4');
    setLink(sbx, 'sbx-1', 'down');
    setLink(sbx, 'sbx-2', 'down');
    try {
      const result = await deploy('sandbox', [
        '--max-fail',
        '1',
        '--parallel',
        '1',
        '--connect-timeout',
        '2',
      ]);
      expect(result.code).toBe(1);
      expect(resultOf(result.stdout, 'sbx-1').status).toBe('failed');
      expect(resultOf(result.stdout, 'sbx-2').status).toBe('failed');
      expect(resultOf(result.stdout, 'sbx-4').status).toBe('skipped');
      expect(current('sbx-4')).toBe(untouched);
    } finally {
      setLink(sbx, 'sbx-1', 'up');
      setLink(sbx, 'sbx-2', 'up');
    }
  }, 120_000);
});
