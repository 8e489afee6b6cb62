// A lifecycle script's shell SIGKILLed on a real sandbox host (core/lifecycle.ts controlScript), as
// the OOM killer or a power cut would end it: nothing can run after that, so whatever the script
// keeps on the host must already be where nothing needs removing. Killed while the init system's
// command runs (monit's stop held 26 s, as a `systemctl stop` waiting out a stop timeout): the
// command's output file is the one the script had then. After: the host's /tmp as it was before,
// the history's directory with nothing of the run but its pending record (by design: the next run
// folds it in), and the next `svc start` leaves the directory as every finished run does.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
const HISTORY = `/var/lib/svc/${NAME}/history`;
const WRAPPER = '/usr/local/sbin/monit';

let sbx: Sandbox | undefined;
let work = '';
let project = '';

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx!.env, HOME: join(work, 'home') });

function onHost(command: string): string {
  const result = sbx!.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

/** Every entry of the host's /tmp, at any depth, with its owner. */
const tmpOnHost = () => onHost("find /tmp -mindepth 1 -printf '%u %p\\n' | sort");

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-lifecycle-sigkill-'));
  project = join(work, NAME);
  execFileSync(SVC, ['new', NAME, '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
  const first = await svc(['deploy', 'sandbox', '--yes']);
  expect(first.code, first.stdout + first.stderr).toBe(0);
}, 300_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe("a lifecycle script's shell SIGKILLed on the host", () => {
  it("during the init system's command: no file of svc's left in /tmp or the history's directory", async () => {
    const before = tmpOnHost();
    // monit's stop, as the script calls it (/usr/local/sbin leads its PATH), says something and
    // blocks for 26 s (its output goes where the script sends it), and does nothing.
    onHost(
      `printf '%s\\n' '#!/bin/sh' '[ "$1" != stop ] || { echo $$ > /run/slow-stop.pid; echo stopping; exec sleep 26; }' 'exec /usr/bin/monit "$@"' > ${WRAPPER} && chmod 755 ${WRAPPER}`,
    );
    const child = spawn(SVC, ['stop', 'sbx-1', '--dir', project], {
      env: { ...sbx!.env, HOME: join(work, 'home'), NO_COLOR: '1', SVC_DEBUG: '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | string | null>((resolve) =>
      child.once('close', (code, signal) => resolve(code ?? signal)),
    );
    try {
      let shell = 0;
      const blocked = await eventually(() => {
        const pending = sbx!.ssh('sbx-1', `ls ${HISTORY} | sed -n 's/^pending\\.//p'`, {
          user: 'root',
        });
        shell = Number(pending.stdout.trim());
        return (
          shell > 0 && sbx!.ssh('sbx-1', 'test -s /run/slow-stop.pid', { user: 'root' }).code === 0
        );
      }, 60);
      expect(blocked, output).toBe(true);
      // The script's shell, and only it: the init system's command goes on.
      onHost(`kill -KILL ${shell}`);
      const code = await Promise.race([
        exited,
        new Promise<string>((resolve) =>
          setTimeout(() => resolve('still running after 20 s'), 20_000),
        ),
      ]);
      expect(code, output).not.toBe(0);
      expect(typeof code, output).toBe('number');
      expect(onHost('kill -0 "$(cat /run/slow-stop.pid)" && echo running').trim()).toBe('running');
      expect(onHost(`kill -0 ${shell} 2>/dev/null && echo alive || echo gone`).trim()).toBe('gone');
      // Nothing of the run's in /tmp (its output file, its script), none in svc's own directory
      // but the pending record that says it was killed.
      expect(tmpOnHost()).toBe(before);
      expect(onHost(`ls -A ${HISTORY}`).split('\n')).toEqual([
        'lock',
        `pending.${shell}`,
        'records',
        '',
      ]);
    } finally {
      child.kill('SIGKILL');
      onHost(
        `rm -f ${WRAPPER}; kill "$(cat /run/slow-stop.pid)" 2>/dev/null; rm -f /run/slow-stop.pid`,
      );
    }
    // The next run folds the pending record in and leaves what every finished run leaves.
    const started = await svc(['start', 'sbx-1']);
    expect(started.code, started.stdout + started.stderr).toBe(0);
    expect(onHost(`ls -A ${HISTORY}`).split('\n')).toEqual(['lock', 'records', '']);
    expect(tmpOnHost()).toBe(before);
  }, 180_000);
});
