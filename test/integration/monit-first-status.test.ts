// Right after a first deploy under init: monit, `svc status` must not show monit's alarming
// "Does not exist": monit checked the service (in the cycle its reload began) before the deploy
// started the process, and would say so until its next cycle. The deploy makes monit look again
// before it reports the host deployed.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;

const svcIn = (project: string, args: string[]) =>
  runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-monit-status-'));
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('svc status right after a first monit deploy', () => {
  it.each([
    ['api-one', '9101'],
    ['api-two', '9102'],
    ['api-three', '9103'],
  ])(
    '%s: monit already knows the process is running',
    async (name, port) => {
      const project = join(work, name);
      execFileSync(
        SVC,
        [
          'new',
          name,
          '--init',
          'monit',
          '--port',
          port,
          '--yes',
          '--cutover',
          'restart',
          '--dir',
          project,
        ],
        {
          env: { ...process.env, CI: '1' },
        },
      );
      const deploy = await svcIn(project, ['deploy', 'sandbox', '--yes']);
      expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
      const status = await svcIn(project, ['status', 'sandbox', '--json']);
      expect(status.code, status.stderr).toBe(0);
      const [host] = JSON.parse(status.stdout).hosts as { running: boolean; monit?: string }[];
      expect(host?.running).toBe(true);
      expect(host?.monit).toBe('OK');
    },
    120_000,
  );
});
