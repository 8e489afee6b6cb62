// One host's `svc top` reader: the long-lived script of core/top-script.ts on its own channel of
// the host's connection, sent once, then one request line per refresh (svc's one remote command
// per host per refresh) answered by one sample (B ... E). The reader's stdin is svc's: ending it,
// or svc's death, or the connection's loss, ends the reader on the host.
import { PassThrough, Writable } from 'node:stream';
import { TOP_REQUEST } from '../core/top-script.js';
import type { HostConnection } from './ssh.js';

/** A sample larger than this is no sample (4096 processes of two lines each fit many times). */
const MAX_SAMPLE_BYTES = 4 * 1024 * 1024;

interface Pending {
  resolve: (text: string) => void;
  reject: (error: Error) => void;
  timer: NodeJS.Timeout;
}

export class TopReader {
  private readonly feed = new PassThrough();
  private text = '';
  private pending: Pending | undefined;
  /** Why the reader is over (it ended, failed, or was closed); undefined while it answers. */
  ended: string | undefined;

  constructor(
    connection: HostConnection,
    script: string,
    private readonly onBytes: (received: number) => void,
  ) {
    const sink = new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        this.onData(chunk);
        done();
      },
    });
    connection
      .run(script, 'reading top', {
        holdStdin: true,
        feed: this.feed,
        stdout: sink,
        timeoutMs: Infinity,
      })
      .then(
        (result) => {
          const said = result.stderr.toString('utf8').trim().split('\n').at(-1);
          this.end(`the top script ended (exit ${result.code})${said ? `: ${said}` : ''}`);
        },
        (error: Error) => this.end(error.message),
      );
  }

  /** One sample: the output from B to E, or an error when none came within timeoutMs. */
  sample(first: boolean, timeoutMs: number): Promise<string> {
    if (this.ended !== undefined) return Promise.reject(new Error(this.ended));
    if (this.pending !== undefined) return Promise.reject(new Error('a sample is still asked'));
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        // A host that does not answer gets a new reader next time: this one may never speak.
        this.end(`no sample within ${timeoutMs / 1000} s`);
      }, timeoutMs);
      this.pending = { resolve, reject, timer };
      this.text = '';
      this.feed.write(first ? TOP_REQUEST.first : TOP_REQUEST.next);
    });
  }

  private onData(chunk: Buffer): void {
    this.onBytes(chunk.length);
    if (this.pending === undefined) {
      this.end('the top script wrote without being asked');
      return;
    }
    this.text += chunk.toString('latin1');
    if (this.text.length > MAX_SAMPLE_BYTES) {
      this.end(`a sample of more than ${MAX_SAMPLE_BYTES} bytes`);
      return;
    }
    // The sample is complete at its end marker, a line of its own.
    if (this.text === 'E\n' || this.text.endsWith('\nE\n')) {
      const { resolve, timer } = this.pending;
      clearTimeout(timer);
      this.pending = undefined;
      resolve(Buffer.from(this.text, 'latin1').toString('utf8'));
      this.text = '';
    }
  }

  private end(why: string): void {
    this.ended ??= why;
    this.feed.end();
    if (this.pending !== undefined) {
      const { reject, timer } = this.pending;
      clearTimeout(timer);
      this.pending = undefined;
      reject(new Error(why));
    }
  }

  /** Ends the reader's stdin: the script on the host ends. */
  close(): void {
    this.end('closed');
  }
}
