// The pid line (core/interrupt-pid.ts) taken off the front of a command's stdout that is passed
// through as it comes (`svc exec` without a terminal): the reader gets the command's output only,
// and svc knows which process to send `kill -INT` on Ctrl-C.
import { Transform, type TransformCallback } from 'node:stream';
import { parsePidLine, type ScriptProcess } from '../core/interrupt-pid.js';

/** Longest first line looked at: a pid line is far shorter; anything else is output. */
const HEAD_LIMIT = 256;

export class PidLineHead extends Transform {
  private head: Buffer | undefined = Buffer.alloc(0);

  /** `said` gets the process (undefined when the first line was not a pid line), once. */
  constructor(private readonly said: (script: ScriptProcess | undefined) => void) {
    super();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    if (!this.head) return done(null, chunk);
    this.head = Buffer.concat([this.head, chunk]);
    this.takeHead(false);
    done();
  }

  override _flush(done: TransformCallback): void {
    this.takeHead(true);
    done();
  }

  private takeHead(flush: boolean): void {
    const head = this.head;
    if (!head) return;
    const end = head.indexOf(10);
    if (end < 0 && head.length < HEAD_LIMIT && !flush) return;
    const script = end < 0 ? undefined : parsePidLine(head.subarray(0, end).toString('latin1'));
    this.head = undefined;
    this.said(script);
    const rest = script ? head.subarray(end + 1) : head;
    if (rest.length > 0) this.push(rest);
  }
}
