// The fact round trip of `svc deploy` held open for svc's verdict (core/history-script.ts
// heldFactScript): a host with nothing to change gets its `unchanged` record in the same remote
// command that read its facts, one exec per host (issue 14), not a second one (issue 12's record).
import { PassThrough, Writable } from 'node:stream';
import { VERDICT_UNCHANGED } from '../core/history-script.js';
import type { ConnectionPool, HostConnection, RunResult, SshEndpoint } from './ssh.js';

const FACTS_END = Buffer.from('\nE\tsvc-facts\n');

export interface HeldFacts {
  /** The fact script's output up to and with its end marker (what the digest covers). */
  output: Buffer;
  /**
   * Ends the wait: `unchanged` asks for the record and resolves with the command's result (its
   * stdout: what came after the facts); `false` closes stdin (the script writes nothing). Rejects
   * (SvcError) when the connection failed meanwhile. Call it once.
   */
  verdict(unchanged: boolean): Promise<RunResult>;
}

/**
 * Runs the held script. Resolves once the facts' end marker has arrived, or with the command's
 * result when it ended first (a failure, read as the fact script's). A connection lost before
 * the facts came is tried once more on a new connection, as runReadOnly does: nothing was written.
 */
export async function runHeldFacts(
  pool: ConnectionPool,
  host: SshEndpoint,
  script: string,
  step: string,
): Promise<HeldFacts | RunResult> {
  const first = await pool.get(host);
  try {
    return await attempt(first);
  } catch (error) {
    if (!first.lost) throw error;
    return attempt(await pool.get(host));
  }

  function attempt(connection: HostConnection) {
    return new Promise<HeldFacts | RunResult>((resolve, reject) => {
      const feed = new PassThrough();
      const chunks: Buffer[] = [];
      let length = 0;
      // The last bytes seen, so that a marker split across two chunks is found (each chunk is
      // searched once: facts with --diff's contents can be megabytes).
      let tail = Buffer.alloc(0);
      let held: Buffer | undefined;
      const sink = new Writable({
        write(chunk: Buffer, _encoding, done) {
          chunks.push(chunk);
          length += chunk.length;
          if (held === undefined) {
            const window = Buffer.concat([tail, chunk]);
            const at = window.indexOf(FACTS_END);
            if (at === -1) tail = window.subarray(Math.max(0, window.length - FACTS_END.length));
            else {
              const all = Buffer.concat(chunks);
              const end = length - window.length + at + FACTS_END.length;
              held = all.subarray(0, end);
              chunks.splice(0, chunks.length, all.subarray(end));
              resolve({ output: held, verdict });
            }
          }
          done();
        },
      });
      const running = connection.run(script, step, { holdStdin: true, feed, stdout: sink });
      // Once the facts are in, the result is the verdict's to report.
      running.then(
        (result) => {
          if (held === undefined) resolve({ ...result, stdout: Buffer.concat(chunks) });
        },
        (error: unknown) => {
          if (held === undefined) reject(error);
        },
      );
      function verdict(unchanged: boolean): Promise<RunResult> {
        feed.end(unchanged ? `${VERDICT_UNCHANGED}\n` : undefined);
        return running.then((result) => ({ ...result, stdout: Buffer.concat(chunks) }));
      }
    });
  }
}

export function isHeld(result: HeldFacts | RunResult): result is HeldFacts {
  return 'verdict' in result;
}
