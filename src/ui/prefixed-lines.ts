// `HOST | line` for the output of several hosts on one terminal. A stream, so `svc logs -f` can
// run for hours: it holds at most the unfinished last line (cut at MAX_LINE), never the output.
import { Transform, type Readable, type TransformCallback, type Writable } from 'node:stream';

/** A longer line is passed on in pieces of this size, each prefixed: memory stays bounded. */
export const MAX_LINE = 64 * 1024;
const NEWLINE = 0x0a;

export class PrefixedLines extends Transform {
  private readonly prefix: Buffer;
  private carry: Buffer = Buffer.alloc(0);

  constructor(prefix: string) {
    super();
    this.prefix = Buffer.from(prefix);
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    const out: Buffer[] = [];
    let data = this.carry.length > 0 ? Buffer.concat([this.carry, chunk]) : chunk;
    let start = 0;
    for (;;) {
      const end = data.indexOf(NEWLINE, start);
      if (end === -1) break;
      out.push(this.prefix, data.subarray(start, end + 1));
      start = end + 1;
    }
    data = data.subarray(start);
    while (data.length >= MAX_LINE) {
      out.push(this.prefix, data.subarray(0, MAX_LINE), Buffer.from('\n'));
      data = data.subarray(MAX_LINE);
    }
    // A copy: a slice would keep the whole chunk it came from alive.
    this.carry = Buffer.from(data);
    done(null, out.length > 0 ? Buffer.concat(out) : undefined);
  }

  override _flush(done: TransformCallback): void {
    done(
      null,
      this.carry.length > 0
        ? Buffer.concat([this.prefix, this.carry, Buffer.from('\n')])
        : undefined,
    );
  }
}

/** One wait for 'drain' (or the end) per destination, however many sources wait on it. */
const drains = new WeakMap<NodeJS.WritableStream, Promise<void>>();

function drained(destination: NodeJS.WritableStream): Promise<void> {
  let wait = drains.get(destination);
  if (!wait) {
    wait = new Promise((resolve) => {
      const done = () => {
        destination.off('drain', done);
        destination.off('close', done);
        resolve();
      };
      destination.on('drain', done);
      destination.on('close', done);
    });
    drains.set(destination, wait);
    void wait.then(() => drains.delete(destination));
  }
  return wait;
}

/**
 * Writes `source` into `destination` (process.stdout, shared by every host) with backpressure,
 * without `pipe`: a pipe per host would add listeners to stdout, past Node's warning at ten hosts.
 * `destination` is never ended. Once it is gone (`svc logs -f | head`), the rest is read and
 * dropped, so the source still ends and the command can finish.
 */
export function writeThrough(source: Readable, destination: Writable): void {
  source.on('data', (chunk: Buffer) => {
    if (destination.destroyed || destination.write(chunk)) return;
    source.pause();
    void drained(destination).then(() => source.resume());
  });
}
