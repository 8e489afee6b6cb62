// A first deploy that crashes at once, on a host booting real systemd (systemd-nspawn), with the
// scaffold's defaults (init: systemd and a monit check): the undo stops the service while its
// unit still exists, so nothing of it is left: no process, no unit (nor its enablement), no monit
// check, no config files, and svc's message says so (issue 9, point 8).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;

beforeAll(async () => {
  sbx = await startSandbox({ count: 1, systemd: true });
  work = mkdtempSync(join(tmpdir(), 'svc-first-systemd-'));
}, 180_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

const tryOnHost = (command: string) => sbx.ssh('sbx-1', command, { user: 'root' });

describe('a crashing first deploy on systemd', () => {
  it('leaves no process, no unit, no monit check and no files, and says so', async () => {
    const project = join(work, 'api-crash');
    execFileSync(SVC, ['new', 'api-crash', '--yes', '--cutover', 'restart', '--dir', project], {
      env: { ...process.env, CI: '1' },
    });
    const server = join(project, 'server.js');
    writeFileSync(server, `process.exit(1);\n${readFileSync(server, 'utf8')}`);
    const result = await runSvc(
      ['deploy', 'sandbox', '--yes', '--dir', project, '--health-timeout', '8'],
      { ...sbx.env, HOME: join(work, 'home') },
    );
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/sbx-1 +rolled back/);
    expect(result.stdout).toContain(
      'there was no previous release: the service was stopped and its unit, check and files removed',
    );
    for (const path of [
      '/etc/systemd/system/api-crash.service',
      '/etc/systemd/system/multi-user.target.wants/api-crash.service',
      '/etc/monit/conf.d/api-crash',
      '/etc/default/api-crash',
    ])
      expect(tryOnHost(`test -e ${path} || test -L ${path}`).code, path).not.toBe(0);
    const gone = () =>
      tryOnHost('ps -o pid= -u api-crash').stdout.trim() === '' &&
      tryOnHost('monit summary api-crash').code !== 0 &&
      // systemd forgot the unit: not loaded, not restarting it.
      /^(inactive|failed|unknown)?$/.test(
        tryOnHost('systemctl is-active api-crash').stdout.trim(),
      ) &&
      tryOnHost('systemctl show -p LoadState --value api-crash').stdout.trim() === 'not-found';
    expect(await eventually(gone, 20)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 5000));
    expect(gone()).toBe(true);
  }, 180_000);
});
