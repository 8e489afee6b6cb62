// `svc new --env/--secret` values (review of issue 15): a value the env file or the secrets file
// cannot carry is refused in one line naming the flag and key, never the value (a newline would
// have written a key of its own); `--secret KEY` asks for the value instead of taking it from the
// command line; what goes to svc.yaml env: reads back exactly.
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import { parseManifest, stringifyManifest } from '../../src/core/manifest-file.js';
import { parseEnvFlags, parseSecretFlags, type Answers } from '../../src/scaffold/answers.js';
import { manifestFromAnswers } from '../../src/scaffold/project.js';
import { secretFromStream } from '../../src/ui/secret-input.js';

const thrown = async (run: () => unknown): Promise<string> => {
  try {
    await run();
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
  return 'no error';
};
const LINE_BREAK = 'contains a line break; the env file holds one line per value';

describe('a value svc new cannot write', () => {
  it.each<[string, string, string]>([
    ['--secret', 'DB_PASSWORD=a\nINJECTED=1', `--secret: DB_PASSWORD ${LINE_BREAK}`],
    ['--secret', 'DB_PASSWORD=a\r', `--secret: DB_PASSWORD ${LINE_BREAK}`],
    ['--secret', 'DB_PASSWORD=a\r\nB=2', `--secret: DB_PASSWORD ${LINE_BREAK}`],
    ['--secret', 'DB_PASSWORD=a\u0000b', '--secret: DB_PASSWORD contains a NUL byte'],
    ['--secret', `BIG=${'x'.repeat(64 * 1024 + 1)}`, '--secret: BIG is longer than 64 KiB'],
    ['--env', 'QUEUE=mail\nINJECTED=1', `--env: QUEUE ${LINE_BREAK}`],
    ['--env', 'QUEUE=\n', `--env: QUEUE ${LINE_BREAK}`],
    ['--env', 'QUEUE=a\u0000', '--env: QUEUE contains a NUL byte'],
  ])('%s %.40j', async (flag, text, line) => {
    const message = await thrown(() => parseEnvFlags([text], flag));
    expect(message).toBe(line);
    expect(message).not.toContain('INJECTED');
  });

  it.each<[string[], string, string]>([
    [['QUEUE=mail', 'QUEUE=jobs'], '--env', '--env: QUEUE is given twice'],
    [['A=1', 'B=2', 'A=1'], '--env', '--env: A is given twice'],
    [['DB_PASSWORD=x', 'DB_PASSWORD=y'], '--secret', '--secret: DB_PASSWORD is given twice'],
  ])('%j (%s) is refused: a key given twice', async (texts, flag, line) => {
    expect(await thrown(() => parseEnvFlags(texts, flag))).toBe(line);
  });

  it.each<[string, string]>([
    ['DB_PASSWORD=', ''],
    ['DB_PASSWORD==x=', '=x='],
    ['DB_PASSWORD= a b ', ' a b '],
    ['DB_PASSWORD=tab\there', 'tab\there'],
    ['DB_PASSWORD=é€😀\u2028', 'é€😀\u2028'],
    [`DB_PASSWORD=${'x'.repeat(64 * 1024)}`, 'x'.repeat(64 * 1024)],
  ])('%.40j is taken as is', (text, value) => {
    expect(parseEnvFlags([text], '--secret')).toEqual({ DB_PASSWORD: value });
  });
});

describe('--secret KEY without a value', () => {
  it.each<[string[], ReturnType<typeof parseSecretFlags>]>([
    [['DB_PASSWORD'], { given: {}, toRead: ['DB_PASSWORD'], order: ['DB_PASSWORD'] }],
    [['B', 'A=1', 'C'], { given: { A: '1' }, toRead: ['B', 'C'], order: ['B', 'A', 'C'] }],
    [['A=x=y'], { given: { A: 'x=y' }, toRead: [], order: ['A'] }],
  ])('%j', (flags, parsed) => {
    expect(parseSecretFlags(flags)).toEqual(parsed);
  });

  it.each<[string[], string]>([
    [['db_password'], '--secret: db_password must be an upper-case variable name (A-Z, 0-9, _)'],
    [[''], '--secret: must be KEY=VALUE or KEY'],
    [['=x'], '--secret: must be KEY=VALUE'],
    [['PORT'], '--secret: PORT is set from --port'],
    [['A', 'A'], '--secret: A is given twice'],
    [['A', 'A=1'], '--secret: A is given twice'],
    [['A=1', 'A'], '--secret: A is given twice'],
    // A repeat with a value is refused too: the last one would win without a word.
    [['A=1', 'A=2'], '--secret: A is given twice'],
    [['A=', 'A=x=y'], '--secret: A is given twice'],
    [['A=1', 'B', 'A=1'], '--secret: A is given twice'],
  ])('%j is refused', async (flags, line) => {
    expect(await thrown(() => parseSecretFlags(flags))).toBe(line);
  });

  const stdin = (...chunks: (string | Buffer)[]) =>
    Readable.from(chunks.map((chunk) => Buffer.from(chunk)));

  it.each<[string, (string | Buffer)[], string]>([
    ['one line', ['pa ss\n'], 'pa ss'],
    ['no newline', ['pa ss'], 'pa ss'],
    ['a CRLF', ['pa ss\r\n'], 'pa ss'],
    ['in pieces', ['pa', ' s', 's\n'], 'pa ss'],
    ['UTF-8 across pieces', [Buffer.from([0xc3]), Buffer.from([0xa9, 0x0a])], 'é'],
    ['64 KiB and a newline', ['x'.repeat(64 * 1024) + '\r\n'], 'x'.repeat(64 * 1024)],
  ])('from stdin: %s', async (_, chunks, value) => {
    expect(await secretFromStream('DB_PASSWORD', stdin(...chunks))).toBe(value);
  });

  it.each<[string, (string | Buffer)[], string]>([
    ['empty', [], '--secret: DB_PASSWORD: stdin is empty (pipe the value in)'],
    ['a newline only', ['\n'], '--secret: DB_PASSWORD: stdin is empty (pipe the value in)'],
    ['two lines', ['a\nb\n'], `--secret: DB_PASSWORD ${LINE_BREAK} (read from stdin)`],
    ['a NUL', ['a\u0000b'], '--secret: DB_PASSWORD contains a NUL byte (read from stdin)'],
    [
      'more than 64 KiB',
      ['x'.repeat(64 * 1024 + 1)],
      '--secret: DB_PASSWORD is longer than 64 KiB (read from stdin)',
    ],
    [
      'far more than 64 KiB',
      ['x'.repeat(40_000), 'é'.repeat(20_000), 'x'.repeat(40_000)],
      '--secret: DB_PASSWORD is longer than 64 KiB (read from stdin)',
    ],
    [
      'not UTF-8',
      [Buffer.from([0x61, 0xff, 0x0a])],
      '--secret: DB_PASSWORD: stdin is not valid UTF-8',
    ],
  ])('from stdin, refused: %s', async (_, chunks, line) => {
    expect(await thrown(() => secretFromStream('DB_PASSWORD', stdin(...chunks)))).toBe(line);
  });
});

describe('--env values in svc.yaml read back exactly', () => {
  const answers = (env: Record<string, string>): Answers => ({
    name: 'api-orders',
    kind: 'api',
    description: 'Orders',
    runtime: 'node',
    port: 3000,
    health: '/ok',
    init: 'systemd',
    monit: true,
    user: 'api-orders',
    env,
  });
  // YAML's own words and indicators, blanks at either end, quotes, and every character below
  // U+0100 but the line breaks parseEnvFlags refuses, alone and inside a word.
  const values = [
    ...['yes', 'no', 'on', 'off', 'true', 'null', '~', '', '0x10', '0o7', '1e3', '.inf', '.nan'],
    ...['- a', '? a', ': a', 'a: b', 'a #b', '#a', '&a', '*a', '!a', '|', '>', '%a', '@a', '`a'],
    ...['"', "'", '{a}', '[a]', ',', ' a', 'a ', '  ', '\t', '\uFEFFa', 'a\u2028b', '😀'],
    ...Array.from({ length: 0x100 }, (_, code) => String.fromCharCode(code))
      .filter((char) => !['\n', '\r', '\u0000'].includes(char))
      .flatMap((char) => [char, `a${char}b`, ` ${char} `]),
  ];

  it('for every value parseEnvFlags takes', () => {
    const env = Object.fromEntries(values.map((value, index) => [`V${index}`, value]));
    expect(parseEnvFlags(Object.entries(env).map(([key, value]) => `${key}=${value}`))).toEqual(
      env,
    );
    const manifest = manifestFromAnswers(answers(env), '0.0.0-test');
    expect(manifest.env).toEqual(env);
    const back = parseManifest(new TextEncoder().encode(stringifyManifest(manifest)));
    expect(back.env).toEqual(env);
  });
});
