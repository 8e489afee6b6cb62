// The gate's HTTP question (health-gate.ts http_ok, nginx-front.ts wait_front) asked by a real sh
// with each client it may find on a host, alone in PATH: curl, GNU wget, node. Each must give the
// same answer against the same real server: a pass for exactly 200, never for a 204 or a redirect
// (whose Location is never asked: it may name another machine), the Host header sent when given,
// and a server that accepts and never answers, or answers a 200 it never finishes (a head that
// trickles in, a body without end), failing within the 2 s each ask has.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HEALTH } from '../../src/core/health-gate.js';
import { FRONT, frontGateLine } from '../../src/core/nginx-front.js';
import { shellQuote as q } from '../../src/core/quote.js';

let server: Server;
let port = 0;
let redirectsFollowed = 0;
const sockets = new Set<Socket>();
const dirs: string[] = [];

/** The apply script's clock (apply-script.ts PRELUDE), for wait_front. */
const UPTIME = 'uptime_s() { IFS=. read -r up_s rest < /proc/uptime; }\nsay() { :; }';

beforeAll(async () => {
  server = createServer((request, response) => {
    switch (request.url) {
      case '/200':
        return response.writeHead(200).end('ok\n');
      case '/204':
        return response.writeHead(204).end();
      case '/301':
        return response.writeHead(301, { Location: `http://127.0.0.1:${port}/followed` }).end();
      case '/followed':
        redirectsFollowed++;
        return response.writeHead(200).end('followed\n');
      case '/host':
        return response.writeHead(request.headers.host === 'shop.example' ? 200 : 404).end();
      case '/hang':
        return; // accepted, never answered
      case '/trickle': {
        // A status line, then a head that never ends: a header line every 0.5 s, forever.
        const socket = request.socket;
        socket.write('HTTP/1.1 200 OK\r\n');
        const timer = setInterval(() => socket.write('X-Slow: 1\r\n'), 500);
        socket.on('close', () => clearInterval(timer));
        return;
      }
      case '/slow-body': {
        // A whole 200 head, then a body that never ends: a chunk every 0.5 s, forever.
        response.writeHead(200);
        const timer = setInterval(() => response.write('x'), 500);
        response.on('close', () => clearInterval(timer));
        return;
      }
      default:
        return response.writeHead(500).end();
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as { port: number }).port;
});

afterAll(async () => {
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => server?.close(resolve));
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * A PATH with this client and the tools the functions use (grep, awk, and coreutils' timeout,
 * which every host svc deploys to has), nothing else.
 */
function pathWith(client: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'svc-http-ok-'));
  dirs.push(dir);
  for (const tool of [client, '/usr/bin/grep', '/usr/bin/awk', '/usr/bin/timeout'])
    symlinkSync(tool, join(dir, tool.slice(tool.lastIndexOf('/') + 1)));
  return dir;
}

/** Runs body after the functions with only that PATH; its exit code and how long it took. */
function run(path: string, body: string): Promise<{ code: number | null; ms: number }> {
  const began = Date.now();
  return new Promise((resolve) => {
    const child = spawn('/bin/sh', ['-c', `${HEALTH}\n${UPTIME}\n${FRONT}\n${body}`], {
      env: { PATH: path },
      stdio: 'ignore',
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 40_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      resolve({ code, ms: Date.now() - began });
    });
  });
}

const CLIENTS = [
  ['curl', '/usr/bin/curl'],
  ['GNU wget', '/usr/bin/wget'],
  ['node', process.execPath],
] as const;

describe.each(CLIENTS)('http_ok with %s alone', (_, client) => {
  it.each([
    ['/200', '', true],
    ['/204', '', false],
    ['/301', '', false],
    ['/500', '', false],
    ['/404', '', false],
    ['/host', 'shop.example', true],
    ['/host', '', false],
    ['/host', 'other.example', false],
  ] as const)('%s (Host %j): passes %s', async (url, host, passes) => {
    const followed = redirectsFollowed;
    const result = await run(
      pathWith(client),
      `http_ok ${q(`http://127.0.0.1:${port}${url}`)} ${q(host)}`,
    );
    expect(result.code === 0).toBe(passes);
    expect(redirectsFollowed, 'a redirect is never followed').toBe(followed);
  });

  it('a server that accepts and never answers: fails within its 2 s (ceiling 8 s)', async () => {
    const result = await run(pathWith(client), `http_ok http://127.0.0.1:${port}/hang`);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(null);
    expect(result.ms).toBeLessThan(8_000);
  });

  // A 200 is a whole response within the 2 s: curl prints the status it read even when it then
  // times out, and wget's -T 2 is per read, so a head trickling in held it without end.
  it.each(['/trickle', '/slow-body'])(
    '%s (a 200 status, then no end): fails within its 2 s (ceiling 8 s)',
    async (url) => {
      const result = await run(pathWith(client), `http_ok http://127.0.0.1:${port}${url}`);
      expect(result.code).not.toBe(0);
      expect(result.code).not.toBe(null);
      expect(result.ms).toBeLessThan(8_000);
    },
    15_000,
  );

  it('the front gate against it: fails within its 10 s by the clock (ceiling 25 s)', async () => {
    const line = frontGateLine({
      name: 'www-shop',
      site: '/etc/nginx/sites-enabled/www-shop.conf',
      text: 'server { listen 80; server_name shop.example; }',
      port,
      path: '/hang',
    });
    const result = await run(pathWith(client), line);
    expect(result.code).not.toBe(0);
    expect(result.code).not.toBe(null);
    expect(result.ms).toBeLessThan(25_000);
  }, 45_000);
});

it('busybox wget (which always follows redirects) is not used: the gate falls to node', async () => {
  const path = pathWith(process.execPath);
  symlinkSync('/usr/bin/busybox', join(path, 'wget'));
  const followed = redirectsFollowed;
  expect((await run(path, `http_ok http://127.0.0.1:${port}/301`)).code).not.toBe(0);
  expect((await run(path, `http_ok http://127.0.0.1:${port}/200`)).code).toBe(0);
  expect(redirectsFollowed).toBe(followed);
});
