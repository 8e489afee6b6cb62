// Multi-step progress with listr2: the animated renderer on a terminal, one plain line per step
// when output is a pipe, a file or CI.
import { Listr } from 'listr2';

export interface Step {
  title: string;
  run(): void | Promise<void>;
}

export function plainOutput(
  stream: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  return !(stream as { isTTY?: boolean }).isTTY || env.CI !== undefined || env.TERM === 'dumb';
}

export async function runSteps(
  steps: readonly Step[],
  stream: NodeJS.WriteStream = process.stderr,
): Promise<void> {
  const list = new Listr(
    steps.map((step) => ({ title: step.title, task: () => step.run() })),
    {
      concurrent: false,
      exitOnError: true,
      renderer: plainOutput(stream) ? 'simple' : 'default',
      rendererOptions: { timer: undefined },
      fallbackRenderer: 'simple',
    },
  );
  await list.run();
}
