// Running svc.yaml `secretsCommand` for one key, on the deployer's machine, without a shell.
//
// The command runs in a process group (and session) of its own, so that whatever it started can be
// ended with it: a timeout sends TERM to the whole group, then KILL. Its stdout is the value (at
// most MAX_SECRET_BYTES); its stderr goes straight to svc's stderr, the user's terminal, because
// that is where `pass` and `op` explain a failure, and by their contract it never holds the value.
// svc never reads it, so it is in no file or event svc writes. Stdin is /dev/null: a tool asks for
// a passphrase through its own agent (gpg-agent's pinentry, op's app), not on svc's stdin.
import { spawn } from 'node:child_process';
import { MAX_SECRET_BYTES, SECRETS_COMMAND_TIMEOUT_MS, type CommandEnd } from '../core/secrets.js';

type Env = Readonly<Record<string, string | undefined>>;

export interface CommandLimits {
  /** From the start until the group is sent TERM. */
  timeoutMs: number;
  /** From TERM until KILL. */
  killAfterMs: number;
  /**
   * Once the command itself has exited, how long its stdout may stay open: a process it left
   * behind (`sleep 60 &`) holds the pipe, and waiting for it would cost every key the timeout.
   */
  pipeGraceMs: number;
}

export const COMMAND_LIMITS: CommandLimits = {
  timeoutMs: SECRETS_COMMAND_TIMEOUT_MS,
  killAfterMs: 2_000,
  pipeGraceMs: 500,
};

export type CommandResult = { stdout: Buffer } | { end: CommandEnd };

/**
 * The signals that would end svc while the command runs. The command's group is its own (see
 * above), so the terminal's Ctrl-C no longer reaches it: svc ends it itself, then says so.
 */
const STOP_SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** Whether any process of group `pgid` is still there (zombies included: they are not ours). */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/**
 * Runs `argv` in `dir` with `env` and resolves with its stdout, or how it failed. It resolves
 * once the command has exited and its stdout has closed, or the pipe grace after its exit has
 * passed, or the timeout has; in every case no process of its group is left running: what
 * remains is sent TERM, then KILL `killAfterMs` later, before this resolves.
 */
export function runSecretsCommand(
  argv: readonly string[],
  dir: string,
  env: Env,
  limits: CommandLimits = COMMAND_LIMITS,
): Promise<CommandResult> {
  return new Promise((settle) => {
    let interrupted = false;
    const onSignal = () => {
      interrupted = true;
      finish(outcome());
    };
    // Held until the group is gone: a second Ctrl-C meanwhile must not end svc before it.
    for (const signal of STOP_SIGNALS) process.on(signal, onSignal);
    // svc may still leave meanwhile (deploy's second Ctrl-C: remote/ctrl-c.ts process.exit): the
    // group goes with it, never left to run on in its own session.
    const killOnExit = () => child.pid !== undefined && signalGroup(child.pid, 'SIGKILL');
    process.on('exit', killOnExit);
    const resolve = (result: CommandResult) => {
      for (const signal of STOP_SIGNALS) process.off(signal, onSignal);
      process.off('exit', killOnExit);
      settle(result);
    };
    const child = spawn(argv[0]!, argv.slice(1), {
      cwd: dir,
      env,
      // A group of its own (setsid): `kill(-pid)` then reaches everything it started.
      detached: true,
      stdio: ['ignore', 'pipe', 'inherit'],
      windowsHide: true,
    });
    const chunks: Buffer[] = [];
    let size = 0;
    let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
    let stdoutClosed = false;
    let overflow = false;
    let timedOut = false;
    let settled = false;
    const timers: NodeJS.Timeout[] = [];
    const later = (ms: number, run: () => void) => timers.push(setTimeout(run, ms));

    /** Ends what is left of the group (TERM, then KILL), then resolves with `result`. */
    function finish(result: CommandResult): void {
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      child.stdout.destroy();
      const pgid = child.pid;
      if (pgid === undefined || !groupAlive(pgid)) return resolve(result);
      signalGroup(pgid, 'SIGTERM');
      const deadline = Date.now() + limits.killAfterMs;
      const poll = () => {
        if (!groupAlive(pgid)) return resolve(result);
        if (Date.now() >= deadline) {
          signalGroup(pgid, 'SIGKILL');
          return resolve(result);
        }
        setTimeout(poll, 20);
      };
      poll();
    }

    const outcome = (): CommandResult => {
      if (interrupted) return { end: { kind: 'interrupted' } };
      if (overflow) return { end: { kind: 'too-much-output' } };
      if (timedOut) return { end: { kind: 'timeout' } };
      if (exit === undefined) return { end: { kind: 'timeout' } };
      if (exit.signal !== null) return { end: { kind: 'signal', signal: exit.signal } };
      if (exit.code !== 0) return { end: { kind: 'exit', status: exit.code ?? 1 } };
      return { stdout: Buffer.concat(chunks) };
    };

    child.on('error', (error: NodeJS.ErrnoException) => {
      // Not started (ENOENT, EACCES): there is no process and no group.
      if (settled) return;
      settled = true;
      for (const timer of timers) clearTimeout(timer);
      resolve({ end: { kind: 'not-started', reason: `${argv[0]}: ${error.code ?? 'error'}` } });
    });
    child.stdout.on('data', (chunk: Buffer) => {
      size += chunk.length;
      // One trailing newline (\r\n) is not part of the value: allow for it.
      if (size > MAX_SECRET_BYTES + 2) {
        overflow = true;
        return finish(outcome());
      }
      chunks.push(chunk);
    });
    child.stdout.on('close', () => {
      stdoutClosed = true;
      if (exit !== undefined) finish(outcome());
    });
    child.on('exit', (code, signal) => {
      exit = { code, signal };
      if (stdoutClosed) return finish(outcome());
      // Something it started holds its stdout: wait a little for the rest of the output, no more.
      later(limits.pipeGraceMs, () => finish(outcome()));
    });
    later(limits.timeoutMs, () => {
      if (exit === undefined) timedOut = true;
      finish(outcome());
    });
  });
}
