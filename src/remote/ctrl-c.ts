// Ctrl-C while svc waits on hosts: SIGINT aborts a signal instead of ending svc, so that each
// host's script is told (HostConnection.run's `signal`: the SSH signal request and `kill -INT` of
// the script's pid), cleans up, and says how it ended; svc then reports and exits 130. Ended
// outright, svc would leave every host to finish alone, unheard.
import type { EventEmitter } from 'node:events';

/**
 * Runs `work` with SIGINT turned into `signal`'s abort, and each of `also`'s events too (svc
 * exec: its stdout's `error`, a reader gone); the handlers are gone when it ends.
 */
export async function whileCtrlC<T>(
  work: (signal: AbortSignal) => Promise<T>,
  also: readonly (readonly [EventEmitter, string])[] = [],
): Promise<T> {
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  const sources = [[process, 'SIGINT'] as const, ...also];
  for (const [emitter, event] of sources) emitter.on(event, interrupt);
  try {
    return await work(controller.signal);
  } finally {
    for (const [emitter, event] of sources) emitter.off(event, interrupt);
  }
}
