// Ctrl-C while svc waits on hosts: SIGINT aborts a signal instead of ending svc, so that each
// host's script is told (HostConnection.run's `signal`: the SSH signal request and `kill -INT` of
// the script's pid), cleans up, and says how it ended; svc then reports and exits 130. Ended
// outright, svc would leave every host to finish alone, unheard. A second Ctrl-C is the way out
// when waiting is not wanted (or a host cannot be reached: a command whose first process is gone
// while a child it left holds the output open): svc leaves at once, and each host's script goes on
// to its end or undo without svc, as it does when the connection is lost.
import type { EventEmitter } from 'node:events';
import { writeSync } from 'node:fs';
import { EXIT } from '../core/errors.js';

/** A second SIGINT sooner than this after the first is the same press. */
const SAME_PRESS_MS = 200;

export const LEAVING_LINE =
  'svc: Ctrl-C again: leaving without waiting; each host finishes (or undoes) on its own (svc status shows where it is)';

/**
 * SIGINT runs `first`; a second one leaves svc at once (exit 130) with LEAVING_LINE, unless it
 * came within SAME_PRESS_MS of the first (the same press, relayed). Returns what removes the
 * handler.
 */
export function onCtrlC(first: () => void): () => void {
  let pressed = 0;
  let firstAt = 0;
  const handler = () => {
    pressed += 1;
    if (pressed === 1) {
      firstAt = Date.now();
      return first();
    }
    // One Ctrl-C can come as two SIGINTs (npm run forwards the terminal's to its child).
    if (Date.now() - firstAt < SAME_PRESS_MS) return;
    // Straight to fd 2: a progress display (listr2) may hold process.stderr's writes until it
    // ends, which process.exit never lets it; its hidden cursor is shown again.
    try {
      writeSync(2, `${process.stderr.isTTY ? '\u001b[?25h' : ''}${LEAVING_LINE}\n`);
    } catch {
      // stderr closed (EPIPE): svc leaves all the same.
    }
    process.exit(EXIT.interrupted);
  };
  process.on('SIGINT', handler);
  return () => process.off('SIGINT', handler);
}

/**
 * Runs `work` with SIGINT turned into `signal`'s abort (a second one leaves: onCtrlC), and each of
 * `also`'s events too (svc exec: its stdout's `error`, a reader gone); the handlers are gone when
 * it ends.
 */
export async function whileCtrlC<T>(
  work: (signal: AbortSignal) => Promise<T>,
  also: readonly (readonly [EventEmitter, string])[] = [],
): Promise<T> {
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  const offCtrlC = onCtrlC(interrupt);
  for (const [emitter, event] of also) emitter.on(event, interrupt);
  try {
    return await work(controller.signal);
  } finally {
    offCtrlC();
    for (const [emitter, event] of also) emitter.off(event, interrupt);
  }
}
