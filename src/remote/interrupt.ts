// Ctrl-C to a host script by its pid, the transport's half of core/interrupt-pid.ts: sshd refuses
// the SSH signal request for a root login, so the shell that runs the script first prints
// `svc-pid PID START`, which is taken off stdout here, and on Ctrl-C `kill -INT` for that pid goes
// over a second short exec on the same connection, only while the script's channel is open.
import {
  interruptScript,
  parsePidLine,
  PID_LINE_PREFIX,
  SAY_PID,
  type ScriptProcess,
} from '../core/interrupt-pid.js';
import { shellQuote } from '../core/quote.js';
import { runExactScript } from '../core/script-file.js';

/**
 * Whether Ctrl-C reaches a run's script by its pid too: only with a signal to abort it, and not
 * with `stdout` (streamed as is) nor with holdStdin, whose script ends when its stdin does.
 */
export function interruptsByPid(options: {
  signal?: AbortSignal;
  holdStdin?: boolean;
  stdout?: NodeJS.WritableStream;
}): boolean {
  return options.signal !== undefined && !options.holdStdin && !options.stdout;
}

/**
 * The sh command line (before any `sudo -n`) that runs a script of `length` bytes: read by exact
 * length when input or a held stdin follows it (`exact`), else by `sh -s`; with `byPid`, the
 * shell that execs the script says its pid first.
 */
export function scriptShell(length: number, exact: boolean, byPid: boolean): string {
  const sayPid = byPid ? SAY_PID : '';
  return exact
    ? `sh -c ${shellQuote(`${sayPid}${runExactScript(length)}`)}`
    : byPid
      ? `sh -c ${shellQuote(`${sayPid}exec sh -s`)}`
      : 'sh -s';
}

/** One exec's Ctrl-C by pid: fed its stdout, told of Ctrl-C and of the channel's close. */
export interface PidInterrupt {
  /** stdout as it arrives: the pid line is kept back, the rest goes to `deliver`. */
  data(chunk: Buffer): void;
  /** Ctrl-C: the kill is sent now, or as soon as the pid line has come. */
  interrupt(): void;
  /** The channel closed: no kill from now on; what stdout held back is delivered. */
  close(): void;
}

/**
 * `deliver` gets stdout without the pid line; `sendKill` runs the given sh (interruptScript, to
 * the process group the script leads with `group`) over a second exec, and is called at most once.
 */
export function pidInterrupt(
  deliver: (chunk: Buffer) => void,
  sendKill: (script: string) => void,
  group = false,
): PidInterrupt {
  // stdout begins with the pid line: taken off before anyone sees stdout.
  let head: Buffer | undefined = Buffer.alloc(0);
  let script: ScriptProcess | undefined;
  let closed = false;
  let interrupted = false;
  let killSent = false;
  const killScript = () => {
    // Only while the channel is open: the script ended, its pid is nobody's business.
    if (!script || closed || killSent) return;
    killSent = true;
    sendKill(interruptScript(script, group));
  };
  const takeHead = (flush: boolean) => {
    if (!head) return;
    const end = head.indexOf(10);
    if (end < 0 && head.length < 256 && !flush) return;
    const first = end < 0 ? undefined : head.subarray(0, end).toString('latin1');
    const said = first === undefined ? undefined : parsePidLine(first);
    // A pid line svc cannot use (no start time read, say) is still no output of the command.
    const rest = first?.startsWith(PID_LINE_PREFIX) ? head.subarray(end + 1) : head;
    head = undefined;
    script = said;
    if (interrupted) killScript();
    if (rest.length > 0) deliver(rest);
  };
  return {
    data(chunk) {
      if (!head) return deliver(chunk);
      head = Buffer.concat([head, chunk]);
      takeHead(false);
    },
    interrupt() {
      interrupted = true;
      killScript();
    },
    close() {
      closed = true;
      takeHead(true);
    },
  };
}
