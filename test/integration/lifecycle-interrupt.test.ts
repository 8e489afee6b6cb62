// Ctrl-C (SIGINT to a real `svc stop` / `svc restart`) while the host waits for a slow stop, on
// real sandbox hosts, for both logins: `root` (sshd refuses the SSH signal request, so svc sends
// `kill -INT` to the script's pid, core/interrupt-pid.ts) and `deploy` (sudo -n relays the signal
// request, and the kill comes too: two INTs). Each time: svc exits 130 with one line naming the
// host and the service's state; on the host the script's shell is gone, its pending history
// record folded into a real one (`interrupted`, with that state), the history's lock and the
// deploy lock free, and the init system's action goes on to its end (stopped, or running again
// with a new pid). The service ignores TERM, so its stop takes the whole stop timeout (10 s).
// Also: `svc exec` without a terminal (Ctrl-C reaches the command by its pid, not through a pty),
// and `svc deploy` while a release command runs (on: first and on: every).
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { EXIT } from '../../src/core/errors.js';
import { lockState } from '../helpers/lock.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const HISTORY = `/var/lib/svc/${NAME}/history`;
const LOG = `/var/log/${NAME}/${NAME}.log`;

interface Setup {
  sbx: Sandbox;
  work: string;
  project: string;
}
const setups: Setup[] = [];

/** A server that ignores TERM, stopped with TERM, 10 s, then KILL, everywhere that is written. */
function slowStop(dir: string): void {
  const edit = (path: string, from: string | RegExp, to: string) => {
    const file = join(dir, path);
    const text = readFileSync(file, 'utf8');
    const changed = text.replace(from, to);
    expect(changed).not.toBe(text);
    writeFileSync(file, changed);
  };
  edit(
    'server.js',
    /process\.on\('SIGTERM', \(\) => \{[\s\S]*?\n\}\);/,
    "process.on('SIGTERM', () => log('SIGTERM ignored'));",
  );
  edit('svc.yaml', 'stopTimeout: 30', 'stopTimeout: 10');
  edit(`config/usr/local/lib/svc/${NAME}/ctl`, 'TERM/30/KILL/5', 'TERM/10/KILL/5');
  edit(`config/etc/monit/conf.d/${NAME}`, 'with timeout 40 seconds', 'with timeout 25 seconds');
}

