// remote/pid-line.ts: the pid line taken off the front of a stream passed through as it comes
// (`svc exec` without a terminal), however the bytes are cut into chunks; anything that is not a
// pid line is the command's output and passes untouched.
import { describe, expect, it } from 'vitest';
import type { ScriptProcess } from '../../src/core/interrupt-pid.js';
import { PidLineHead } from '../../src/remote/pid-line.js';

async function through(
  chunks: string[],
): Promise<{ out: string; said: (ScriptProcess | undefined)[] }> {
  const said: (ScriptProcess | undefined)[] = [];
  const head = new PidLineHead((script) => said.push(script));
  let out = '';
  head.on('data', (chunk: Buffer) => (out += chunk.toString('latin1')));
  const ended = new Promise((resolve) => head.once('end', resolve));
  for (const chunk of chunks) head.write(Buffer.from(chunk, 'latin1'));
  head.end();
  await ended;
  return { out, said };
}

/** Every way of cutting `text` into two chunks. */
const cuts = (text: string) =>
  Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]);

describe('PidLineHead', () => {
  it.each([
    ['svc-pid 123 456\nhello\n', 'hello\n', { pid: 123, start: '456' }],
    ['svc-pid 123 456\n', '', { pid: 123, start: '456' }],
    ['hello\nworld\n', 'hello\nworld\n', undefined],
    ['svc-pid 123\nrest', 'svc-pid 123\nrest', undefined],
    ['no newline at all', 'no newline at all', undefined],
    ['', '', undefined],
  ])('%j: passes %j, says %j once, however it is cut', async (text, expected, script) => {
    for (const chunks of cuts(text)) {
      const { out, said } = await through(chunks);
      expect(out).toBe(expected);
      expect(said).toEqual([script]);
    }
  });

  it('a first line longer than 256 bytes is output, passed on before its end arrives', async () => {
    const long = 'x'.repeat(300);
    const { out, said } = await through([long, '\nmore\n']);
    expect(out).toBe(`${long}\nmore\n`);
    expect(said).toEqual([undefined]);
  });
});
