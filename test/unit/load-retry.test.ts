// The cutover tests' load generator (test/helpers/load.ts) against a local server that closes a
// keep-alive connection when its second request arrives, unanswered (what nginx's old workers do to
// an idle connection at a reload): each such request is sent once more on a new connection and
// succeeds, also when Node handed the used connection to a queued request (two workers sharing one
// connection), which Node's `req.reusedSocket` does not flag, and when one worker takes it from the
// agent's pool. A request that fails on its connection's first use is not sent again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoad, type Load, type LoadOptions } from '../helpers/load.js';

let server: Server | undefined;
let load: Load | undefined;
afterEach(async () => {
  await load?.stop(); // a test that failed early leaves no load running into the next
  load = undefined;
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** Answers after 15 ms (so the workers overlap); closes a connection at its second request. */
async function closingServer(closeFirst: boolean): Promise<number> {
  const served = new WeakMap<object, number>();
  server = createServer((request, response) => {
    const count = (served.get(request.socket) ?? 0) + 1;
    served.set(request.socket, count);
    if (count >= 2 || closeFirst) {
      request.socket.destroy();
      return;
    }
    setTimeout(() => response.setHeader('x-release', 'r1').end('ok'), 15);
  });
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return (server.address() as AddressInfo).port;
}

/** Starts the load, waits until it has spent `count` requests (or 10 s), and stops it. */
async function spent(options: LoadOptions, count: number) {
  const started = startLoad(options);
  load = started;
  const deadline = Date.now() + 10_000;
  while (started.samples.length < count && Date.now() < deadline)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return started.stop();
}

const options = (port: number): LoadOptions => ({
  host: '127.0.0.1',
  port,
  path: '/',
  slowPath: '/slow',
  header: 'x-release',
  maxRequests: 60,
  seconds: 20,
  keepAliveWorkers: 2,
  keepAliveSockets: 1,
  newConnectionWorkers: 0,
  slowWorkers: 0,
});

describe('the load generator and a server closing its idle keep-alive connections', () => {
  it('sends each request the server closed on a reused connection again, queued ones too', async () => {
    const samples = await spent(options(await closingServer(false)), 60);
    expect(samples).toHaveLength(60);
    expect(samples.filter((sample) => sample.error !== undefined)).toEqual([]);
    expect(samples.every((sample) => sample.status === 200 && sample.release === 'r1')).toBe(true);
    // Every request after a connection's first is closed and sent again (most of them).
    expect(samples.filter((sample) => sample.retried).length).toBeGreaterThan(20);
  });

  it('sends it again when one worker took the closed connection from the pool', async () => {
    const port = await closingServer(false);
    const samples = await spent({ ...options(port), keepAliveWorkers: 1, maxRequests: 20 }, 20);
    expect(samples).toHaveLength(20);
    expect(samples.every((sample) => sample.status === 200 && sample.release === 'r1')).toBe(true);
    expect(samples.filter((sample) => sample.retried).length).toBeGreaterThan(5);
  });

  it('does not send again a request that failed on its connection’s first use', async () => {
    const samples = await spent({ ...options(await closingServer(true)), maxRequests: 10 }, 10);
    expect(samples).toHaveLength(10);
    expect(samples.every((sample) => sample.retried === undefined)).toBe(true);
    expect(new Set(samples.map((sample) => sample.error))).toEqual(new Set(['ECONNRESET']));
  });
});
