// A node www- site whose nginx front takes port 80 on a host with a stock Debian nginx: its
// `default` site is the default_server on port 80, so a catch-all front (server_name _) would never
// be reached, while the process itself answers on appPort. The deploy must say so (naming the
// default site and the fix) instead of reporting a site healthy that visitors never reach.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

/** The release history's last entry on the host: the release and what it was recorded as. */
const lastRecorded = () => {
  const records = sbx.ssh('sbx-1', 'cat /var/lib/svc/www-shop/installed.json', { user: 'root' });
  const history = (JSON.parse(records.stdout) as { history: { id: string; status: string }[] })
    .history;
  return history.at(-1)!.status;
};

/**
 * A rolled-back deploy: said so, the previous release live and healthy, and a new release (not
 * a change of the site alone) recorded bad.
 */
const expectRolledBack = (
  result: { code: number; stdout: string; stderr: string },
  newRelease = false,
) => {
  expect(result.code, result.stdout + result.stderr).toBe(1);
  expect(result.stdout).toMatch(/sbx-1 +rolled back/);
  expect(result.stdout + result.stderr).toContain('is live and healthy');
  expect(lastRecorded()).toBe(newRelease ? 'bad' : 'good');
};

/** What a visitor gets on port 80 of the host, asked on the host itself. */
const visit = () =>
  sbx.ssh('sbx-1', "curl -s -w ' %{http_code}' http://127.0.0.1:80/ok", { user: 'root' }).stdout;

