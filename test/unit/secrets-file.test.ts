// The secrets file as people already have it (review of issue 15): a UTF-8 BOM an editor put
// first, `export KEY=VALUE` lines from a file that is also sourced by a shell, and bytes that are
// not UTF-8 (refused naming the line, never replaced). Then the round trip: what `svc new` writes
// to .svc/secrets/default, the parser reads back exactly.
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import { decodeSecretsFile, parseSecretsFile } from '../../src/core/secrets.js';
import { secretValueProblem } from '../../src/core/secrets.js';
import type { Answers } from '../../src/scaffold/answers.js';
import { manifestFromAnswers, NEW_SECRETS_FILE, projectFiles } from '../../src/scaffold/project.js';
import { renderProject } from '../../src/scaffold/render.js';

const F = '.svc/secrets/production';
const thrown = (run: () => unknown): string => {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
  return 'no error';
};
const bytes = (...parts: (string | number[])[]): Uint8Array =>
  Buffer.concat(
    parts.map((part) => (typeof part === 'string' ? Buffer.from(part) : Buffer.from(part))),
  );

describe('the secrets file as text', () => {
  it.each<[string, string, [string, string][]]>([
    [
      'a BOM before line 1',
      '\uFEFFA=1\nB=2\n',
      [
        ['A', '1'],
        ['B', '2'],
      ],
    ],
    ['a BOM before a comment', '\uFEFF# mine\nA=1', [['A', '1']]],
    ['export KEY=VALUE', 'export A=1', [['A', '1']]],
    [
      'export with a tab and more blanks',
      'export\tA=1\nexport   B=x y',
      [
        ['A', '1'],
        ['B', 'x y'],
      ],
    ],
    ['export keeps the value exact', 'export A= "q" ', [['A', ' "q" ']]],
    ['a BOM then export', '\uFEFFexport A=1', [['A', '1']]],
    ['a key named EXPORT', 'EXPORT=1', [['EXPORT', '1']]],
    ['a BOM inside a value stays', 'A=\uFEFFx', [['A', '\uFEFFx']]],
  ])('%s', (_, text, entries) => {
    expect([...parseSecretsFile(text, F)]).toEqual(entries);
  });

  it.each([
    ['a BOM on line 2', 'A=1\n\uFEFFB=2', 2],
    ['export without a key', 'export', 1],
    ['export without =', 'export A', 1],
    ['export of a lower-case name', 'export a=1', 1],
    ['export with nothing between', 'exportA=1', 1],
    ['two BOMs', '\uFEFF\uFEFFA=1', 1],
  ])('%s is refused naming the line', (_, text, line) => {
    expect(thrown(() => parseSecretsFile(text, F))).toBe(
      `${F}:${line}: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`,
    );
  });

  it('counts an export line and a plain line of the same key as the same key', () => {
    expect(thrown(() => parseSecretsFile('A=1\nexport A=2', F))).toBe(
      `${F}:2: A is set twice (first on line 1)`,
    );
  });
});

describe('the secrets file as bytes', () => {
  it.each<[string, Uint8Array, string]>([
    ['plain ASCII', bytes('A=1\n'), 'A=1\n'],
    ['UTF-8 values', bytes('A=é€😀\n'), 'A=é€😀\n'],
    ['a BOM is kept for the parser', bytes([0xef, 0xbb, 0xbf], 'A=1'), '\uFEFFA=1'],
    ['empty', bytes(''), ''],
  ])('%s decodes', (_, input, text) => {
    expect(decodeSecretsFile(input, F)).toBe(text);
  });

  it.each<[string, Uint8Array, string]>([
    ['a Latin-1 byte on line 1', bytes('A=caf', [0xe9], '\n'), `${F}:1`],
    ['a lone continuation byte on line 3', bytes('# x\nA=1\nB=', [0x80], '\nC=2\n'), `${F}:3`],
    ['a truncated sequence at the end', bytes('A=1\nB=', [0xe2, 0x82]), `${F}:2`],
    ['an overlong encoding', bytes('A=', [0xc0, 0xaf]), `${F}:1`],
    ['a UTF-16 surrogate in UTF-8', bytes('A=1\n\nB=', [0xed, 0xa0, 0x80]), `${F}:3`],
  ])('%s is refused naming the line', (_, input, where) => {
    expect(thrown(() => decodeSecretsFile(input, F))).toBe(
      `${where}: not valid UTF-8; save ${F} as UTF-8`,
    );
  });

  it('never puts the bytes of the value in the message', () => {
    const message = thrown(() => decodeSecretsFile(bytes('A=hunter', [0xff], '2'), F));
    expect(message).not.toContain('hunter');
  });
});

describe('what svc new writes, the parser reads back exactly', () => {
  const answers: Answers = {
    name: 'api-orders',
    kind: 'api',
    description: 'Orders',
    runtime: 'node',
    port: 3000,
    health: '/ok',
    init: 'systemd',
    monit: true,
    user: 'api-orders',
    env: {},
  };
  // Every value secretValueProblem lets through must come back byte for byte.
  const values = [
    'plain',
    ' leading and trailing blanks ',
    '"double" \'single\' `tick` $HOME ${X} \\ #not-a-comment',
    'A=B=C',
    'export X=1',
    '\uFEFFbom-first',
    'tab\tinside',
    'é€😀 \u2028 \u0085 \u00a0',
    '=',
    '#',
    'x'.repeat(64 * 1024),
  ];

  it.each(values.map((value, index) => [index, value]))('value %i', (_, value) => {
    expect(secretValueProblem(value)).toBeUndefined();
    const extra = { secrets: { FIRST: value, SECOND: 'after' } };
    const manifest = manifestFromAnswers(answers, '0.0.0-test', extra);
    const file = renderProject(manifest, projectFiles(manifest), extra.secrets).find(
      (rendered) => rendered.path === NEW_SECRETS_FILE,
    )!;
    const text = decodeSecretsFile(new TextEncoder().encode(file.content), NEW_SECRETS_FILE);
    expect(Object.fromEntries(parseSecretsFile(text, NEW_SECRETS_FILE))).toEqual({
      FIRST: value,
      SECOND: 'after',
    });
  });
});
