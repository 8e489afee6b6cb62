// A node www- site from before the nginx front (no appPort: the process itself on `port`) upgraded
// to one behind nginx (appPort), on a real sandbox host. The upgrade's release crashes, so the host
// rolls back: nginx must let go of `port` before the previous release starts on it again, and the
// rollback's gate must ask the previous release where it listens (`port`), not the new appPort.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const deploy = (flags: string[] = []) =>
  runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...flags], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-front-rollback-'));
  project = join(work, 'www-shop');
  execFileSync(
    SVC,
    [
      'new',
      'www-shop',
      '--runtime',
      'node',
      '--init',
      'monit',
      '--yes',
      '--cutover',
      'restart',
      '--dir',
      project,
    ],
    { env: { ...process.env, CI: '1' } },
  );
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('rolling back an upgrade that puts nginx in front of a node www- site', () => {
  it('the previous release serves on its own port again, and is reported healthy', async () => {
    const manifest = join(project, 'svc.yaml');
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const check = join(project, 'config', 'etc', 'monit', 'conf.d', 'www-shop');
    const server = join(project, 'server.js');
    const paths = [manifest, site, check, server];
    const [withFront, siteText, checkText, goodServer] = paths.map((path) =>
      readFileSync(path, 'utf8'),
    ) as [string, string, string, string];
    // Before the front: no appPort, no nginx site; the process listens on port 8080 itself (svc
    // writes the env file: PORT=8080 without appPort, HOST=127.0.0.1 and PORT=18080 with it).
    writeFileSync(manifest, withFront.replace(/^appPort:.*\n/m, ''));
    unlinkSync(site);
    writeFileSync(check, checkText.replaceAll('port 18080', 'port 8080'));
    const before = await deploy();
    expect(before.code, before.stdout + before.stderr).toBe(0);
    const direct = sbx.ssh('sbx-1', "curl -s -D - http://127.0.0.1:8080/ok | grep -ci '^server:'", {
      user: 'root',
    });
    expect(direct.stdout.trim(), 'node answers on 8080 itself (no Server header)').toBe('0');

    // The upgrade: appPort and the front, with a release that exits at once.
    writeFileSync(manifest, withFront);
    writeFileSync(site, siteText);
    writeFileSync(check, checkText);
    writeFileSync(server, `process.exit(3);\n${goodServer}`);
    const result = await deploy(['--health-timeout', '5']);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toMatch(/sbx-1 +rolled back/);
    expect(result.stdout + result.stderr).toContain('is live and healthy');
    expect(result.stdout + result.stderr).not.toContain('NOT healthy');
    // Served at once by the previous release, on its own port, nginx out of the way.
    const now = sbx.ssh(
      'sbx-1',
      "curl -s -w ' %{http_code}' http://127.0.0.1:8080/ok; ls /etc/nginx/sites-enabled",
      { user: 'root' },
    );
    expect(now.stdout).toBe('ok\n 200default\n');
  }, 180_000);

  it('the site put back that nginx -t refuses (a broken file beside it) is not reloaded, and the undo says so', async () => {
    // The host as the rollback above left it; the same upgrade again (its release still exits).
    sbx.ssh('sbx-1', 'echo "this is not nginx;" > /etc/nginx/conf.d/broken.conf', { user: 'root' });
    try {
      const result = await deploy(['--health-timeout', '5']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(/sbx-1 +rolled back/);
      expect(result.stdout + result.stderr).toMatch(/warnings: undo step \d+ failed/);
      // The previous release serves all the same: nginx never took port 8080.
      const now = sbx.ssh('sbx-1', "curl -s -w ' %{http_code}' http://127.0.0.1:8080/ok", {
        user: 'root',
      });
      expect(now.stdout).toBe('ok\n 200');
    } finally {
      sbx.ssh('sbx-1', 'rm -f /etc/nginx/conf.d/broken.conf', { user: 'root' });
    }
  }, 180_000);
});
