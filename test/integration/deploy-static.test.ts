// A www- static site deployed to a real sandbox host: nginx (the host's own, from its packages)
// serves public/ through the generated site, and a change to the site is checked by `nginx -t`
// and the health path before it stays.
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runSvc, startSandbox, SVC, type Sandbox } from '../helpers/sandbox.js';

let sbx: Sandbox;
let work: string;
let project: string;

const deploy = () =>
  runSvc(['deploy', 'sandbox', '--yes', '--dir', project], {
    ...sbx.env,
    HOME: join(work, 'home'),
  });
const get = (path: string) =>
  sbx.ssh('sbx-1', `curl -s -w ' %{http_code}' http://127.0.0.1:8080${path}`, { user: 'root' })
    .stdout;

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-static-'));
  project = join(work, 'www-shop');
  execFileSync(SVC, ['new', 'www-shop', '--yes', '--cutover', 'restart', '--dir', project], {
    env: { ...process.env, CI: '1' },
  });
}, 120_000);

afterAll(async () => {
  await sbx?.down();
  if (work) rmSync(work, { recursive: true, force: true });
});

describe('a static www- site', () => {
  it('deploys with nginx and answers /ok and its page', async () => {
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stderr).toContain('sbx-1: nginx reloaded');
    expect(get('/ok')).toBe('ok\n 200');
    expect(get('/')).toContain('<h1>www-shop</h1>');
  });

  it('a new page is live after the next deploy, without touching nginx', async () => {
    appendFileSync(join(project, 'public', 'index.html'), '<p>second edition</p>\n');
    const result = await deploy();
    expect(result.code).toBe(0);
    expect(result.stderr).not.toContain('nginx reloaded');
    expect(get('/')).toContain('second edition');
  });

  it('answers on IPv6 loopback too', () => {
    const reply = sbx.ssh('sbx-1', "curl -s -g -w ' %{http_code}' 'http://[::1]:8080/ok'", {
      user: 'root',
    });
    expect(reply.stdout).toBe('ok\n 200');
  });

  it('a page changed without changing its size is served new to a browser revalidating', async () => {
    const page = join(project, 'public', 'index.html');
    const before = readFileSync(page, 'utf8');
    // What a browser revalidating would send: the validators of the page it has.
    const head = sbx.ssh('sbx-1', 'curl -s -D - -o /dev/null http://127.0.0.1:8080/', {
      user: 'root',
    }).stdout;
    const header = (name: string) => head.match(new RegExp(`^${name}: (.*)\\r$`, 'im'))?.[1] ?? '';
    const etag = header('etag') || `"0-${Buffer.byteLength(before)}"`;
    const since = header('last-modified') || new Date(0).toUTCString();
    const after = before.replace('<h1>www-shop</h1>', '<h1>WWW-SHOP</h1>');
    expect(Buffer.byteLength(after)).toBe(Buffer.byteLength(before));
    writeFileSync(page, after);
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const again = sbx.ssh(
      'sbx-1',
      `curl -s -w ' %{http_code}' -H 'If-None-Match: ${etag}' -H 'If-Modified-Since: ${since}' http://127.0.0.1:8080/`,
      { user: 'root' },
    ).stdout;
    expect(again).toContain('<h1>WWW-SHOP</h1>');
    expect(again).toMatch(/ 200$/);
  });

  it('a site nginx refuses is never left in place', async () => {
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const good = readFileSync(site, 'utf8');
    writeFileSync(site, good.replace('index index.html;', 'index index.html; bogus_directive on;'));
    try {
      const result = await deploy();
      expect(result.code).toBe(1);
      expect(result.stdout).toContain('nginx -t refused the site');
      const onHost = sbx.ssh(
        'sbx-1',
        'grep -c bogus_directive /etc/nginx/sites-enabled/www-shop.conf',
        { user: 'root' },
      );
      expect(onHost.stdout.trim()).toBe('0');
      expect(get('/ok')).toBe('ok\n 200');
    } finally {
      writeFileSync(site, good);
    }
  });
});
