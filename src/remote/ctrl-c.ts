// Ctrl-C while svc waits on hosts: SIGINT aborts a signal instead of ending svc, so that each
// host's script is told (HostConnection.run's `signal`: the SSH signal request and `kill -INT` of
// the script's pid), cleans up, and says how it ended; svc then reports and exits 130. Ended
// outright, svc would leave every host to finish alone, unheard.

/** Runs `work` with SIGINT turned into `signal`'s abort; the handler is gone when it ends. */
export async function whileCtrlC<T>(work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.on('SIGINT', interrupt);
  try {
    return await work(controller.signal);
  } finally {
    process.off('SIGINT', interrupt);
  }
}
