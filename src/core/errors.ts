// Typed errors. A SvcError is the user's to act on: its message is printed as one line and the
// process exits with its code. Anything else that reaches the top-level catch is a bug in svc.

export const EXIT = {
  ok: 0,
  error: 1,
  /** Reserved for `svc plan --detailed-exitcode`: the plan has changes. */
  changes: 2,
  interrupted: 130,
  /** The reader of svc's output went away (EPIPE): 128 + SIGPIPE, as a shell reports such a tool. */
  closedPipe: 141,
} as const;

export class SvcError extends Error {
  readonly exitCode: number;
  constructor(message: string, exitCode: number = EXIT.error) {
    super(message);
    this.name = 'SvcError';
    this.exitCode = exitCode;
  }
}

/** The user pressed Ctrl-C (or the process got SIGINT) before anything was written. */
export class InterruptedError extends SvcError {
  constructor(message = 'interrupted') {
    super(message, EXIT.interrupted);
    this.name = 'InterruptedError';
  }
}
