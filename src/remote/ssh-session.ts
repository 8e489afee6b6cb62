// `svc exec`'s command on one host's connection (HostConnection.session): the caller's streams,
// an optional pseudo-terminal, no timeout.
import { constants as osConstants } from 'node:os';
import type { Client as SshClient, ClientChannel } from 'ssh2';
import { SvcError } from '../core/errors.js';
import { shellQuote } from '../core/quote.js';
import { SAY_PID } from '../core/interrupt-pid.js';
import { pidInterrupt } from './interrupt.js';
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
  /**
   * Aborting sends SIGINT to the remote command: through the pty (the terminal's Ctrl-C), else as
   * an SSH signal request and as `kill -INT` of its pid (as RunOptions.signal).
   */
  signal?: AbortSignal;
}

/**
 * Runs a sh script as root with the caller's streams (`svc exec`): the script goes on the
 * command line (`sh -c`), so stdin is the command's own, and with `pty` the command gets a
 * pseudo-terminal (a REPL works; stderr then arrives on stdout, as with ssh -t). No timeout: it
 * runs as long as the command does. Resolves with the exit status (128 + N for a signal).
 * `lost` says whether the connection was lost (an exec refused then says so); `sendKill` runs
 * interrupt.ts's kill over a second exec on the same connection.
 */
export function session(
  client: SshClient,
  endpoint: SshEndpoint,
  lost: () => boolean,
  sendKill: (kill: string) => void,
  script: string,
  options: SessionOptions,
): Promise<number> {
  const pty = options.pty;
  // Without a pty, Ctrl-C reaches the command as a terminal's would: it runs in a session of its
  // own (setsid), whose leader says its pid first (taken off stdout by interrupt.ts) and then
  // execs the script; the kill goes to that process group, so a pipeline ends whole. setsid
  // execs in place only in a process that leads no group: the subshell (forked, as a command
  // follows it) is one, where sshd's shell leads its own; a background job would ignore INT.
  const byPid = options.signal !== undefined && !pty;
  const inSession = `${SAY_PID}exec sh -c ${shellQuote(script)}`;
  const shell = `sh -c ${shellQuote(byPid ? `(exec setsid sh -c ${shellQuote(inSession)}); exit $?` : script)}`;
  const command = endpoint.user === 'root' ? shell : `sudo -n ${shell}`;
  if (process.env.SVC_TRACE_SSH === '1')
    process.stderr.write(`svc-trace: ${endpoint.name} exec session\n`);
  return new Promise((resolve, reject) => {
    const opened = (error: Error | undefined, channel: ClientChannel) => {
      if (error) {
        const why = lost() ? `the connection was lost (${error.message})` : error.message;
        return reject(new SvcError(`${endpoint.name}: ${why}`));
      }
      // stdout is written as it comes (the pid line kept back), so all of it is out before the
      // status is given.
      // A reader slower than the command holds the channel (and so the SSH window) shut, as
      // pipe() would: else svc would buffer all the command prints.
      let paused = false;
      const deliver = (chunk: Buffer) => {
        if (options.stdout.write(chunk) || paused) return;
        paused = true;
        channel.pause();
        options.stdout.once('drain', () => {
          paused = false;
          channel.resume();
        });
      };
      const byPidInterrupt = byPid ? pidInterrupt(deliver, sendKill, true) : undefined;
      if (byPidInterrupt) channel.on('data', (chunk: Buffer) => byPidInterrupt.data(chunk));
      else channel.pipe(options.stdout, { end: false });
      channel.stderr.pipe(options.stderr, { end: false });
      const resize = () => pty?.size && channel.setWindow(pty.size().rows, pty.size().cols, 0, 0);
      if (pty?.size) pty.resizeEvents?.on('resize', resize);
      const interrupt = () => {
        channel.signal('INT');
        byPidInterrupt?.interrupt();
      };
      // A Ctrl-C that came while the session opened reaches it as one that comes later (as run()).
      if (options.signal?.aborted) queueMicrotask(interrupt);
      else options.signal?.addEventListener('abort', interrupt, { once: true });
      if (options.stdin) options.stdin.pipe(channel);
      else channel.end();
      channel.on('close', (code: number | null | undefined, signal?: string) => {
        byPidInterrupt?.close();
        options.signal?.removeEventListener('abort', interrupt);
        pty?.resizeEvents?.off('resize', resize);
        options.stdin?.unpipe(channel);
        if (typeof code === 'number') return resolve(code);
        // ssh2 names the signal as node does (SIGINT); OpenSSH's wire name is INT.
        const name = signal?.startsWith('SIG') ? signal : `SIG${signal}`;
        const number = signal ? osConstants.signals[name as NodeJS.Signals] : undefined;
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
