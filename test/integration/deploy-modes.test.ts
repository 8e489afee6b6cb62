// What ships, and with which modes, on a real sandbox host: a setuid file is refused at plan time
// naming it; world-writable and setuid modes never reach the host (release and overlay files are
// 0644 or 0755, directories 0755); paths too long for plain ustar arrive byte for byte; a nested
// config/ directory ships, and a file a nested .gitignore lists does not.
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const LONG_150 = `lib/${'x'.repeat(146)}`;
const LONG_250 = `${'a'.repeat(120)}/${'b'.repeat(129)}`;
const RELEASES = '/var/www/api-orders/releases';

function svc(args: string[]) {
  return runSvc([...args, '--dir', project], { ...sbx.env, HOME: join(work, 'home') });
}

function onHost(command: string): string {
  const result = sbx.ssh('sbx-1', command, { user: 'root' });
  expect(result.code, `${command}: ${result.stderr}`).toBe(0);
  return result.stdout;
}

function put(path: string, text: string, mode: number) {
  mkdirSync(join(project, path, '..'), { recursive: true });
  writeFileSync(join(project, path), text);
  chmodSync(join(project, path), mode);
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-modes-'));
  project = join(work, 'api-orders');
  execFileSync(
    SVC,
    ['new', 'api-orders', '--yes', '--cutover', 'restart', '--init', 'monit', '--dir', project],
    {
      env: { ...process.env, CI: '1' },
    },
  );
  put('bin/tool', '#!/bin/sh\necho tool\n', 0o4755);
  chmodSync(join(project, 'server.js'), 0o666);
  chmodSync(join(project, 'config/etc/logrotate.d/api-orders'), 0o666);
  chmodSync(join(project, 'config/usr/local/lib/svc/api-orders/ctl'), 0o777);
  put(LONG_150, '150 bytes\n', 0o644);
  put(LONG_250, '250 bytes\n', 0o755);
  put('src/config/database.js', 'module.exports = {};\n', 0o644);
  put('packages/api/.gitignore', '.env\n', 0o644);
  put('packages/api/.env', 'TOKEN=not-for-the-host\n', 0o600);
  put('packages/api/index.js', '\n', 0o644);
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('what ships, and with which modes', () => {
  it('refuses a setuid file at plan time, naming it, and deploys nothing', async () => {
    const plan = await svc(['plan', 'sandbox']);
    expect(plan.code).toBe(1);
    expect(plan.stdout + plan.stderr).toContain(
      'bin/tool: mode 4755 is setuid or setgid; svc installs no such file',
    );
    const deploy = await svc(['deploy', 'sandbox', '--yes']);
    expect(deploy.code).toBe(1);
    expect(onHost(`ls -A ${RELEASES} 2>/dev/null || true`).trim()).toBe('');
  });

  it('deploys with normal modes, long paths and the nested config/ directory', async () => {
    chmodSync(join(project, 'bin/tool'), 0o755);
    const deploy = await svc(['deploy', 'sandbox', '--yes']);
    expect(deploy.code, deploy.stdout + deploy.stderr).toBe(0);
    const release = onHost('readlink -f /var/www/api-orders/current').trim();
    // Nothing setuid, setgid or writable by group or others, in the release or the overlay.
    const overlay =
      '/etc/logrotate.d/api-orders /usr/local/lib/svc/api-orders/ctl /etc/monit/conf.d/api-orders';
    expect(onHost(`find ${release} ${overlay} -perm /6022 -print`)).toBe('');
    expect(onHost(`find ${release} -type d ! -perm 755 -print`)).toBe('');
    expect(
      onHost(
        `cd ${release} && stat -c '%a %n' server.js bin/tool src/config/database.js ${overlay}`,
      )
        .trim()
        .split('\n'),
    ).toEqual([
      '644 server.js',
      '755 bin/tool',
      '644 src/config/database.js',
      '644 /etc/logrotate.d/api-orders',
      '755 /usr/local/lib/svc/api-orders/ctl',
      '644 /etc/monit/conf.d/api-orders',
    ]);
    expect(onHost(`cat ${release}/${LONG_150}`)).toBe('150 bytes\n');
    expect(onHost(`cat ${release}/${LONG_250}; stat -c %a ${release}/${LONG_250}`)).toBe(
      '250 bytes\n755\n',
    );
    expect(onHost(`ls -A ${release}/packages/api`).trim().split('\n')).toEqual([
      '.gitignore',
      'index.js',
    ]);
  });

  it('makes a new release when a mode changes', async () => {
    expect((await svc(['plan', 'sandbox', '--detailed-exitcode'])).code).toBe(0);
    chmodSync(join(project, 'bin/tool'), 0o644);
    const plan = await svc(['plan', 'sandbox', '--detailed-exitcode']);
    expect(plan.code, plan.stdout + plan.stderr).toBe(2);
    expect(plan.stdout).toMatch(/\+ .*releases\/[0-9a-f]{12}/);
  });
});
