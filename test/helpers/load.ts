// A bounded HTTP load generator for the cutover tests: only to the address it is given (a
// sandbox host's), at most `maxRequests` requests, for at most `seconds`, stopped earlier by
// stop(). Three kinds of worker run at once: keep-alive (one agent reusing its connections), new
// connections (a connection per request), and slow requests (`slowPath`, answered after 2 s).
// Every response is recorded with the release its header names and when it was asked and answered.
//
// A request sent on a reused keep-alive connection that the server closed as idle meanwhile (nginx
// closes its idle connections when it reloads; HTTP lets a server do so at any time) fails with
// ECONNRESET before any byte of an answer: such a request is sent once more on a new connection,
// as curl, Go's net/http and browsers do (RFC 9112 9.3.1), and counted (`retried`). Nothing else
// is retried. "Reused" is counted per socket here, not read from Node's `req.reusedSocket`: when
// every socket of the agent is busy, Node hands a socket that just finished a request straight to
// the next queued one without setting that flag (lib/_http_agent.js, the agent's 'free' handler),
// so a reused connection closed by nginx's reload looked like a fresh one (ci40). Each worker
// sends at most one request per 10 ms, so a refusing server is not asked thousands of times a
// second and the counts of two runs compare.
import { Agent, request } from 'node:http';
import type { Socket } from 'node:net';
import { eventually } from './sandbox.js';

export interface LoadOptions {
  host: string;
  port: number;
  path: string;
  slowPath: string;
  /** The response header that names the release that answered. */
  header: string;
  maxRequests: number;
  seconds: number;
  keepAliveWorkers: number;
  /** The connections the keep-alive workers share; one each unless fewer are asked for. */
  keepAliveSockets?: number;
  newConnectionWorkers: number;
  slowWorkers: number;
}

export interface Sample {
  kind: 'keep-alive' | 'new-connection' | 'slow';
  startedAt: number;
  endedAt: number;
  status?: number;
  release?: string;
  error?: string;
  /** Sent again on a new connection after its reused idle connection was closed under it. */
  retried?: boolean;
  /** This request's place on its connection (1: the connection's first); of the last attempt. */
  onConnection?: number;
}

export interface Load {
  /** Ends the workers after their current request; resolves with every sample. */
  stop(): Promise<Sample[]>;
  samples: Sample[];
}

export function startLoad(options: LoadOptions): Load {
  const samples: Sample[] = [];
  const deadline = Date.now() + options.seconds * 1000;
  let stopped = false;
  let issued = 0;
  const keepAlive = new Agent({
    keepAlive: true,
    maxSockets: options.keepAliveSockets ?? options.keepAliveWorkers,
  });
  const fresh = new Agent({ keepAlive: false });
  const requestsBySocket = new WeakMap<Socket, number>();

  const one = (
    kind: Sample['kind'],
    agent: Agent,
    path: string,
    sample: Sample = { kind, startedAt: Date.now(), endedAt: 0 },
  ): Promise<void> =>
    new Promise((resolve) => {
      const done = () => {
        sample.endedAt = Date.now();
        samples.push(sample);
        resolve();
      };
      const req = request(
        { host: options.host, port: options.port, path, agent, timeout: 10_000 },
        (res) => {
          sample.status = res.statusCode;
          const named = res.headers[options.header];
          if (typeof named === 'string') sample.release = named;
          res.resume();
          res.on('end', done);
          res.on('error', (error) => {
            sample.error = error.message;
            done();
          });
        },
      );
      req.on('socket', (socket) => {
        sample.onConnection = (requestsBySocket.get(socket) ?? 0) + 1;
        requestsBySocket.set(socket, sample.onConnection);
      });
      req.on('timeout', () => req.destroy(new Error('timed out after 10 s')));
      req.on('error', (error: NodeJS.ErrnoException) => {
        const reused = (sample.onConnection ?? 1) > 1;
        if (
          reused &&
          error.code === 'ECONNRESET' &&
          sample.status === undefined &&
          !sample.retried
        ) {
          sample.retried = true;
          sample.onConnection = undefined; // the retry's own, once it has a connection
          // On a new connection: another idle one from the pool may be closing as well.
          resolve(one(kind, fresh, path, sample));
          return;
        }
        sample.error = `${error.code ?? error.message}${sample.retried ? ' (sent again)' : ''}${reused ? ` (request ${sample.onConnection} on its connection)` : ''}`;
        done();
      });
      req.end();
    });

  const worker = async (kind: Sample['kind'], agent: Agent, path: string) => {
    while (!stopped && issued < options.maxRequests && Date.now() < deadline) {
      issued++;
      const began = Date.now();
      await one(kind, agent, path);
      const rest = 10 - (Date.now() - began);
      if (rest > 0) await new Promise((resolve) => setTimeout(resolve, rest));
    }
  };
  const workers = [
    ...Array.from({ length: options.keepAliveWorkers }, () =>
      worker('keep-alive', keepAlive, options.path),
    ),
    ...Array.from({ length: options.newConnectionWorkers }, () =>
      worker('new-connection', fresh, options.path),
    ),
    ...Array.from({ length: options.slowWorkers }, () => worker('slow', fresh, options.slowPath)),
  ];
  const all = Promise.all(workers);
  return {
    samples,
    async stop() {
      stopped = true;
      await all;
      keepAlive.destroy();
      fresh.destroy();
      return samples;
    },
  };
}

/** A deploy as the load saw it: the release it asked for, when, and whether it went live. */
export interface DeployRecord {
  release: string;
  startedAt: number;
  endedAt: number;
  live: boolean;
}

/**
 * Whether the load had, within `seconds`, a request that began after `deploy` began and that its
 * release answered: the load reached the release the deploy made live.
 */
export function answeredBy(load: Load, deploy: DeployRecord, seconds: number): Promise<boolean> {
  return eventually(
    () =>
      load.samples.some(
        (sample) => sample.release === deploy.release && sample.startedAt >= deploy.startedAt,
      ),
    seconds,
  );
}

/**
 * Why a sample is wrong, or undefined: it failed, or the release that answered it was not one
 * that was live (healthy) at some moment while it was being answered. A deploy that went live is
 * counted live from the moment it began (its gate passed before it ended) until the next deploy
 * that went live ended (its drain of this one is over by then).
 */
export function sampleProblem(
  sample: Sample,
  deploys: readonly DeployRecord[],
): string | undefined {
  if (sample.error !== undefined) return `${sample.kind}: ${sample.error}`;
  if (sample.status !== 200) return `${sample.kind}: status ${sample.status}`;
  if (sample.release === undefined) return `${sample.kind}: no release header`;
  const live = deploys.filter((deploy) => deploy.live);
  const fits = live.some((deploy, index) => {
    const retired = live[index + 1]?.endedAt ?? Number.POSITIVE_INFINITY;
    return (
      deploy.release === sample.release &&
      deploy.startedAt <= sample.endedAt &&
      retired >= sample.startedAt
    );
  });
  return fits
    ? undefined
    : `${sample.kind}: answered by release ${sample.release}, not live between ${sample.startedAt} and ${sample.endedAt}`;
}
