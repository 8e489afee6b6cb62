// A reader that goes away (`svc history T | head -1`) closes the pipe svc writes to, and svc's next
// write fails with EPIPE. Node reports that as an 'error' event on process.stdout, and an error
// event nobody listens to ends the process with a stack trace, wherever svc was: in a deploy that
// could be after one host's upload and before the others'. So svc listens, once, on both of its
// output streams: what it writes from then on is dropped (a destroyed stream takes writes and
// does nothing), the command runs to its end (a deploy still finishes, or rolls back, on every
// host), and svc exits as a Unix tool that met a closed pipe is seen to exit: 141, 128 + SIGPIPE,
// with nothing said. Commands that would otherwise run forever (svc top, svc logs -f) also end
// when their reader does, each by its own listener.
import { EXIT } from '../core/errors.js';

export interface ClosedOutput {
  /** The error that closed stdout or stderr first, if either was closed. */
  readonly error: NodeJS.ErrnoException | undefined;
  /** The exit code for a command that returned `code` (an error of its own is kept). */
  exitCode(code: number): number;
}

/**
 * Listens for the end of `streams` (svc's stdout and stderr). An EPIPE is the reader gone and is
 * not mentioned; another error (a disk that filled under `svc plan > file`) is said once on a
 * stream still open, and the run ends with an error code.
 */
export function watchClosedOutput(
  streams: readonly NodeJS.WritableStream[] = [process.stdout, process.stderr],
): ClosedOutput {
  let first: NodeJS.ErrnoException | undefined;
  const closed = new Set<NodeJS.WritableStream>();
  for (const stream of streams) {
    stream.on('error', (error: NodeJS.ErrnoException) => {
      closed.add(stream);
      if (first !== undefined) return;
      first = error;
      if (error.code === 'EPIPE') return;
      const other = streams.find((candidate) => !closed.has(candidate));
      other?.write(`svc: error: cannot write the output: ${error.message}\n`);
    });
  }
  return {
    get error() {
      return first;
    },
    exitCode(code) {
      if (first === undefined || code !== EXIT.ok) return code;
      return first.code === 'EPIPE' ? EXIT.closedPipe : EXIT.error;
    },
  };
}