beforeAll(async () => {
  sbx = await startSandbox({ count: 1 });
  work = mkdtempSync(join(tmpdir(), 'svc-front-default-'));
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
      '--port',
      '80',
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

describe('a node www- front on port 80 beside nginx’s default site', () => {
  it('the deploy fails naming the default site and the fix; nothing is left in place', async () => {
    const stock = sbx.ssh('sbx-1', 'grep -c default_server /etc/nginx/sites-enabled/default', {
      user: 'root',
    });
    expect(Number(stock.stdout.trim()), 'the host has the stock default site').toBeGreaterThan(0);
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).not.toBe(0);
    expect(result.stdout + result.stderr).toContain(
      '/etc/nginx/sites-enabled/default is the default_server on port 80',
    );
    expect(result.stdout + result.stderr).toMatch(/remove it|server_name/);
    const left = sbx.ssh('sbx-1', 'ls /etc/nginx/sites-enabled', { user: 'root' });
    expect(left.stdout).toBe('default\n');
  }, 120_000);

  it('with the default site removed, the deploy succeeds and visitors on port 80 reach node', async () => {
    sbx.ssh('sbx-1', 'rm /etc/nginx/sites-enabled/default', { user: 'root' });
    const result = await deploy();
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(visit()).toBe('ok\n 200');
  }, 120_000);

  // Another server on port 80, and www-shop's site with or without default_server (as svc new
  // wrote it before: without): whatever svc decides, a deploy it reports good must be one whose
  // visitors real nginx gives www-shop (an unknown Host, as a visitor typing the address sends).
  const other = (listen: string) =>
    `server { listen ${listen}; server_name other.example; return 200 "other site\\n"; }\n`;
  const multiLine =
    'server {\n  listen 80;\n  server_name other.example;\n  return 200 "other site\\n";\n}\n';
  it.each([
    ['conf.d/other.conf', multiLine, false, 'refused'],
    ['conf.d/other.conf', other('80 default_server'), false, 'refused'],
    [
      'sites-enabled/zz-other',
      other('[::]:80 ipv6only=on; listen 80 default_server'),
      true,
      'refused',
    ],
    ['conf.d/other.conf', other('80'), true, 'deployed'],
  ] as const)(
    'another server in %s (%j), the site default_server: %s: %s',
    async (file, text, siteDefault, expected) => {
      const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
      const good = readFileSync(site, 'utf8');
      const path = `/etc/nginx/${file}`;
      sbx.ssh('sbx-1', `cat > ${path}`, { user: 'root', input: text });
      const variant = siteDefault ? good : good.replaceAll(' default_server;', ';');
      writeFileSync(site, `${variant}# ${file} ${siteDefault}\n`);
      const pid = () => sbx.ssh('sbx-1', 'cat /run/www-shop.pid', { user: 'root' }).stdout;
      const running = pid();
      try {
        const result = await deploy();
        const said = result.stdout + result.stderr;
        const ask = (host: string) =>
          sbx.ssh('sbx-1', `curl -s -H 'Host: ${host}' http://127.0.0.1:80/ok`, { user: 'root' })
            .stdout;
        if (result.code === 0) expect(ask('127.0.0.1'), said).toBe('ok\n');
        expect(result.code === 0 ? 'deployed' : 'refused', said).toBe(expected);
        if (expected === 'refused') {
          expect(said).toContain(`${path} `);
          // Nothing applied: the host's site is the one before, and serves as before.
          const installed = sbx.ssh('sbx-1', 'cat /etc/nginx/sites-enabled/www-shop.conf', {
            user: 'root',
          }).stdout;
          expect(installed).not.toContain(`# ${file}`);
          expect(pid(), 'the release running before was not restarted').toBe(running);
          expect(ask('127.0.0.1')).toBe('ok\n');
        } else expect(ask('other.example')).toBe('other site\n');
      } finally {
        sbx.ssh('sbx-1', `rm -f ${path}`, { user: 'root' });
        writeFileSync(site, good);
      }
    },
    120_000,
  );

  it('a site nginx does not serve on port (it listens elsewhere): the deploy fails saying so, the site is put back', async () => {
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const good = readFileSync(site, 'utf8');
    writeFileSync(
      site,
      good.replace(/(listen (?:\[::\]:)?)80 /g, (_, listen: string) => `${listen}8081 `),
    );
    try {
      const result = await deploy();
      expect(result.stdout + result.stderr).toContain(
        'www-shop answers on its own port but not through nginx on port 80',
      );
      expectRolledBack(result);
      expect(visit()).toBe('ok\n 200');
    } finally {
      writeFileSync(site, good);
    }
  }, 120_000);

  it('a site nginx cannot take up (its port is held by another process): the deploy says so', async () => {
    const site = join(project, 'config', 'etc', 'nginx', 'sites-enabled', 'www-shop.conf');
    const good = readFileSync(site, 'utf8');
    // The holder has the port before the deploy: up to 30 s for node to start on a busy host,
    // and checked (else nginx would take the port and the deploy succeed).
    const holder = sbx.ssh(
      'sbx-1',
      `setsid node -e "require('net').createServer().listen(8082, () => console.log('held'))" >/tmp/holder.out 2>&1 & echo $!; i=0; until grep -q held /tmp/holder.out || [ $i -ge 300 ]; do sleep 0.1; i=$((i + 1)); done; grep -q held /tmp/holder.out && echo held`,
      { user: 'root' },
    );
    const [holderPid, held] = holder.stdout.trim().split('\n');
    writeFileSync(
      site,
      good.replace(/(listen (?:\[::\]:)?)80 /g, (_, listen: string) => `${listen}8082 `),
    );
    try {
      expect(held, `the port holder did not start: ${holder.stdout}${holder.stderr}`).toBe('held');
      const result = await deploy();
      expect(result.stdout + result.stderr).toContain(
        'nginx did not take up the new configuration',
      );
      expectRolledBack(result);
      expect(visit()).toBe('ok\n 200');
    } finally {
      writeFileSync(site, good);
      sbx.ssh('sbx-1', `kill ${holderPid}`, { user: 'root' });
    }
  }, 120_000);

  it('a release that accepts requests through nginx and never answers them: the deploy ends within the front gate’s 10 s (ceiling: a good deploy’s time + 40 s)', async () => {
    const server = join(project, 'server.js');
    const good = readFileSync(server, 'utf8');
    try {
      // A good new release first, timed at the same load: the hanging one takes that, the gate's
      // 10 s and the rollback. Were each ask through nginx unbounded, it would hang until the
      // 120 s command timeout instead.
      writeFileSync(server, `${good}\n// a new release, timed as the baseline\n`);
      const baseBegan = Date.now();
      const baseline = await deploy();
      const baselineTook = Date.now() - baseBegan;
      expect(baseline.code, baseline.stdout + baseline.stderr).toBe(0);
      // Its own port answers the health check; what nginx passes on (X-Real-IP set) hangs.
      writeFileSync(
        server,
        good.replace(
          'function answer(request, response) {',
          "function answer(request, response) {\n  if (request.headers['x-real-ip']) return;",
        ),
      );
      const began = Date.now();
      const result = await deploy();
      const took = Date.now() - began;
      expect(result.stdout + result.stderr).toContain(
        'www-shop answers on its own port but not through nginx on port 80',
      );
      expectRolledBack(result, true);
      expect(took).toBeLessThan(baselineTook + 40_000);
      expect(visit()).toBe('ok\n 200');
    } finally {
      writeFileSync(server, good);
    }
  }, 240_000);
});
