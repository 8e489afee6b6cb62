// REVIEW10 finding 4 (demonstration, not a fix): `svc exec` without a pty sends Ctrl-C as
// `kill -INT` of one pid (the command's top process): a command that is a pipeline or starts
// children (sh -c 'a | b') loses only its shell; the rest keeps the channel's stdout open, so the
// command goes on on the host and svc keeps waiting. With a pty the terminal's Ctrl-C reaches
// the whole foreground process group.
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
  sbx = await startSandbox({ count: 1, user: 'root' });
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

it('svc exec of a pipeline: Ctrl-C ends it on the host and svc', async () => {
  const child = spawn(
    SVC,
    ['exec', 'sbx-1', '--dir', project, '--', 'sh', '-c', 'echo started; sleep 21 | cat'],
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
    expect(
      sbx.ssh('sbx-1', "pgrep -f '^sleep 21$' || echo none", { user: 'root' }).stdout.trim(),
    ).toBe('none');
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);
