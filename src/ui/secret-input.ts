// Where `svc new --secret KEY` (no `=VALUE`) reads the value: a prompt that echoes nothing when
// stdin is a terminal, else all of stdin (`printf %s "$PW" | svc new ... --secret DB_PASSWORD`).
// Either way the value is on no command line (`ps`) and in no shell history.
import { InterruptedError, SvcError } from '../core/errors.js';
import { commandValue, MAX_SECRET_BYTES } from '../core/secrets.js';
import { envValueProblem } from '../scaffold/answers.js';

export interface SecretInput {
  /** Whether values are asked for one by one (a terminal) or read from stdin (one value). */
  terminal: boolean;
  read(key: string): Promise<string>;
}

/** All of stdin, at most `limit` bytes (one more means too long). */
async function readAll(stream: NodeJS.ReadableStream, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    chunks.push(buffer);
    size += buffer.length;
    if (size > limit) break;
  }
  return Buffer.concat(chunks).subarray(0, limit + 1);
}

/** The value of `key` from stdin: UTF-8, one trailing newline dropped, checked like any value. */
export async function secretFromStream(
  key: string,
  stream: NodeJS.ReadableStream,
): Promise<string> {
  // Room for the value and a trailing \r\n, and one byte more to tell that there is more.
  const bytes = await readAll(stream, MAX_SECRET_BYTES + 2);
  // Checked before decoding: the cut may fall inside a character.
  if (bytes.length > MAX_SECRET_BYTES + 2)
    throw new SvcError(
      `--secret: ${key} is longer than ${MAX_SECRET_BYTES / 1024} KiB (read from stdin)`,
    );
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new SvcError(`--secret: ${key}: stdin is not valid UTF-8`);
  }
  const value = commandValue(text);
  if (value === '') throw new SvcError(`--secret: ${key}: stdin is empty (pipe the value in)`);
  const problem = envValueProblem(key, value);
  if (problem !== undefined) throw new SvcError(`--secret: ${problem} (read from stdin)`);
  return value;
}

/** svc's own stdin: a hidden prompt (on stderr) for each key on a terminal, else stdin. */
export function processSecretInput(): SecretInput {
  const terminal = process.stdin.isTTY === true;
  return {
    terminal,
    read: async (key) => {
      if (!terminal) return secretFromStream(key, process.stdin);
      // inquirer loads only when used: it is a good part of svc's start-up time.
      const { password } = await import('@inquirer/prompts');
      try {
        return await password(
          {
            message: `Value of ${key} (not shown)`,
            validate: (value) =>
              value === '' ? 'enter a value' : (envValueProblem(key, value) ?? true),
          },
          { output: process.stderr },
        );
      } catch (error) {
        if (error instanceof Error && error.name === 'ExitPromptError')
          throw new InterruptedError();
        throw error;
      }
    },
  };
}
