// `svc exec`'s command on one host's connection (HostConnection.session): the caller's streams,
// an optional pseudo-terminal, no timeout.
import { constants as osConstants } from 'node:os';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { SvcError } from '../core/errors.js';
import { shellQuote } from '../core/quote.js';
import { describeEndpoint, type SshEndpoint } from './ssh-endpoint.js';

export interface SessionOptions {
  /** A pseudo-terminal: TERM, its size now, and where a terminal's resizes are announced. */
  pty?: {
    term: string;
    size?: () => { rows: number; cols: number };
    resizeEvents?: NodeJS.EventEmitter;
  };
  /** Piped to the command (its end is the command's end of input); absent: none at all. */
  stdin?: NodeJS.ReadableStream;
  /** Written as it arrives, never ended. */
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
  /** Aborting sends SIGINT to the remote command. */
  signal?: AbortSignal;
}

/**
 * Runs a sh script as root with the caller's streams (`svc exec`): the script goes on the
 * command line (`sh -c`), so stdin is the command's own, and with `pty` the command gets a
 * pseudo-terminal (a REPL works; stderr then arrives on stdout, as with ssh -t). No timeout: it
 * runs as long as the command does. Resolves with the exit status (128 + N for a signal).
 * `lost` says whether the connection was lost (an exec refused then says so).
 */
export function session(
  client: SshClient,
  endpoint: SshEndpoint,
  lost: () => boolean,
  script: string,
  options: SessionOptions,
): Promise<number> {
  const shell = `sh -c ${shellQuote(script)}`;
  const command = endpoint.user === 'root' ? shell : `sudo -n ${shell}`;
  if (process.env.SVC_TRACE_SSH === '1')
    process.stderr.write(`svc-trace: ${endpoint.name} exec session\n`);
  const pty = options.pty;
  return new Promise((resolve, reject) => {
    const opened = (error: Error | undefined, channel: ClientChannel) => {
      if (error) {
        const why = lost() ? `the connection was lost (${error.message})` : error.message;
        return reject(new SvcError(`${endpoint.name}: ${why}`));
      }
      channel.pipe(options.stdout, { end: false });
      channel.stderr.pipe(options.stderr, { end: false });
      const resize = () => pty?.size && channel.setWindow(pty.size().rows, pty.size().cols, 0, 0);
      if (pty?.size) pty.resizeEvents?.on('resize', resize);
      const interrupt = () => channel.signal('INT');
      options.signal?.addEventListener('abort', interrupt, { once: true });
      if (options.stdin) options.stdin.pipe(channel);
      else channel.end();
      channel.on('close', (code: number | null | undefined, signal?: string) => {
        options.signal?.removeEventListener('abort', interrupt);
        pty?.resizeEvents?.off('resize', resize);
        options.stdin?.unpipe(channel);
        if (typeof code === 'number') return resolve(code);
        const number = signal ? osConstants.signals[`SIG${signal}` as NodeJS.Signals] : undefined;
        if (number !== undefined) return resolve(128 + number);
        reject(new SvcError(`${describeEndpoint(endpoint)}: the connection was lost`));
      });
    };
    if (pty) {
      const { rows, cols } = pty.size?.() ?? { rows: 24, cols: 80 };
      client.exec(command, { pty: { term: pty.term, rows, cols } }, opened);
    } else client.exec(command, opened);
  });
}
