// The lifecycle commands on a real sandbox host (init: monit): status, stop with killproc
// semantics on a process that ignores TERM, start, restart, logs, releases, rollback, unlock.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { holdLock, lockState } from '../helpers/lock.js';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const svc = (args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });

function onHost(command: string): string {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

interface Status {
  hosts: {
    host: string;
    release: string;
    running: boolean;
    pid?: number;
    health?: number;
    monit?: string;
  }[];
}

async function status() {
  const result = await svc(['status', 'sandbox', '--json']);
  expect(result.code, result.stderr).toBe(0);
  return (JSON.parse(result.stdout) as Status).hosts[0]!;
}

/** A project whose server ignores TERM, with a 3 s stop timeout everywhere it is written down. */
function ignoreTerm(dir: string): void {
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
  edit('svc.yaml', 'stopTimeout: 30', 'stopTimeout: 3');
  edit('config/usr/local/lib/svc/api-orders/ctl', 'TERM/30/KILL/5', 'TERM/3/KILL/5');
  edit('config/etc/monit/conf.d/api-orders', 'with timeout 40 seconds', 'with timeout 13 seconds');
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-lifecycle-'));
  project = join(work, 'api-orders');
  execFileSync(SVC, ['new', 'api-orders', '--yes', '--init', 'monit', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
  ignoreTerm(project);
  const deployed = await svc(['deploy', 'sandbox', '--yes']);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('lifecycle', () => {
  it('status shows the release, pid, health and monit', async () => {
    // The deploy ends once /ok answers; monit may still be finishing its start program then
    // (ctl start checks the process is alive 2 s after starting it): a "pending" state is
    // transient, so give monit a few seconds to settle.
    let host = await status();
    for (let tries = 0; tries < 20 && host.monit !== 'OK'; tries++) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      host = await status();
    }
    expect(host).toMatchObject({ host: 'sbx-1', running: true, health: 200, monit: 'OK' });
    expect(host.release).toMatch(/^[0-9a-f]{12}$/);
    const text = await svc(['status', 'sandbox']);
    expect(text.stdout).toMatch(
      /^HOST +RELEASE +STATE +PID +UPTIME +HEALTH +MONIT\nsbx-1 +[0-9a-f]{12} +running +\d+ /,
    );
  });

  it('stop ends a process that ignores TERM: TERM, the stop timeout, then KILL', async () => {
    const { pid } = await status();
    const stopped = await svc(['stop', 'sandbox']);
    expect(stopped.code, stopped.stderr).toBe(0);
    expect(stopped.stdout).toBe('sbx-1: stopped\n');
    expect(sbx.ssh('sbx-1', `kill -0 ${pid}`, { user: 'root' }).code).not.toBe(0);
    expect(onHost('tail -n 5 /var/log/api-orders/api-orders.log')).toContain('SIGTERM ignored');
    expect(await status()).toMatchObject({ running: false, health: 0 });
  }, 60_000);

  it('start and restart bring it back, restart with a new pid', async () => {
    const started = await svc(['start', 'sandbox']);
    expect(started.code, started.stderr).toBe(0);
    expect(started.stdout).toMatch(/^sbx-1: running \(pid \d+\)\n$/);
    const before = (await status()).pid;
    const restarted = await svc(['restart', 'sandbox']);
    expect(restarted.code, restarted.stderr).toBe(0);
    expect((await status()).pid).not.toBe(before);
  }, 60_000);

  it('logs shows the last lines of the service log', async () => {
    const logs = await svc(['logs', 'sandbox', '-n', '3']);
    expect(logs.code).toBe(0);
    const lines = logs.stdout.trim().split('\n');
    expect(lines).toHaveLength(3);
    for (const line of lines) expect(line).toMatch(/^sbx-1 \| /);
  });

  it('rollback returns to the previous good release and serves it; with none it refuses', async () => {
    const refused = await svc(['rollback', 'sandbox', '--yes']);
    expect(refused.code).toBe(1);
    expect(refused.stdout).toContain('no previous good release to roll back to');
    const first = (await status()).release;
    writeFileSync(join(project, 'VERSION'), 'two\n');
    expect((await svc(['deploy', 'sandbox', '--yes'])).code).toBe(0);
    const second = (await status()).release;
    expect(second).not.toBe(first);
    const back = await svc(['rollback', 'sandbox', '--yes']);
    expect(back.code, back.stdout).toBe(0);
    const host = await status();
    expect(host).toMatchObject({ release: first, running: true, health: 200 });
    const releases = await svc(['releases', 'sandbox']);
    expect(releases.stdout).toContain(`* ${first}  good`);
    expect(releases.stdout).toContain(`  ${second}  good`);
  }, 90_000);

  it("unlock names a running holder, stops it only with --force, and clears a killed one's note", async () => {
    const held = await holdLock(
      sbx,
      'sbx-1',
      'api-orders',
      '{"who":"ops@elsewhere","pid":1,"command":"svc deploy"}',
    );
    try {
      const refused = await svc(['unlock', 'sandbox']);
      expect(refused.code).toBe(1);
      expect(refused.stderr).toContain(
        `sbx-1: locked by ops@elsewhere (pid 1: svc deploy), whose deploy is still running on the host as pid ${held.hostPid}; pass --force to stop it (it undoes its changes)`,
      );
      expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('held');
      const forced = await svc(['unlock', 'sandbox', '--force']);
      expect(forced.stdout).toBe(
        'sbx-1: stopped the deploy of ops@elsewhere (pid 1: svc deploy); the lock is free\n',
      );
    } finally {
      await held.release();
    }
    // The TERMed shell never removed its note: that is what a killed deploy leaves.
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('stale');
    const cleared = await svc(['unlock', 'sandbox']);
    expect(cleared.stdout).toBe(
      'sbx-1: not locked (removed the note of a deploy that was killed before it finished)\n',
    );
    expect(lockState(sbx, 'sbx-1', 'api-orders')).toBe('free');
  });
});