async function setup(user: 'root' | 'deploy'): Promise<Setup> {
  const sbx = await startSandbox({ count: 1, user });
  const work = mkdtempSync(join(tmpdir(), `svc-lifecycle-interrupt-${user}-`));
  const project = join(work, NAME);
  const made = { sbx, work, project };
  setups.push(made);
  execFileSync(SVC, ['new', NAME, '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
  slowStop(project);
  const first = await svcOf(made, ['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
  return made;
}

/** svc.yaml's release: set to this (undefined: none). */
function setRelease(s: Setup, release: object | undefined): void {
  const file = join(s.project, 'svc.yaml');
  const data = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  if (release === undefined) delete data.release;
  else data.release = release;
  writeFileSync(file, stringify(data));
}

const svcOf = (s: Setup, args: string[]) =>
  runSvc([...args, '--dir', s.project], { ...s.sbx.env, HOME: join(s.work, 'home') });

function onHost(s: Setup, command: string): string {
  const result = s.sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

interface HistoryRow {
  action: string;
  result: string;
  reason: string;
}

async function lastRecord(s: Setup): Promise<HistoryRow | undefined> {
  const history = await svcOf(s, ['history', 'sbx-1', '--json']);
  expect(history.code, history.stderr).toBe(0);
  return (JSON.parse(history.stdout) as { records: HistoryRow[] }).records.at(-1);
}

interface Status {
  pid?: number;
  health?: number;
  monit?: string;
}

async function status(s: Setup): Promise<Status> {
  const result = await svcOf(s, ['status', 'sbx-1', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as { hosts: Status[] }).hosts[0]!;
}

/** The service's pid now ('' when stopped), as svc status reads it. */
const servicePid = async (s: Setup) => String((await status(s)).pid ?? '');

/** Running, healthy, and monit with nothing queued (a test before may have left it busy). */
async function settled(s: Setup): Promise<void> {
  let now = await status(s);
  for (let tries = 0; tries < 120 && !(now.health === 200 && now.monit === 'OK'); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    now = await status(s);
  }
  expect(now).toMatchObject({ health: 200, monit: 'OK' });
}

/** The service's pid once `done` says so, or as it is after 40 s. */
async function pidUntil(s: Setup, done: (pid: string) => boolean): Promise<string> {
  let pid = await servicePid(s);
  for (let tries = 0; tries < 80 && !done(pid); tries++) {
    await new Promise((resolve) => setTimeout(resolve, 500));
    pid = await servicePid(s);
  }
  return pid;
}

const terms = (s: Setup) => Number(onHost(s, `grep -c 'SIGTERM ignored' ${LOG} || true`).trim());

/**
 * `svc ACTION sbx-1`, interrupted once the host's script is running (its pending history record
 * names its shell) and the service has been sent TERM. Returns the shell's pid on the host.
 */
async function interruptDuringStop(s: Setup, action: 'stop' | 'restart') {
  const termsBefore = terms(s);
  const child = spawn(SVC, [action, 'sbx-1', '--dir', s.project], {
    env: { ...s.sbx.env, HOME: join(s.work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  );
  let shell = 0;
  try {
    const stopping = await eventually(() => {
      const pending = s.sbx.ssh('sbx-1', `ls ${HISTORY} | sed -n 's/^pending\\.//p'`, {
        user: 'root',
      });
      shell = Number(pending.stdout.trim());
      return shell > 0 && terms(s) > termsBefore;
    }, 60);
    expect(stopping, `the ${action} never began its stop: ${stdout}${stderr}`).toBe(true);
    child.kill('SIGINT');
    // The stop alone would hold svc for 10 s from its TERM (and its wait for 25 s): 8 s leaves a
    // busy machine room for the Ctrl-C path (a second exec, the host's record) and still tells
    // the two apart, with the poll that saw the TERM taking its share of the 10 s.
    const code = await Promise.race([
      exited,
      new Promise<string>((resolve) => setTimeout(() => resolve('still running after 8 s'), 8_000)),
    ]);
    expect(code, stdout + stderr).toBe(EXIT.interrupted);
  } finally {
    child.kill('SIGKILL');
  }
  return { shell, stdout, stderr };
}

/** What an interrupted action leaves: svc's shell gone, its record written, no lock held. */
async function expectSettled(s: Setup, action: string, shell: number) {
  expect(
    onHost(s, `kill -0 ${shell} 2>/dev/null && echo alive || echo gone; ls ${HISTORY}`).split('\n'),
  ).toEqual(['gone', 'lock', 'records', '']);
  expect(
    onHost(s, `flock -n ${HISTORY}/lock true && echo free || echo held`).trim(),
    "the history's lock",
  ).toBe('free');
  expect(lockState(s.sbx, 'sbx-1', NAME)).toBe('free');
  // Nothing of svc's runs on the host: no script of its in /tmp, no shell reading one.
  expect(onHost(s, `ls /tmp | grep '^tmp\\.' || true`).trim()).toBe('');
  const record = await lastRecord(s);
  expect(record).toMatchObject({ action, result: 'interrupted' });
  expect(record!.reason).toMatch(
    new RegExp(
      `^interrupted during the ${action}: the service was (running \\(pid \\d+\\)|stopped)$`,
    ),
  );
  return record!;
}

afterAll(async () => {
  for (const s of setups) {
    await s.sbx.down();
    rmSync(s.work, { recursive: true, force: true });
  }
});

describe.each(['root', 'deploy'] as const)('Ctrl-C on real hosts, login %s', (user) => {
  let s: Setup;
  beforeAll(async () => {
    s = await setup(user);
  }, 300_000);

  it('svc restart: exits 130 with one line; the host records it interrupted and the restart ends', async () => {
    await settled(s);
    const before = await servicePid(s);
    expect(before).toMatch(/^\d+$/);
    const run = await interruptDuringStop(s, 'restart');
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^svc: sbx-1: interrupted during the restart: the service was (running \(pid \d+\)|stopped)\n$/,
    );
    await expectSettled(s, 'restart', run.shell);
    // monit goes on with the restart it was asked for: running again, with a new pid, healthy.
    const now = await pidUntil(s, (pid) => pid !== '' && pid !== before);
    expect(now, `pid ${before} -> ${now}`).not.toMatch(new RegExp(`^(${before})?$`));
    expect(
      await eventually(
        () => s.sbx.ssh('sbx-1', 'curl -fsS http://127.0.0.1:3000/ok', { user: 'root' }).code === 0,
        30,
      ),
    ).toBe(true);
  }, 180_000);

  it('svc stop: exits 130 with one line; the host records it interrupted and the stop ends', async () => {
    await settled(s);
    const run = await interruptDuringStop(s, 'stop');
    expect(run.stdout).toBe('');
    expect(run.stderr).toMatch(
      /^svc: sbx-1: interrupted during the stop: the service was running \(pid \d+\)\n$/,
    );
    await expectSettled(s, 'stop', run.shell);
    expect(await pidUntil(s, (pid) => pid === ''), 'still running after its stop timeout').toBe('');
    // And a start brings it back (monit was left in a state it can act on).
    const started = await svcOf(s, ['start', 'sbx-1']);
    expect(started.code, started.stderr).toBe(0);
  }, 180_000);

  it("svc stop while the init system's command blocks: 130 within seconds, recorded interrupted", async () => {
    await settled(s);
    // monit's stop, as the script calls it (/usr/local/sbin leads its PATH), blocks for 26 s
    // and does nothing: a `systemctl stop` waiting out a stop timeout.
    const wrapper = '/usr/local/sbin/monit';
    onHost(
      s,
      `printf '%s\\n' '#!/bin/sh' '[ "$1" != stop ] || { echo $$ > /run/slow-stop.pid; exec sleep 26; }' 'exec /usr/bin/monit "$@"' > ${wrapper} && chmod 755 ${wrapper}`,
    );
    const child = spawn(SVC, ['stop', 'sbx-1', '--dir', s.project], {
      env: { ...s.sbx.env, HOME: join(s.work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('close', (code, signal) => resolve(code ?? signal)),
    );
    let shell = 0;
    try {
      const blocked = await eventually(() => {
        const pending = s.sbx.ssh('sbx-1', `ls ${HISTORY} | sed -n 's/^pending\\.//p'`, {
          user: 'root',
        });
        shell = Number(pending.stdout.trim());
        return (
          shell > 0 && s.sbx.ssh('sbx-1', 'test -s /run/slow-stop.pid', { user: 'root' }).code === 0
        );
      }, 60);
      expect(blocked, stderr).toBe(true);
      child.kill('SIGINT');
      // Waiting out the blocked command would take 26 s.
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running after 20 s'), 20_000),
        ),
      ]);
      expect(code, stderr).toBe(EXIT.interrupted);
      expect(stderr).toMatch(
        /^svc: sbx-1: interrupted during the stop: the service was running \(pid \d+\)\n$/,
      );
      await expectSettled(s, 'stop', shell);
      // The init system's command was not cut short: it goes on to its end.
      expect(onHost(s, 'kill -0 "$(cat /run/slow-stop.pid)" && echo running').trim()).toBe(
        'running',
      );
    } finally {
      child.kill('SIGKILL');
      onHost(
        s,
        `rm -f ${wrapper}; kill "$(cat /run/slow-stop.pid)" 2>/dev/null; rm -f /run/slow-stop.pid`,
      );
    }
  }, 120_000);

  it('svc exec without a terminal: Ctrl-C ends the command on the host, svc exits with its 130', async () => {
    // No terminal on stdin, so no pty: Ctrl-C cannot go through one.
    const child = spawn(
      SVC,
      ['exec', 'sbx-1', '--dir', s.project, '--', 'sh', '-c', 'echo started; exec sleep 67'],
      {
        env: { ...s.sbx.env, HOME: join(s.work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('close', (code, signal) => resolve(code ?? signal)),
    );
    try {
      const started = await eventually(() => output.includes('started\n'), 60);
      expect(started, output).toBe(true);
      child.kill('SIGINT');
      // The command alone would run for 67 s.
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running after 20 s'), 20_000),
        ),
      ]);
      expect(code, output).toBe(EXIT.interrupted);
    } finally {
      child.kill('SIGKILL');
    }
    // Only what the command printed: the pid line svc reads is not the command's output.
    expect(output).toBe('started\n');
    expect(onHost(s, "pgrep -f '^sleep 67$' || echo none").trim()).toBe('none');
    expect(onHost(s, `ls /tmp | grep '^tmp\\.' || true`).trim()).toBe('');
  }, 120_000);

  // svc deploy's own path (deploy-interrupt.test.ts), here while a release command runs: before
  // any host changes (on: first, the release phase) and inside each host's deploy (on: every).
  it.each(['first', 'every'])(
    'svc deploy during a release command (on: %s): exits 130, the command ended, nothing switched',
    async (on) => {
      const current = onHost(s, `readlink /var/www/${NAME}/current`);
      setRelease(s, { run: [['/bin/sh', '-c', 'exec sleep 68']], on });
      writeFileSync(join(s.project, 'VERSION'), `${on}\n`);
      try {
        const child = spawn(SVC, ['deploy', 'sbx-1', '--yes', '--dir', s.project], {
          env: { ...s.sbx.env, HOME: join(s.work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
          stdio: ['ignore', 'pipe', 'pipe'],
        });
        let output = '';
        child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
        child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
        const exited = new Promise<number | string | null>((resolve) =>
          child.once('close', (code, signal) => resolve(code ?? signal)),
        );
        try {
          const running = await eventually(
            () => s.sbx.ssh('sbx-1', "pgrep -f '^sleep 68$'", { user: 'root' }).code === 0,
            90,
          );
          expect(running, output).toBe(true);
          child.kill('SIGINT');
          const code = await Promise.race([
            exited,
            new Promise<string>((resolve) =>
              setTimeout(() => resolve('still running after 15 s'), 15_000),
            ),
          ]);
          expect(code, output).toBe(EXIT.interrupted);
        } finally {
          child.kill('SIGKILL');
        }
        expect(onHost(s, "pgrep -f '^sleep 68$' || echo none").trim()).toBe('none');
        expect(onHost(s, `readlink /var/www/${NAME}/current`)).toBe(current);
        expect(lockState(s.sbx, 'sbx-1', NAME)).toBe('free');
        expect(onHost(s, `ls ${HISTORY}`).split('\n')).toEqual(['lock', 'records', '']);
        expect(await lastRecord(s)).toMatchObject({ action: 'deploy', result: 'interrupted' });
      } finally {
        setRelease(s, undefined);
      }
    },
    120_000,
  );
});
