// svc.yaml as text, edge by edge (issue 17): the size limit at its boundary, which line a huge or
// non-UTF-8 file is blamed on, the line:column of a YAML error, problems in the file's order
// (missing fields last), and the header stringifyManifest writes.
import { describe, expect, it } from 'vitest';
import {
  MAX_MANIFEST_BYTES,
  ManifestError,
  parseManifest,
  stringifyManifest,
} from '../../src/core/manifest-file.js';

const GOOD = `schema: 1
name: api-orders
description: Orders API
port: 3000
health: /ok
runtime: node
init: systemd
monit: true
user: api-orders
command: [/usr/bin/node, server.js]
stopTimeout: 30
env: {}
files: {}
generator: { svc: 0.1.0 }
`;
const bytes = (text: string) => new TextEncoder().encode(text);
function problems(input: string | Uint8Array, file?: string): string[] {
  try {
    parseManifest(typeof input === 'string' ? bytes(input) : input, file);
  } catch (error) {
    if (error instanceof ManifestError) return error.lines;
    throw error;
  }
  return [];
}

describe('the size limit', () => {
  const padded = (total: number, longest: number) => {
    // GOOD, then comment lines: one of `longest` bytes, the rest short, `total` bytes in all.
    const head = `${GOOD}#${'x'.repeat(longest - 1)}\n`;
    let text = head;
    while (text.length < total) text += `#${'y'.repeat(Math.min(999, total - text.length - 2))}\n`;
    return text;
  };
  it.each([
    ['exactly the limit', padded(MAX_MANIFEST_BYTES, 1000), []],
    [
      'one byte over',
      padded(MAX_MANIFEST_BYTES + 1, 1000),
      [
        `svc.yaml: ${MAX_MANIFEST_BYTES + 1} bytes; svc.yaml may be at most 256 KiB (is this the right file?)`,
      ],
    ],
    [
      'over, its longest line half the limit',
      padded(MAX_MANIFEST_BYTES + 1, MAX_MANIFEST_BYTES / 2),
      [
        `svc.yaml: ${MAX_MANIFEST_BYTES + 1} bytes; svc.yaml may be at most 256 KiB (is this the right file?)`,
      ],
    ],
    [
      'over, its longest line one byte more than half',
      padded(MAX_MANIFEST_BYTES + 1, MAX_MANIFEST_BYTES / 2 + 1),
      [
        `svc.yaml:15: a line of ${MAX_MANIFEST_BYTES / 2 + 1} bytes; svc.yaml may be at most 256 KiB`,
      ],
    ],
  ])('%s', (_, text, expected) => {
    expect(problems(text)).toStrictEqual(expected);
  });

  it('names the key of the huge line, also in a list item, and the file as given', () => {
    const huge = 'y'.repeat(MAX_MANIFEST_BYTES);
    expect(problems(`a: 1\n  - my.key_1: ${huge}\n`, 'app/svc.yaml')).toStrictEqual([
      `app/svc.yaml:2: my.key_1: a line of ${MAX_MANIFEST_BYTES + 14} bytes; app/svc.yaml may be at most 256 KiB`,
    ]);
    expect(problems(`a: 1\n"quoted": ${huge}`)).toStrictEqual([
      `svc.yaml:2: a line of ${MAX_MANIFEST_BYTES + 10} bytes; svc.yaml may be at most 256 KiB`,
    ]);
  });
});

describe('bytes that are not UTF-8', () => {
  it.each([
    [
      'on the first line',
      [0xff, 0x0a, ...bytes('a: 1\n')],
      'svc.yaml:1: not valid UTF-8; save svc.yaml as UTF-8',
    ],
    [
      'on a last line without a newline',
      [...bytes('a: 1\nb: 2\nc: '), 0xc3],
      'svc.yaml:3: not valid UTF-8; save svc.yaml as UTF-8',
    ],
    [
      'a lone continuation byte',
      [...bytes('a: 1\n'), 0x80, 0x0a],
      'svc.yaml:2: not valid UTF-8; save svc.yaml as UTF-8',
    ],
  ])('%s', (_, input, line) => {
    expect(problems(new Uint8Array(input))).toStrictEqual([line]);
  });
});

describe('YAML errors at their line and column', () => {
  it.each([
    [
      'a duplicate key, indented',
      `${GOOD}generator2:\n  a: 1\n  a: 2\n`,
      ['svc.yaml:17:3: a: duplicate key (first on line 16)'],
    ],
    [
      'a second document',
      `${GOOD}---\n`,
      ['svc.yaml:15:1: more than one YAML document (a second ---?); svc.yaml is one mapping'],
    ],
    [
      'a tab for indentation',
      `${GOOD}env:\n\tA: b\n`,
      expect.arrayContaining([expect.stringMatching(/^svc\.yaml:\d+:\d+: [^\n]+$/)]),
    ],
  ])('%s', (_, text, expected) => {
    expect(problems(text as string)).toEqual(expected);
  });

  it('the message of any other error is its first line, without its own position', () => {
    expect(problems('a: "unclosed\n')).toStrictEqual(['svc.yaml:2:1: Missing closing "quote']);
  });
});

describe('problems in the order of the file', () => {
  it('each where its field stands, the missing ones last', () => {
    const text = GOOD.replace('port: 3000', 'port: 0')
      .replace('monit: true', 'monit: 1')
      .replace('schema: 1', 'schema: 2')
      .replace('stopTimeout: 30\n', '');
    expect(problems(text)).toStrictEqual([
      'svc.yaml: schema: must be 1',
      'svc.yaml: port: must be an integer between 1 and 65535',
      'svc.yaml: monit: must be true or false',
      'svc.yaml: stopTimeout: is required',
    ]);
  });

  it('cross-field problems too', () => {
    const text = GOOD.replace('env: {}', 'env: { PATH: x, LD_X: y }').replace(
      'command: [/usr/bin/node, server.js]',
      'command: [node]',
    );
    expect(problems(text)).toStrictEqual([
      'svc.yaml: command.0: must be an absolute path, e.g. /usr/bin/node',
      'svc.yaml: env.PATH: is reserved: the init script sets it',
      'svc.yaml: env.LD_X: is reserved: the init script sets it',
    ]);
  });
});

describe('stringifyManifest', () => {
  it('writes the header comment, then the fields on single lines', () => {
    const text = stringifyManifest(parseManifest(bytes(GOOD)));
    expect(text.split('\n').slice(0, 4)).toStrictEqual([
      '# svc.yaml: how this service was made and how svc deploys it.',
      '# Written by `svc new`; edit freely, `svc` validates it on every run.',
      '',
      'schema: 1',
    ]);
    expect(problems(text)).toStrictEqual([]);
  });

  it('never folds a long value', () => {
    const long = `${GOOD.replace('description: Orders API', `description: ${'word '.repeat(30)}end`)}`;
    const text = stringifyManifest(parseManifest(bytes(long)));
    expect(text).toContain(`description: ${'word '.repeat(30)}end\n`);
  });
});

describe('ManifestError', () => {
  it('carries its lines and joins them as its message', () => {
    const error = new ManifestError(['a', 'b']);
    expect([error.name, error.message, error.lines]).toStrictEqual([
      'ManifestError',
      'a\nb',
      ['a', 'b'],
    ]);
  });
});
