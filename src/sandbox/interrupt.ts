// Ctrl-C or a kill (SIGINT, SIGTERM, SIGHUP) during `svc sandbox up`: instead of dying with half
// the hosts running, `up` notes the signal, lets the host starts in flight reach a check point
// (every step is bounded), tears down every host it started, and exits 130. A second signal
// changes nothing; only SIGKILL skips the teardown, and then `down` cleans from the records.
import { InterruptedError } from '../core/errors.js';

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

export interface Interrupt {
  /** The signal received, if any. */
  readonly signal: NodeJS.Signals | undefined;
  /** Throws an InterruptedError once a signal has arrived: call between steps. */
  check(): void;
  dispose(): void;
}

export function catchInterrupts(): Interrupt {
  let received: NodeJS.Signals | undefined;
  const handler = (signal: NodeJS.Signals) => {
    if (received) return;
    received = signal;
    process.stderr.write(`svc: ${signal}: removing the hosts this up started...\n`);
  };
  for (const signal of SIGNALS) process.on(signal, handler);
  return {
    get signal() {
      return received;
    },
    check() {
      if (received) throw interrupted(received);
    },
    dispose() {
      for (const signal of SIGNALS) process.off(signal, handler);
    },
  };
}

export function interrupted(signal: NodeJS.Signals): InterruptedError {
  return new InterruptedError(`interrupted (${signal}): removed the hosts this up had started`);
}
