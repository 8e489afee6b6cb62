// REVIEW10 finding 1 (demonstration, not a fix): `svc exec` over several hosts: a Ctrl-C that
// comes before a host's session opened (a later host under --parallel, or one still connecting)
// never reaches its command. ssh-session.ts adds the abort listener only (run() also handles a
// signal already aborted), and runExec starts the remaining hosts anyway; a second Ctrl-C does
// nothing. README: "Ctrl-C still reaches the command on every host".
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let sbx: Sandbox;
let work = '';
let project = '';
beforeAll(async () => {
  sbx = await startSandbox({ count: 2, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-review10-'));
  project = join(work, NAME);
  const env = { ...sbx.env, HOME: join(work, 'home'), CI: '1' };
  const made = await runSvc(['new', NAME, '--yes', '--init', 'monit', '--dir', project], env);
  expect(made.code, made.stderr).toBe(0);
  const deployed = await runSvc(['deploy', 'sandbox', '--yes', '--dir', project], env);
  expect(deployed.code, deployed.stdout + deployed.stderr).toBe(0);
}, 300_000);
afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

it('svc exec --parallel 1: Ctrl-C during the first host, no later host runs its command to the end', async () => {
  const child = spawn(
    SVC,
    [
      'exec',
      'sandbox',
      '--parallel',
      '1',
      '--dir',
      project,
      '--',
      'sh',
      '-c',
      'echo started; exec sleep 20',
    ],
    { env: { ...sbx.env, HOME: join(work, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  );
  try {
    expect(await eventually(() => output.includes('started'), 60), output).toBe(true);
    child.kill('SIGINT');
    const code = await Promise.race([
      exited,
      new Promise<string>((r) => setTimeout(() => r('still running after 8 s'), 8_000)),
    ]);
    expect(code, output).not.toBe('still running after 8 s');
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);
