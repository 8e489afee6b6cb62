// The cutover tests' load generator (test/helpers/load.ts) against a local server that closes a
// keep-alive connection when its second request arrives, unanswered (what nginx's old workers do to
// an idle connection at a reload): each such request is sent once more on a new connection and
// succeeds, also when Node handed the used connection to a queued request (two workers sharing one
// connection), which Node's `req.reusedSocket` does not flag. A request that fails on its
// connection's first use is not sent again.
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startLoad, type LoadOptions } from '../helpers/load.js';

let server: Server | undefined;
afterEach(async () => {
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

/** Waits until the load has spent its requests (or 10 s), then stops it. */
async function spent(load: ReturnType<typeof startLoad>, count: number) {
  for (let i = 0; i < 1000 && load.samples.length < count; i++)
    await new Promise((resolve) => setTimeout(resolve, 10));
  return load.stop();
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
    const samples = await spent(startLoad(options(await closingServer(false))), 60);
    expect(samples).toHaveLength(60);
    expect(samples.filter((sample) => sample.error !== undefined)).toEqual([]);
    expect(samples.every((sample) => sample.status === 200 && sample.release === 'r1')).toBe(true);
    // Every request after a connection's first is closed and sent again (most of them).
    expect(samples.filter((sample) => sample.retried).length).toBeGreaterThan(20);
  });

  it('does not send again a request that failed on its connection’s first use', async () => {
    const load = startLoad({ ...options(await closingServer(true)), maxRequests: 10 });
    const samples = await spent(load, 10);
    expect(samples).toHaveLength(10);
    expect(samples.every((sample) => sample.retried === undefined)).toBe(true);
    expect(new Set(samples.map((sample) => sample.error))).toEqual(new Set(['ECONNRESET']));
  });
});
