// `svc unlock --force`: a Ctrl-C that comes while svc reads the lock must keep svc from then
// running the stop script, which would TERM the deploy that holds the lock (its undo runs) before
// the kill -INT by pid reaches it. Ctrl-C before the stop was asked leaves the deploy alone.
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
/** A base64 ahead of the real one on the host's PATH, for the test below. */
const SHIM = '/usr/local/bin/base64';
let sbx: Sandbox;
let work = '';
let project = '';
const env = () => ({ ...sbx.env, HOME: join(work, 'home'), CI: '1', NO_COLOR: '1' });
beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-unlock-interrupt-'));
  project = join(work, NAME);
  const made = await runSvc(['new', NAME, '--yes', '--init', 'monit', '--dir', project], env());
  expect(made.code, made.stderr).toBe(0);
  const deployed = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], env());
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 300_000);
afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('svc unlock --force: Ctrl-C while the lock is read leaves the deploy that holds it alone', async () => {
  const file = join(project, 'svc.yaml');
  const data = parse(readFileSync(file, 'utf8')) as Record<string, unknown>;
  data.release = { run: [['/bin/sh', '-c', 'exec sleep 69']], on: 'every' };
  writeFileSync(file, stringify(data));
  writeFileSync(join(project, 'VERSION'), 'two\n');
  const deploy = spawn(SVC, ['deploy', 'sbx-1', '--yes', '--dir', project], {
    env: env(),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let deployOut = '';
  deploy.stdout.on('data', (c: Buffer) => (deployOut += c.toString()));
  deploy.stderr.on('data', (c: Buffer) => (deployOut += c.toString()));
  try {
    const running = await eventually(
      () => sbx.ssh('sbx-1', "pgrep -f '^sleep 69$'", { user: 'root' }).code === 0,
      90,
    );
    expect(running, deployOut).toBe(true);
    // The read made slow on the host (base64, which it pipes the holder note through, waits 3 s
    // first), so the Ctrl-C below surely comes while it runs: otherwise a busy test worker could
    // send it only after svc had gone on to stop the holder.
    const shim = sbx.ssh(
      'sbx-1',
      `printf '#!/bin/sh\\nsleep 3\\nexec /usr/bin/base64 "$@"\\n' > ${SHIM} && chmod 0755 ${SHIM} && command -v base64`,
      { user: 'root' },
    );
    expect(shim.stdout.trim(), shim.stderr).toBe(SHIM);
    const unlock = spawn(SVC, ['unlock', 'sbx-1', '--force', '--dir', project], {
      env: { ...env(), SVC_TRACE_SSH: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let pressed = false;
    unlock.stdout.on('data', (c: Buffer) => (out += c.toString()));
    unlock.stderr.on('data', (c: Buffer) => {
      out += c.toString();
      // The lock is being read: the person presses Ctrl-C now (once), before any stop was asked.
      if (!pressed && out.includes('exec reading the lock')) {
        pressed = true;
        unlock.kill('SIGINT');
      }
    });
    const code = await new Promise((r) =>
      unlock.once('close', (exit, signal) => r(exit ?? signal)),
    );
    expect(code, out).toBe(130);
    expect(out).toContain('svc: sbx-1: interrupted before the stop was asked: its deploy goes on');
    await new Promise((r) => setTimeout(r, 2000));
    // The deploy's release command must still run: nobody asked for it to stop.
    const still = sbx.ssh('sbx-1', "pgrep -f '^sleep 69$'", { user: 'root' }).code === 0;
    expect(still, `unlock said:\n${out}\ndeploy said:\n${deployOut}`).toBe(true);
    // Nor was a stop script begun after the Ctrl-C: on loopback its kill -INT wins the race
    // against `kill -TERM` of the deploy, but the host keeps an 'unlock' record of it; over a
    // slower link the stop script reaches the TERM first (hist_begin is ~10 processes, the
    // kill needs the pid line's round trip and a second exec).
    const history = sbx.ssh('sbx-1', `cat /var/lib/svc/${NAME}/history/records`, { user: 'root' });
    expect(history.stdout).not.toMatch(/\tunlock\t/);
    expect(out).not.toContain('exec stopping the lock holder');
  } finally {
    deploy.kill('SIGKILL');
    sbx.ssh('sbx-1', `rm -f ${SHIM}`, { user: 'root' });
  }
}, 180_000);
