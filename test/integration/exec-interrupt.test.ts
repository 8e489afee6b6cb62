// `svc exec` without a pty, Ctrl-C: a host not begun yet (a later one under --parallel, or one
// still connecting) is not begun at all, and one whose session opens just as Ctrl-C comes is
// interrupted (ssh-session.ts handles a signal already aborted, as run() does); the kill reaches
// the command's whole process group, so a pipeline (sh -c 'a | b') ends too, not only its shell.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { LEAVING_LINE } from '../../src/remote/ctrl-c.js';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let sbx: Sandbox;
let work = '';
let project = '';
beforeAll(async () => {
  sbx = await startSandbox({ count: 2, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-exec-interrupt-'));
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

/** `svc exec ARGS` running: what it printed so far (stdout and stderr), and how it ended. */
function startExec(args: string[]) {
  const child = spawn(SVC, ['exec', ...args], {
    env: { ...sbx.env, HOME: join(work, 'home') },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | string | null>((resolve) =>
    child.once('close', (code, signal) => resolve(code ?? signal)),
  );
  return { child, exited, output: () => output };
}

/** How it ended, or `still running after N s`. */
const endedWithin = (exited: Promise<number | string | null>, seconds: number) =>
  Promise.race([
    exited,
    new Promise<string>((r) =>
      setTimeout(() => r(`still running after ${seconds} s`), seconds * 1000),
    ),
  ]);

it('svc exec --parallel 1: Ctrl-C during the first host, no later host runs its command to the end', async () => {
  const run = startExec([
    'sandbox',
    '--parallel',
    '1',
    '--dir',
    project,
    '--',
    'sh',
    '-c',
    'echo started; exec sleep 20',
  ]);
  try {
    expect(await eventually(() => run.output().includes('started'), 60), run.output()).toBe(true);
    run.child.kill('SIGINT');
    expect(await endedWithin(run.exited, 8), run.output()).toBe(130);
    expect(run.output()).toContain('svc: sbx-2: not started: interrupted');
  } finally {
    run.child.kill('SIGKILL');
  }
}, 120_000);

it('svc exec of a pipeline: Ctrl-C ends it on the host and svc', async () => {
  const run = startExec([
    'sbx-1',
    '--dir',
    project,
    '--',
    'sh',
    '-c',
    'echo started; sleep 21 | cat',
  ]);
  try {
    expect(await eventually(() => run.output().includes('started'), 60), run.output()).toBe(true);
    run.child.kill('SIGINT');
    expect(await endedWithin(run.exited, 8), run.output()).not.toBe('still running after 8 s');
    expect(
      sbx.ssh('sbx-1', "pgrep -f '^sleep 21$' || echo none", { user: 'root' }).stdout.trim(),
    ).toBe('none');
  } finally {
    run.child.kill('SIGKILL');
  }
}, 120_000);

it('a second Ctrl-C leaves at once, with one line, when the first cannot end the command', async () => {
  // The command's first process is gone and a child it left holds the output open: the first
  // Ctrl-C's kill finds no process to reach (its pid is gone), so svc would wait for the child.
  const run = startExec(['sbx-1', '--dir', project, '--', 'sh', '-c', 'sleep 47 & echo started']);
  try {
    expect(await eventually(() => run.output().includes('started'), 60), run.output()).toBe(true);
    run.child.kill('SIGINT');
    await new Promise((resolve) => setTimeout(resolve, 1000));
    run.child.kill('SIGINT');
    expect(await endedWithin(run.exited, 15), run.output()).toBe(130);
    expect(run.output()).toContain(`${LEAVING_LINE}\n`);
  } finally {
    // The host's `sleep 47` ends with the sandbox (afterAll).
    run.child.kill('SIGKILL');
  }
}, 120_000);
