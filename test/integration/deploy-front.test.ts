// A node www- site deployed to a real sandbox host: nginx (the host's own, from its packages) is
// its front on the public port, and the node process behind it listens on the host's loopback
// only. Requests come from this machine to the host's address, as a visitor's would.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;
let address: string;
let appPort: number;

const deploy = (flags: string[] = []) =>
  runSvc(['deploy', 'sandbox', '--yes', '--dir', project, ...flags], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });

/** A request from this machine to the host's public port: status, headers, body. */
async function visit(path: string, headers: Record<string, string> = {}) {
  const response = await fetch(`http://${address}:8080${path}`, { headers });
  return { status: response.status, headers: response.headers, body: await response.text() };
}

/** What a TCP connect from this machine to the host's address and a port ends in. */
function connectTo(port: number): Promise<string> {
  return new Promise((resolve) => {
    const socket = connect({ host: address, port, timeout: 5000 });
    socket.once('connect', () => {
      socket.destroy();
      resolve('connected');
    });
    socket.once('timeout', () => {
      socket.destroy();
      resolve('timeout');
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
  });
}

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  address = sbx.host('sbx-1').address;
  work = mkdtempSync(join(tmpdir(), 'svc-front-'));
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
  appPort = (parseYaml(readFileSync(join(project, 'svc.yaml'), 'utf8')) as { appPort: number })
    .appPort;
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a node www- site behind nginx', () => {
  it('deploys: nginx takes the site, the process answers on its loopback port', async () => {
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('sbx-1: nginx reloaded');
    expect(appPort).toBe(18080);
    const local = sbx.ssh('sbx-1', `curl -s -w ' %{http_code}' http://127.0.0.1:${appPort}/ok`, {
      user: 'root',
    });
    expect(local.stdout).toBe('ok\n 200');
  });

  it('a visitor on the public port reaches node through nginx, with the security headers', async () => {
    const page = await visit('/');
    expect(page.status).toBe(200);
    expect(JSON.parse(page.body)).toEqual({ service: 'www-shop' });
    // node's server sends no Server header: nginx's, without its version (server_tokens off).
    expect(page.headers.get('server')).toBe('nginx');
    expect(page.headers.get('x-content-type-options')).toBe('nosniff');
    expect(page.headers.get('referrer-policy')).toBe('strict-origin-when-cross-origin');
    expect(page.headers.get('x-frame-options')).toBe('SAMEORIGIN');
    // The process's own answers get them too, errors included.
    const missing = await visit('/no-such-page');
    expect([missing.status, missing.body]).toEqual([404, 'not found\n']);
    expect(missing.headers.get('x-content-type-options')).toBe('nosniff');
  });

  it('the node port is not reachable from outside the host (refused), nginx’s is', async () => {
    expect(await connectTo(8080)).toBe('connected');
    expect(await connectTo(appPort)).toBe('ECONNREFUSED');
  });

  it('a dotfile is 404 from nginx, never asked of the process', async () => {
    for (const path of ['/.env', '/.git/config', '/a/.htpasswd']) {
      const reply = await visit(path);
      expect(reply.status, path).toBe(404);
      // nginx's own page, not the process's "not found".
      expect(reply.body, path).toContain('<center>nginx</center>');
    }
  });

  it('answers on the IPv6 loopback too', () => {
    const six = sbx.ssh('sbx-1', "curl -s -g -w ' %{http_code}' 'http://[::1]:8080/ok'", {
      user: 'root',
    });
    expect(six.stdout).toBe('ok\n 200');
  });

  it('logs in root’s /var/log/nginx, the process in its own /var/log/www-shop', () => {
    const logs = sbx.ssh(
      'sbx-1',
      'ls /var/log/nginx | grep www-shop; grep -c "GET / 200" /var/log/www-shop/www-shop.log',
      { user: 'root' },
    ).stdout;
    expect(logs.split('\n').filter(Boolean)).toEqual([
      'www-shop.access.log',
      'www-shop.error.log',
      expect.stringMatching(/^[1-9]\d*$/),
    ]);
  });

  it('a release that fails its health gate with a changed site: both put back, visitors still served', async () => {
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const server = join(project, 'server.js');
    const [goodSite, goodServer] = [readFileSync(site, 'utf8'), readFileSync(server, 'utf8')];
    writeFileSync(site, goodSite.replace('server_name _;', 'server_name _; # broken release'));
    writeFileSync(server, `process.exit(3);\n${goodServer}`);
    try {
      const result = await deploy(['--health-timeout', '5']);
      expect(result.code, result.stdout + result.stderr).toBe(1);
      expect(result.stdout).toMatch(/sbx-1 +rolled back/);
      const onHost = sbx.ssh(
        'sbx-1',
        'grep -c "# broken release" /etc/nginx/sites-enabled/www-shop.conf',
        { user: 'root' },
      );
      expect(onHost.stdout.trim()).toBe('0');
      const page = await visit('/');
      expect([page.status, page.headers.get('x-frame-options')]).toEqual([200, 'SAMEORIGIN']);
    } finally {
      writeFileSync(site, goodSite);
      writeFileSync(server, goodServer);
    }
  }, 120_000);

  it('a host without nginx: a change to the site fails the deploy and is not left in place', async () => {
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const good = readFileSync(site, 'utf8');
    const hide = sbx.ssh('sbx-1', 'mv /usr/sbin/nginx /usr/sbin/nginx.hidden', { user: 'root' });
    expect(hide.code, hide.stderr).toBe(0);
    writeFileSync(site, good.replace('server_name _;', 'server_name _; # changed'));
    try {
      const result = await deploy();
      expect(result.code, result.stdout + result.stderr).not.toBe(0);
      expect(result.stdout).toContain('nginx -t refused the site');
      const onHost = sbx.ssh(
        'sbx-1',
        'grep -c "# changed" /etc/nginx/sites-enabled/www-shop.conf',
        {
          user: 'root',
        },
      );
      expect(onHost.stdout.trim()).toBe('0');
    } finally {
      writeFileSync(site, good);
      sbx.ssh('sbx-1', 'mv /usr/sbin/nginx.hidden /usr/sbin/nginx', { user: 'root' });
    }
    expect((await visit('/ok')).body).toBe('ok\n');
  });
});
