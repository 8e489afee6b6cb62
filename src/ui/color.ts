// Colours for a terminal that wants them: never when NO_COLOR is set (https://no-color.org),
// when the stream is not a TTY, or when TERM is dumb.
import type { WriteStream } from 'node:tty';

export function colorEnabled(
  stream: NodeJS.WritableStream,
  env: NodeJS.ProcessEnv = process.env,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  return (stream as WriteStream).isTTY === true;
}

export interface Palette {
  bold(text: string): string;
  dim(text: string): string;
  green(text: string): string;
  red(text: string): string;
  yellow(text: string): string;
}

const wrap = (open: number, close: number) => (text: string) =>
  `\u001b[${open}m${text}\u001b[${close}m`;
const identity = (text: string) => text;

export function palette(enabled: boolean): Palette {
  if (!enabled)
    return { bold: identity, dim: identity, green: identity, red: identity, yellow: identity };
  return {
    bold: wrap(1, 22),
    dim: wrap(2, 22),
    green: wrap(32, 39),
    red: wrap(31, 39),
    yellow: wrap(33, 39),
  };
}
