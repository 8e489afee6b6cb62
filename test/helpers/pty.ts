// Drives the real bin/svc on a pseudo-terminal made by util-linux `script`: `script` reads what to
// type from its stdin (a pipe here) and writes the terminal's output to its stdout, so a test can
// answer prompts the way a person would.
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SVC = fileURLToPath(new URL('../../bin/svc', import.meta.url));

export const KEY = { enter: '\r', down: '\u001b[B', ctrlC: '\u0003' } as const;
export const WAIT_MS = 15_000;
/** The session shell's last line: everything svc wrote came before it. */
const DONE = 'svc-pty-done';
/** The line waitForExit types once it has read DONE: the session shell ends on it alone. */
const ACK = 'svc-pty-ack';

// CSI (colours, cursor moves, erase) and OSC sequences, so prompts can be matched as plain text.
/* eslint-disable no-control-regex -- escape sequences are control characters */
const ANSI =
  /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
/* eslint-enable no-control-regex */
export const stripAnsi = (text: string) => text.replace(ANSI, '');

const shellQuote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;

/**
 * Environment for the child: a person's terminal, colourless, of a known type, with no inherited
 * colour forcing and no `CI` (svc draws no progress when `CI` is set, and the project's CI sets it:
 * a test of the drawn progress then saw plain lines, ci-refusals of sessions 10 and 11).
 */
export function childEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    ...extra,
    TERM: 'xterm-256color',
    NO_COLOR: '1',
    SHELL: '/bin/sh',
  };
  delete env.FORCE_COLOR;
  delete env.SVC_DEBUG;
  delete env.CI;
  return env;
}

interface Exit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** One `svc` run on a pseudo-terminal, with everything it printed kept for matching. */
export class PtySession {
  private readonly child: ChildProcessWithoutNullStreams;
  private raw = '';
  private cursor = 0;
  private readonly exited: Promise<Exit>;
  private exit: Exit | undefined;

  /**
   * `then`: a shell command run on the same terminal after svc exits (say `stty -a`, to see the
   * terminal svc left behind). svc's exit code is shown as `svc-exit=N`, and is the session's.
   */
  constructor(args: readonly string[], cwd: string, env: NodeJS.ProcessEnv = {}, then?: string) {
    // `script` gives the pty no size when its stdin is a pipe (0 columns); set one so prompts and
    // progress lay out as on a real terminal.
    const svc = [process.execPath, SVC, ...args].map(shellQuote).join(' ');
    // The session's process is a shell that outlives svc: `script` leaves 10 ms after its child
    // exits (util-linux lib/pty-session.c), while the kernel hands what the child wrote on to the
    // pty's other side through a work queue, so on a busy machine svc's last bytes (the cursor
    // shown again, the result table) could be lost. The shell says DONE once svc (and `then`) have
    // written everything, and waits for this side to have read it (waitForExit answers with the
    // line ACK; a line typed earlier that svc left unread does not count). It traps Ctrl-C so that
    // it lives on; svc gets the default disposition, as exec'd.
    const command =
      `trap : INT; stty cols 100 rows 40 2>/dev/null; ${svc}; rc=$?; echo "svc-exit=$rc"; ` +
      `${then === undefined ? '' : `${then}; `}echo ${DONE}; ` +
      `while IFS= read -r line; do [ "$line" != ${ACK} ] || break; done; exit $rc`;
    this.child = spawn('script', ['-qec', command, '/dev/null'], {
      cwd,
      env: childEnv(env),
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    this.child.stdout.setEncoding('utf8');
    this.child.stderr.setEncoding('utf8');
    this.child.stdout.on('data', (chunk: string) => (this.raw += chunk));
    this.child.stderr.on('data', (chunk: string) => (this.raw += chunk));
    this.child.stdin.on('error', () => undefined); // the child may be gone before a late write
    this.exited = new Promise((resolve, reject) => {
      this.child.on('error', reject);
      this.child.on('close', (code, signal) => {
        this.exit = { code, signal };
        resolve(this.exit);
      });
    });
    this.exited.catch(() => undefined);
  }

  /** Whether `script` (and so the session) has ended. */
  get ended(): boolean {
    return this.exit !== undefined;
  }

  /** What the terminal was sent so far, escape sequences and all. */
  get rawOutput(): string {
    return this.raw;
  }

  /** What the terminal showed so far, without escape sequences. */
  get output(): string {
    return stripAnsi(this.raw);
  }

  send(keys: string): void {
    this.child.stdin.write(keys);
  }

  /**
   * Waits until the output after the previous match matches `pattern`, then moves past it, so a
   * prompt asked twice is matched once per asking.
   */
  async expectOutput(pattern: RegExp, timeoutMs = WAIT_MS): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.output;
      const match = pattern.exec(text.slice(this.cursor));
      if (match) {
        this.cursor += match.index + match[0].length;
        return match[0];
      }
      if (this.exit !== undefined || text.includes(DONE)) {
        throw new Error(
          `svc exited (${JSON.stringify(this.exit ?? 'svc-exit above')}) before ${pattern}; output:\n${text}`,
        );
      }
      if (Date.now() > deadline) {
        throw new Error(`no ${pattern} within ${timeoutMs} ms; output:\n${text}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /** Waits for the prompt, then types the answer and Enter. */
  async answer(prompt: RegExp, text: string): Promise<void> {
    await this.expectOutput(prompt);
    this.send(text + KEY.enter);
  }

  /** Waits for svc to end (and, once the session shell said DONE, lets that shell end too). */
  async waitForExit(timeoutMs = WAIT_MS): Promise<Exit> {
    const deadline = Date.now() + timeoutMs;
    let answered = false;
    while (this.exit === undefined) {
      if (!answered && this.raw.includes(DONE)) {
        this.send(`${ACK}\r`);
        answered = true;
      }
      if (Date.now() > deadline) {
        throw new Error(`svc still running after ${timeoutMs} ms; output:\n${this.output}`);
      }
      await Promise.race([this.exited, new Promise((resolve) => setTimeout(resolve, 25))]);
    }
    return this.exit;
  }

  /** Ends this run's `script` (which ends the svc under it) if it is still going, and waits. */
  async stop(): Promise<void> {
    this.child.stdin.end();
    if (this.exit !== undefined || this.child.exitCode !== null || this.child.signalCode !== null) {
      return;
    }
    // svc is not script's child but the session shell's, in that shell's process group: TERM goes
    // to the group (script would send it to the shell alone, and svc would only see the hangup).
    this.signalSession('SIGTERM');
    try {
      await this.waitForExit(5_000);
    } catch {
      this.signalSession('SIGKILL');
      this.child.kill('SIGKILL');
      await this.waitForExit(5_000).catch(() => undefined);
    }
  }

  /** `signal` to the process group of the session shell `script` started (its only child). */
  private signalSession(signal: NodeJS.Signals): void {
    const pid = this.child.pid;
    let children: number[] = [];
    try {
      children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
        .split(' ')
        .filter(Boolean)
        .map(Number);
    } catch {
      // script is gone already
    }
    for (const shell of children) {
      try {
        process.kill(-shell, signal); // the shell leads its own session and process group
      } catch {
        // the group ended meanwhile
      }
    }
  }
}
