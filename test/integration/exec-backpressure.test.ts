// `svc exec` without a pty reads the command's stdout through interrupt.ts's pidInterrupt (the pid
// line taken off): a reader slower than the host must still hold the SSH window shut (the channel
// is paused until stdout drains), else svc buffers everything the command prints. Here nobody
// reads svc's stdout while the command prints 300 MB: svc's memory stays bounded (447 MB RSS
// without the pause).
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

const NAME = 'api-orders';
let sbx: Sandbox;
let work = '';
let project = '';
beforeAll(async () => {
  sbx = await startSandbox({ count: 1, user: 'root' });
  work = mkdtempSync(join(tmpdir(), 'svc-exec-backpressure-'));
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

const rssMb = (pid: number) =>
  Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;

it('svc exec without a pty: a stdout nobody reads does not fill svc memory', async () => {
  const child = spawn(
    SVC,
    ['exec', 'sbx-1', '--dir', project, '--', 'head', '-c', '300000000', '/dev/zero'],
    { env: { ...sbx.env, HOME: join(work, 'home') }, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child.stdout.pause();
  try {
    let peak = 0;
    for (let i = 0; i < 20; i++) {
      await new Promise((r) => setTimeout(r, 500));
      peak = Math.max(peak, rssMb(child.pid!));
    }
    console.log(`svc exec RSS peak ${peak.toFixed(0)} MB`);
    expect(peak).toBeLessThan(150);
  } finally {
    child.kill('SIGKILL');
  }
}, 120_000);
