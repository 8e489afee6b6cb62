// `HOST | line` as a stream (ui/prefixed-lines.ts): lines split across chunks come out whole, a
// line longer than MAX_LINE is passed on in pieces (so memory stays bounded), the unfinished
// last line comes out at the end, and bytes are passed through untouched (no UTF-8 decoding).
import { Readable } from 'node:stream';
import { buffer } from 'node:stream/consumers';
import { describe, expect, it } from 'vitest';
import { MAX_LINE, PrefixedLines } from '../../src/ui/prefixed-lines.js';

async function prefixed(chunks: readonly (string | Buffer)[]): Promise<Buffer> {
  const lines = new PrefixedLines('h | ');
  Readable.from(chunks.map((chunk) => Buffer.from(chunk))).pipe(lines);
  return buffer(lines);
}

describe('PrefixedLines', () => {
  it('prefixes whole lines, also when a line spans chunks', async () => {
    expect((await prefixed(['a\nb', 'c\n', '\nd\n'])).toString()).toBe(
      'h | a\nh | bc\nh | \nh | d\n',
    );
  });

  it('ends an unfinished last line with a newline at the end', async () => {
    expect((await prefixed(['a\nlast'])).toString()).toBe('h | a\nh | last\n');
    expect((await prefixed([])).toString()).toBe('');
  });

  it('cuts a line longer than MAX_LINE into prefixed pieces', async () => {
    const long = 'x'.repeat(MAX_LINE * 2 + 5);
    const chunks = long.match(/.{1,1000}/g)!;
    const out = (await prefixed([...chunks, '\n'])).toString();
    expect(out).toBe(`h | ${'x'.repeat(MAX_LINE)}\nh | ${'x'.repeat(MAX_LINE)}\nh | xxxxx\n`);
  });

  it('passes bytes through as they are, a UTF-8 character split across chunks included', async () => {
    const bytes = Buffer.from('é\xff\n', 'latin1');
    const euro = Buffer.from('€\n');
    const out = await prefixed([bytes, euro.subarray(0, 1), euro.subarray(1)]);
    expect(out).toEqual(Buffer.concat([Buffer.from('h | '), bytes, Buffer.from('h | '), euro]));
  });
});
