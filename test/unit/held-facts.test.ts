// remote/held-facts.ts: where the facts end in a stream cut anywhere (a marker split across
// chunks, byte by byte), what the verdict writes to the command's stdin, and a command that ends
// before its facts. The connection is a stand-in that replays chunks: the real one is
// test/integration/history-gaps.test.ts's.
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { isHeld, runHeldFacts } from '../../src/remote/held-facts.js';
import type { ConnectionPool, RunOptions, RunResult } from '../../src/remote/ssh.js';

const FACTS = 'B\tsvc-facts\t1\nP\t0\t=x\nE\tsvc-facts\n';
const AFTER = 'R\tsvc-recorded\n';
const host = { name: 'h', address: '127.0.0.1', port: 22, user: 'deploy', identityFiles: [] };

/** A connection whose command prints `chunks`, then ends with `code` once its stdin ends. */
function stage(chunks: readonly string[], after: string, code = 0) {
  let stdin = '';
  const pool = {
    get: async () => ({
      lost: false,
      run: (_script: string, _step: string, options: RunOptions) =>
        new Promise<RunResult>((resolve) => {
          const out = options.stdout!;
          for (const chunk of chunks) out.write(Buffer.from(chunk));
          const feed = options.feed as PassThrough;
          feed.on('data', (data: Buffer) => (stdin += data.toString()));
          feed.on('end', () => {
            if (stdin === 'unchanged\n') out.write(Buffer.from(after));
            setImmediate(() => resolve({ code, stdout: Buffer.alloc(0), stderr: Buffer.alloc(0) }));
          });
        }),
    }),
  } as unknown as ConnectionPool;
  return { pool, stdin: () => stdin };
}

const cuts = (text: string) =>
  Array.from({ length: text.length + 1 }, (_, at) => [text.slice(0, at), text.slice(at)]);

describe('runHeldFacts', () => {
  it.each([
    ['one chunk', [FACTS]],
    ['byte by byte', [...FACTS]],
    ...cuts(FACTS).map(([a, b]) => [`cut at ${a!.length}`, [a!, b!]] as [string, string[]]),
  ])('finds the end of the facts: %s', async (_what, chunks) => {
    const staged = stage(chunks, AFTER);
    const held = await runHeldFacts(staged.pool, host, 'script', 'gathering facts');
    expect(isHeld(held)).toBe(true);
    if (!isHeld(held)) return;
    expect(held.output.toString()).toBe(FACTS);
    const result = await held.verdict(true);
    expect([staged.stdin(), result.code, result.stdout.toString()]).toEqual([
      'unchanged\n',
      0,
      AFTER,
    ]);
  });

  it('a verdict of changes closes stdin without a word; output past the facts is kept apart', async () => {
    const staged = stage([FACTS + 'X'], AFTER);
    const held = await runHeldFacts(staged.pool, host, 'script', 'gathering facts');
    if (!isHeld(held)) throw new Error('not held');
    expect(held.output.toString()).toBe(FACTS);
    const result = await held.verdict(false);
    expect([staged.stdin(), result.stdout.toString()]).toEqual(['', 'X']);
  });

  it('a command that ends before its facts end is its result, with all it printed', async () => {
    const { pool } = stage(['B\tsvc-facts\t1\n'], AFTER, 3);
    // The stand-in ends only when stdin does: end it as svc's stdin would (the script exited).
    const result = runHeldFacts(
      {
        get: async () => {
          const connection = await pool.get(host);
          return {
            ...connection,
            run: (script: string, step: string, options: RunOptions) => {
              const ran = connection.run(script, step, options);
              (options.feed as PassThrough).end();
              return ran;
            },
          };
        },
      } as unknown as ConnectionPool,
      host,
      'script',
      'gathering facts',
    );
    const got = await result;
    expect(isHeld(got)).toBe(false);
    if (isHeld(got)) return;
    expect([got.code, got.stdout.toString()]).toEqual([3, 'B\tsvc-facts\t1\n']);
  });
});
