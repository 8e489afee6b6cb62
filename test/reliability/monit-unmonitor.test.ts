// Real monit (the binary the sandbox hosts run), its own daemon here with a private control file
// and socket, watching a process this test started. A deploy under monit must not end with an
// action still queued in monit, so slot_unwatched (cutover-script.ts) waits after `monit
// unmonitor`: it does so as slot_settled does, until monit has no action pending. That wait is
// right only because monit, once `monit unmonitor` has returned, already says the unmonitor is
// pending ("OK - unmonitor pending") or done ("Not monitored"), never the state from before:
// checked here first, then slot_unwatched itself.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SLOT_GONE } from '../../src/core/cutover-script.js';

const CHECK = 'api-orders-a';
const ROUNDS = 25;

let dir: string;
let rc: string;
let bin: string;
let sleeper: ChildProcess | undefined;

/** `monit` with this test's control file, as the shell functions call it. */
function monit(...args: string[]): { code: number; out: string } {
  const result = spawnSync(join(bin, 'monit'), args, { encoding: 'utf8' });
  return { code: result.status ?? -1, out: result.stdout + result.stderr };
}

/** The `status` line of `monit status CHECK`: what slot_settled and slot_unwatched read. */
function status(): string {
  const line = monit('status', CHECK).out.match(/^ {2}status +(.*)$/m);
  expect(line, 'monit status has a status line').not.toBeNull();
  return line![1]!;
}

/** Waits (5 s at most) until monit says `want` for the check with nothing pending. */
async function settle(want: string): Promise<void> {
  for (let i = 0; i < 100 && status() !== want; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  expect(status()).toBe(want);
}

/** Runs sh with the cutover script's monit functions, against this test's monit. */
function sh(script: string): { code: number; stderr: string } {
  const result = spawnSync('sh', ['-c', `${SLOT_GONE}\n${script}`], {
    env: { PATH: `${bin}:${process.env.PATH}` },
    encoding: 'utf8',
  });
  return { code: result.status ?? -1, stderr: result.stderr };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'svc-monit-'));
  bin = join(dir, 'bin');
  mkdirSync(bin);
  const real = execFileSync('sh', ['-c', 'command -v monit'], { encoding: 'utf8' }).trim();
  expect(real, 'monit is installed').not.toBe('');
  sleeper = spawn('sleep', ['600'], { stdio: 'ignore' });
  const pidfile = join(dir, 'slot.pid');
  writeFileSync(pidfile, `${sleeper.pid}\n`);
  rc = join(dir, 'monitrc');
  // A 1 s cycle, as busy as monit gets: an action then often lands while a cycle runs.
  writeFileSync(
    rc,
    [
      'set daemon 1',
      `set log ${join(dir, 'log')}`,
      `set pidfile ${join(dir, 'monit.pid')}`,
      `set idfile ${join(dir, 'id')}`,
      `set statefile ${join(dir, 'state')}`,
      `set httpd unixsocket ${join(dir, 'sock')}`,
      '  allow localhost',
      `check process ${CHECK} with pidfile ${pidfile}`,
      '  start program = "/bin/true"',
      '  stop program = "/bin/true"',
      '',
    ].join('\n'),
  );
  // monit refuses a control file that anyone but its owner can read.
  chmodSync(rc, 0o600);
  writeFileSync(join(bin, 'monit'), `#!/bin/sh\nexec '${real}' -c '${rc}' "$@"\n`);
  chmodSync(join(bin, 'monit'), 0o755);
  const started = monit();
  expect(started.code, started.out).toBe(0);
  for (let i = 0; i < 100 && monit('status', CHECK).code !== 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 50));
  await settle('OK');
});

afterAll(() => {
  if (rc) monit('quit');
  sleeper?.kill('SIGKILL');
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('monit unmonitor (real monit)', () => {
  it(`right after it returns, monit says it is pending or done, never the old OK (${ROUNDS} rounds)`, async () => {
    const seen = new Set<string>();
    for (let round = 0; round < ROUNDS; round++) {
      const asked = monit('unmonitor', CHECK);
      expect(asked.code, asked.out).toBe(0);
      const now = status();
      seen.add(now);
      expect(now).toMatch(/^(.* pending|Not monitored)$/);
      await settle('Not monitored');
      expect(monit('monitor', CHECK).code).toBe(0);
      await settle('OK');
    }
    console.info(`monit status right after unmonitor: ${[...seen].join(', ')}`);
  });

  it(`slot_unwatched returns once monit says Not monitored, nothing pending (${ROUNDS} rounds)`, async () => {
    for (let round = 0; round < ROUNDS; round++) {
      // Every other round a monitor is still queued: monit refuses the unmonitor until it is done
      // ("try again later") and slot_monit asks again.
      const queued = round % 2 === 1 ? `monit monitor ${CHECK} && ` : '';
      const result = sh(`${queued}slot_unwatched ${CHECK}`);
      expect(result.code, result.stderr).toBe(0);
      expect(status()).toBe('Not monitored');
      expect(monit('monitor', CHECK).code).toBe(0);
      await settle('OK');
    }
  });
});
