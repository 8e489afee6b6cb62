// Multi-step progress with listr2: the animated renderer on a terminal, one plain line per step
// when output is a pipe, a file, CI, or a terminal that reports no width.
import { Listr } from 'listr2';

export interface Step {
  title: string;
  run(): void | Promise<void>;
}

export function plainOutput(
  stream: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  const tty = stream as { isTTY?: boolean; columns?: number };
  // A terminal that reports no width (some CI ptys) would get one character per line.
  return !tty.isTTY || !tty.columns || env.CI !== undefined || env.TERM === 'dumb';
}

export async function runSteps(
  steps: readonly Step[],
  stream: NodeJS.WriteStream = process.stdout,
): Promise<void> {
  const list = new Listr(
    steps.map((step) => ({ title: step.title, task: () => step.run() })),
    {
      concurrent: false,
      exitOnError: true,
      renderer: plainOutput(stream) ? 'simple' : 'default',
      fallbackRenderer: 'simple',
    },
  );
  await list.run();
}

/** Per-host progress while hosts are applied: what each host is doing, then how it ended. */
export interface HostProgress {
  step(host: string, text: string): void;
  done(host: string, status: string, ok: boolean): void;
  /** Resolves when every host is done. */
  finished: Promise<void>;
}

/** Plain: one line per step on stderr. On a terminal: a listr2 task per host, updated in place. */
export function hostProgress(
  hosts: readonly string[],
  stream: NodeJS.WriteStream = process.stderr,
  plain = plainOutput(stream),
): HostProgress {
  if (plain) {
    return {
      step: (host, text) => stream.write(`${host}: ${text}\n`),
      done: () => undefined,
      finished: Promise.resolve(),
    };
  }
  type Handler = { step(text: string): void; done(status: string, ok: boolean): void };
  const handlers = new Map<string, Handler>();
  // Events that arrive before listr2 has started a host's task are replayed when it starts.
  const early = new Map<string, ((handler: Handler) => void)[]>();
  const deliver = (host: string, event: (handler: Handler) => void) => {
    const handler = handlers.get(host);
    if (handler) event(handler);
    else early.set(host, [...(early.get(host) ?? []), event]);
  };
  const list = new Listr(
    hosts.map((host) => ({
      title: host,
      task: (_: unknown, task: { title: string; output: string }) =>
        new Promise<void>((resolve, reject) => {
          const handler: Handler = {
            step: (text) => (task.title = `${host}: ${text}`),
            done: (status, ok) => {
              task.title = `${host}: ${status}`;
              if (ok) resolve();
              else reject(new Error(`${host}: ${status}`));
            },
          };
          handlers.set(host, handler);
          for (const event of early.get(host) ?? []) event(handler);
        }),
    })),
    {
      concurrent: true,
      exitOnError: false,
      // svc's own Ctrl-C handling (remote/ctrl-c.ts) decides: listr2's would exit 127 at once.
      registerSignalListeners: false,
      renderer: 'default',
      rendererOptions: { collapseErrors: false },
    },
  );
  const finished = list.run().then(
    () => undefined,
    () => undefined,
  );
  return {
    step: (host, text) => deliver(host, (handler) => handler.step(text)),
    done: (host, status, ok) => deliver(host, (handler) => handler.done(status, ok)),
    finished,
  };
}
