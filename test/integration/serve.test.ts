// The generated services really run: server.js answers HTTP and exits 0 on SIGTERM, worker.js
// ticks and exits 0 on SIGTERM, and nginx serves a static site with the generated site file.
// Projects are made by the real CLI (bin/svc). Everything listens and is reached on 127.0.0.1
// only; every wait is bounded in count and time.
//
// Needs a built dist/ (npm run build); the nginx part needs root, unshare (util-linux) and the
// Debian package nginx-light.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const REPO = fileURLToPath(new URL('../../', import.meta.url));
const SVC = join(REPO, 'bin', 'svc');
const HOST = '127.0.0.1';

let root = '';

beforeAll(() => {
  if (!existsSync(join(REPO, 'dist', 'bundle', 'svc.mjs'))) {
    throw new Error('dist/ is missing: run npm run build first');
  }
  root = mkdtempSync(join(tmpdir(), 'svc-serve-'));
});

afterAll(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

/** A port that was free a moment ago: the kernel picks it for a listener on port 0. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, HOST, resolve);
  });
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (address === null || typeof address === 'string') throw new Error('no port from listen(0)');
  return address.port;
}

/** `svc new NAME --yes` into a fresh directory; returns the project directory. */
function generate(name: string, flags: string[]): string {
  const dir = join(root, name);
  execFileSync(
    process.execPath,
    [SVC, 'new', name, '--yes', '--cutover', 'restart', '--dir', dir, ...flags],
    {
      env: { ...process.env, NO_COLOR: '1' },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  return dir;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

interface Started {
  child: ChildProcess;
  /** stdout and stderr so far, for assertions and failure messages. */
  output(): string;
  exited(): boolean;
  exit: Promise<Exit>;
}

function start(command: string, args: string[], options: SpawnOptions): Started {
  const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  let done = false;
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exit = new Promise<Exit>((resolve) => {
    child.once('exit', (code, signal) => {
      done = true;
      resolve({ code, signal });
    });
    // A failed spawn emits 'error' and maybe no 'exit'.
    child.once('error', (error) => {
      done = true;
      output += `spawn failed: ${error.message}\n`;
      resolve({ code: null, signal: null });
    });
  });
  return { child, output: () => output, exited: () => done, exit };
}

/** Resolves with the exit, or undefined if it has not come within `ms`. */
async function exitWithin(running: Started, ms: number): Promise<Exit | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([running.exit, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Sends `signal` to the child we spawned (never anything found by name) and waits for its exit.
 * If it has not exited in `ms`, it is killed so that nothing outlives the test, and this throws.
 */
async function stop(running: Started, signal: NodeJS.Signals, ms = 10_000): Promise<Exit> {
  if (!running.exited()) running.child.kill(signal);
  const exit = await exitWithin(running, ms);
  if (exit) return exit;
  running.child.kill('SIGKILL');
  await exitWithin(running, 5_000);
  throw new Error(`no exit within ${ms} ms of ${signal}; killed. Output:\n${running.output()}`);
}

/** For afterAll: stop a process a failed test may have left running, without a second error. */
async function cleanUp(running: Started | undefined, signal: NodeJS.Signals): Promise<void> {
  if (running && !running.exited()) await stop(running, signal).catch(() => undefined);
}

interface Reply {
  status: number;
  body: string;
}

async function get(url: string): Promise<Reply> {
  const response = await fetch(url, { signal: AbortSignal.timeout(2_000) });
  return { status: response.status, body: await response.text() };
}

/** Polls `url` until it answers 200: at most 100 tries and 20 s, and not after the process died. */
async function waitForOk(url: string, running: Started): Promise<Reply> {
  const deadline = Date.now() + 20_000;
  let last = 'no answer';
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    if (running.exited()) throw new Error(`exited before answering ${url}:\n${running.output()}`);
    try {
      const reply = await get(url);
      if (reply.status === 200) return reply;
      last = `status ${reply.status}`;
    } catch (error) {
      // Not listening yet.
      last = String(error);
    }
    await sleep(100);
  }
  throw new Error(`${url} never answered 200 (${last}). Output:\n${running.output()}`);
}

/** Polls the output until it matches: at most 100 tries and 20 s. */
async function waitForOutput(running: Started, pattern: RegExp): Promise<void> {
  const deadline = Date.now() + 20_000;
  for (let attempt = 0; attempt < 100 && Date.now() < deadline; attempt++) {
    if (pattern.test(running.output())) return;
    if (running.exited()) break;
    await sleep(200);
  }
  throw new Error(`output never matched ${pattern}:\n${running.output()}`);
}

// api- and www- node projects share server.js: the same checks for both.
describe.each([
  { name: 'api-serve', flags: ['--init', 'systemd'] },
  { name: 'www-serve-node', flags: ['--runtime', 'node', '--init', 'systemd'] },
])('$name: node server.js', ({ name, flags }) => {
  let port = 0;
  let server: Started | undefined;
  let ready: Reply | undefined;
  const url = (path: string) => `http://${HOST}:${port}${path}`;

  beforeAll(async () => {
    port = await freePort();
    const dir = generate(name, [...flags, '--port', String(port)]);
    // HOST keeps the server on loopback; its default is every interface.
    server = start(process.execPath, ['server.js'], {
      cwd: dir,
      env: { ...process.env, PORT: String(port), HOST },
    });
    ready = await waitForOk(url('/ok'), server);
  });

  afterAll(() => cleanUp(server, 'SIGKILL'));

  it('answers the health path with 200 ok', () => {
    expect(ready).toEqual({ status: 200, body: 'ok\n' });
  });

  it('answers / with its name', async () => {
    const reply = await get(url('/'));
    expect(reply.status).toBe(200);
    expect(JSON.parse(reply.body)).toEqual({ service: name });
  });

  it('answers an unknown path with 404', async () => {
    expect((await get(url('/nope'))).status).toBe(404);
  });

  it('exits 0 on SIGTERM', async () => {
    // The test's fetch keeps an idle keep-alive connection open: the server must close it.
    expect(await stop(server!, 'SIGTERM')).toEqual({ code: 0, signal: null });
    expect(server!.output()).toContain(`listening on ${HOST}:${port}`);
  });
});

describe('service- worker.js', () => {
  let worker: Started | undefined;

  beforeAll(() => {
    const dir = generate('service-serve', ['--init', 'systemd']);
    worker = start(process.execPath, ['worker.js'], {
      cwd: dir,
      env: { ...process.env, TICK_SECONDS: '1' },
    });
  });

  afterAll(() => cleanUp(worker, 'SIGKILL'));

  it('logs a tick', async () => {
    await waitForOutput(worker!, /\bservice-serve tick 1\n/);
  });

  it('exits 0 on SIGTERM', async () => {
    expect(await stop(worker!, 'SIGTERM')).toEqual({ code: 0, signal: null });
  });
});

describe('www- static site under nginx', () => {
  const name = 'www-serve-static';
  let port = 0;
  let nginx: Started | undefined;
  let ready: Reply | undefined;
  const url = (path: string) => `http://${HOST}:${port}${path}`;

  beforeAll(async () => {
    port = await freePort();
    const dir = generate(name, ['--runtime', 'static', '--port', String(port)]);
    // What a bundler writes beside index.html: a hashed asset, a large stylesheet, and dotfiles
    // that must never be served.
    writeFileSync(join(dir, 'public', 'app.3f9a1c7e.js'), 'console.log("hashed");\n');
    writeFileSync(join(dir, 'public', 'style.css'), 'body { margin: 0; }\n'.repeat(200));
    writeFileSync(join(dir, 'public', '.env'), 'SECRET=1\n');
    mkdirSync(join(dir, 'public', '.git'));
    writeFileSync(join(dir, 'public', '.git', 'config'), '[core]\n');
    mkdirSync(join(dir, 'public', '.well-known'));
    writeFileSync(join(dir, 'public', '.well-known', 'security.txt'), 'Contact: x\n');
    const run = join(root, 'nginx-run');
    mkdirSync(run);

    // The generated site listens on every interface; this copy differs only in listening on
    // loopback, so that nothing outside the machine can reach the test server.
    const site = readFileSync(join(dir, `config/etc/nginx/sites-enabled/${name}.conf`), 'utf8');
    const listen = `    listen ${port} default_server;\n`;
    const listen6 = `    listen [::]:${port} default_server;\n`;
    for (const line of [listen, listen6])
      if (!site.includes(line)) throw new Error(`site has no "${line.trim()}":\n${site}`);
    writeFileSync(
      join(run, 'site.conf'),
      site
        .replace(listen, `    listen ${HOST}:${port} default_server;\n`)
        .replace(listen6, `    listen [::1]:${port} default_server;\n`),
    );
    const conf = join(run, 'nginx.conf');
    writeFileSync(
      conf,
      [
        `pid ${join(run, 'nginx.pid')};`,
        `error_log ${join(run, 'error.log')};`,
        'events {}',
        `http { include /etc/nginx/mime.types; include ${join(run, 'site.conf')}; }`,
        '',
      ].join('\n'),
    );

    // A private mount namespace with tmpfs over /var/www, /var/log and /var/lib/nginx (its temp
    // dirs, which nginx would create and chown): the site is laid out where the generated config
    // expects it (its logs in /var/log/nginx, as the nginx package makes it) without touching the
    // machine's own directories. unshare and sh exec, so the pid we spawn is nginx's master.
    const script = [
      'set -e',
      'mount -t tmpfs tmpfs /var/www',
      'mount -t tmpfs tmpfs /var/log',
      'mount -t tmpfs tmpfs /var/lib/nginx',
      'mkdir -p "/var/www/$1/current" /var/log/nginx',
      'cp -R "$2" "/var/www/$1/current/public"',
      // As a release unpacks: every file with mtime 0 (src/core/tar.ts).
      'find "/var/www/$1/current/public" -exec touch -h -d @0 {} +',
      'exec nginx -c "$3" -g "daemon off;"',
    ].join('\n');
    nginx = start(
      'unshare',
      [
        '--mount',
        '--propagation',
        'private',
        'sh',
        '-c',
        script,
        'sh',
        name,
        join(dir, 'public'),
        conf,
      ],
      {},
    );
    ready = await waitForOk(url('/ok'), nginx);
  });

  // Also when a test failed: SIGQUIT is nginx's graceful stop, and we wait for the exit.
  afterAll(() => cleanUp(nginx, 'SIGQUIT'));

  it('answers the health path with 200 ok', () => {
    expect(ready).toEqual({ status: 200, body: 'ok\n' });
  });

  it('serves public/index.html at /', async () => {
    const reply = await get(url('/'));
    expect(reply.status).toBe(200);
    expect(reply.body).toContain(`<h1>${name}</h1>`);
  });

  it('answers a missing file with 404', async () => {
    expect((await get(url('/nope.html'))).status).toBe(404);
  });

  it('a page changed in place (same size, same mtime 0) is never answered 304 from old validators', async () => {
    const first = await fetch(url('/'), { signal: AbortSignal.timeout(2_000) });
    const before = await first.text();
    // What a browser would send to revalidate: whatever validators the first answer carried,
    // and the ones nginx would derive from mtime 0 and the size.
    const validators: Record<string, string> = {
      'if-none-match': first.headers.get('etag') ?? `"0-${Buffer.byteLength(before)}"`,
      'if-modified-since': first.headers.get('last-modified') ?? new Date(0).toUTCString(),
    };
    // The next release: the same bytes count, other content, mtime 0 again (written through
    // nginx's own mount namespace, where the release lives).
    const after = before.replace(`<h1>${name}</h1>`, `<h1>${name.toUpperCase()}</h1>`);
    expect(Buffer.byteLength(after)).toBe(Buffer.byteLength(before));
    const index = `/proc/${nginx!.child.pid}/root/var/www/${name}/current/public/index.html`;
    writeFileSync(index, after);
    execFileSync('touch', ['-d', '@0', index]);
    const again = await fetch(url('/'), {
      headers: validators,
      signal: AbortSignal.timeout(2_000),
    });
    expect(again.status).toBe(200);
    expect(await again.text()).toContain(`<h1>${name.toUpperCase()}</h1>`);
  });

  it('says how to cache: HTML revalidates, a hashed asset is immutable; no mtime validators', async () => {
    const page = await fetch(url('/'), { signal: AbortSignal.timeout(2_000) });
    expect(page.headers.get('cache-control')).toBe('no-cache');
    expect(page.headers.get('etag')).toBeNull();
    expect(page.headers.get('last-modified')).toBeNull();
    const asset = await fetch(url('/app.3f9a1c7e.js'), { signal: AbortSignal.timeout(2_000) });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    const plain = await fetch(url('/style.css'), { signal: AbortSignal.timeout(2_000) });
    expect(plain.headers.get('cache-control')).toBe('no-cache');
  });

  it('sends security headers, on errors too, and no nginx version', async () => {
    for (const path of ['/', '/nope.html', '/ok']) {
      const reply = await fetch(url(path), { signal: AbortSignal.timeout(2_000) });
      await reply.text();
      expect(reply.headers.get('server'), path).toBe('nginx');
      expect(reply.headers.get('x-content-type-options'), path).toBe('nosniff');
      expect(reply.headers.get('referrer-policy'), path).toBe('strict-origin-when-cross-origin');
      expect(reply.headers.get('x-frame-options'), path).toBe('SAMEORIGIN');
      expect(reply.headers.get('content-security-policy'), path).toBe("frame-ancestors 'self'");
    }
  });

  it('compresses text with gzip and says Vary: Accept-Encoding', () => {
    // curl, not fetch: fetch always asks for gzip and hides the encoding it got.
    const headers = execFileSync(
      'curl',
      ['-sS', '-o', '/dev/null', '-D', '-', '-H', 'Accept-Encoding: gzip', url('/style.css')],
      { encoding: 'utf8', timeout: 5_000 },
    ).toLowerCase();
    expect(headers).toMatch(/^content-encoding: gzip\r$/m);
    expect(headers).toMatch(/^vary: accept-encoding\r$/m);
  });

  it('never serves dotfiles, but serves /.well-known/', async () => {
    for (const path of ['/.env', '/.git/config', '/sub/.htpasswd'])
      expect((await get(url(path))).status, path).toBe(404);
    expect(await get(url('/.well-known/security.txt'))).toEqual({
      status: 200,
      body: 'Contact: x\n',
    });
  });

  it('answers on IPv6 too', () => {
    const reply = execFileSync('curl', ['-sS', '-g', `http://[::1]:${port}/ok`], {
      encoding: 'utf8',
      timeout: 5_000,
    });
    expect(reply).toBe('ok\n');
  });

  it('logs to /var/log/nginx/NAME.access.log, not to the service user’s /var/log/NAME', () => {
    // nginx's master opens its logs as root: seen through its own mount namespace.
    const logs = `/proc/${nginx!.child.pid}/root/var/log`;
    expect(readFileSync(`${logs}/nginx/${name}.access.log`, 'utf8')).toMatch(
      /"GET \/nope\.html HTTP\/1\.1" 404 /,
    );
    expect(existsSync(`${logs}/nginx/${name}.error.log`)).toBe(true);
    expect(existsSync(`${logs}/${name}`)).toBe(false);
  });

  it('stops on SIGQUIT with exit 0', async () => {
    expect(await stop(nginx!, 'SIGQUIT')).toEqual({ code: 0, signal: null });
  });
});
