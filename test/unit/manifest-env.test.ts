// svc.yaml env: one case per key and per kind of value, because the env file is sourced by a root
// shell (OpenRC, the monit launcher): each reserved name by name, the loader's LD_ family as a
// prefix only, and each kind of value that is not a string, with the exact line svc prints.
import { describe, expect, it } from 'vitest';
import { ManifestError, parseManifest } from '../../src/core/manifest-file.js';
import { RESERVED_ENV_KEYS, isReservedEnvKey } from '../../src/core/manifest.js';

const manifestWithEnv = (env: string) => `
schema: 1
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
env: ${env}
files: {}
generator: { svc: 0.1.0 }
`;

/** The error lines parseManifest reports, or [] when it accepts the text. */
function problems(text: string): string[] {
  try {
    parseManifest(new TextEncoder().encode(text));
    return [];
  } catch (error) {
    if (error instanceof ManifestError) return error.lines;
    throw error;
  }
}

const RESERVED = [
  'IFS',
  'PATH',
  'ENV',
  'BASH_ENV',
  'PS4',
  'SHELLOPTS',
  'BASHOPTS',
  'GCONV_PATH',
  'LOCPATH',
  'RC_SVCNAME',
  'SVCNAME',
];

describe('reserved env keys', () => {
  it('are the documented list, each by name', () => {
    expect([...RESERVED_ENV_KEYS].sort()).toEqual([...RESERVED].sort());
  });

  it.each([...RESERVED, 'LD_PRELOAD', 'LD_LIBRARY_PATH', 'LD_AUDIT', 'LD_', 'LD_X'])(
    '%s is refused with its own line',
    (key) => {
      expect(isReservedEnvKey(key)).toBe(true);
      expect(problems(manifestWithEnv(`{ ${key}: /tmp/x }`))).toEqual([
        `svc.yaml: env.${key}: is reserved: the init script sets it`,
      ]);
    },
  );

  it.each([
    'FOO',
    'MY_PATH', // ends in a reserved name
    'PATHS', // starts with one
    'XIFS',
    'ENVIRONMENT',
    'NODE_ENV',
    'OLD_', // LD_ inside, not at the start
    'HOLD_LD_',
    'XLD_PRELOAD',
    'LD', // no underscore: not the loader's family
    'LDX_PRELOAD',
  ])('%s is an ordinary name', (key) => {
    expect(isReservedEnvKey(key)).toBe(false);
    expect(problems(manifestWithEnv(`{ ${key}: /tmp/x }`))).toEqual([]);
    expect(parseManifest(new TextEncoder().encode(manifestWithEnv(`{ ${key}: v }`))).env).toEqual({
      [key]: 'v',
    });
  });

  it('names each reserved key of one file on its own line', () => {
    expect(
      problems(manifestWithEnv('{ PATH: /tmp, LD_PRELOAD: /tmp/x.so, ENV: /tmp/rc }')),
    ).toEqual([
      'svc.yaml: env.PATH: is reserved: the init script sets it',
      'svc.yaml: env.LD_PRELOAD: is reserved: the init script sets it',
      'svc.yaml: env.ENV: is reserved: the init script sets it',
    ]);
  });
});

describe('env key shape', () => {
  it.each(['foo', 'Path', '1FOO', 'FOO-BAR', 'FOO.BAR', '"FOO BAR"', '"FOO\\nBAR"', '"ÄRGER"'])(
    '%s is refused as a name',
    (key) => {
      const lines = problems(manifestWithEnv(`{ ${key}: x }`));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(
        /^svc\.yaml: env\..*: must be an upper-case variable name \(A-Z, 0-9, _\)$/,
      );
    },
  );

  it.each(['_', '_FOO', 'A1', 'FOO_1_BAR'])('%s is a name', (key) => {
    expect(problems(manifestWithEnv(`{ ${key}: x }`))).toEqual([]);
  });
});

describe('env values', () => {
  it.each([
    ['a number', '1'],
    ['a float', '1.5'],
    ['a boolean', 'true'],
    ['null', 'null'],
    ['a list', '[a, b]'],
    ['a map', '{ a: b }'],
  ])('%s is refused: quote it', (_kind, value) => {
    expect(problems(manifestWithEnv(`{ FOO: ${value} }`))).toEqual([
      'svc.yaml: env.FOO: must be a string (quote numbers and booleans)',
    ]);
  });

  // The env file holds one line per value (and svc compares it line by line): a line break in
  // a value would make a second line, read as another KEY=VALUE by whoever parses it.
  it.each([
    ['a line break', '"a\\nB=2"'],
    ['a carriage return', '"a\\rB=2"'],
    ['a NUL', '"a\\0b"'],
    ['a trailing newline (a YAML block scalar)', '|\n    line\n'],
  ])('%s is refused', (_kind, value) => {
    expect(problems(manifestWithEnv(`\n  FOO: ${value}`))).toEqual([
      'svc.yaml: env.FOO: must be one line: the env file holds one line per value (no line break, carriage return or NUL)',
    ]);
  });

  it.each([
    ['a quoted number', '"1"', '1'],
    ['an empty string', '""', ''],
    ['shell text, quoted later for its file', '"$(reboot); `id`"', '$(reboot); `id`'],
  ])('%s is taken as it is', (_kind, value, parsed) => {
    expect(
      parseManifest(new TextEncoder().encode(manifestWithEnv(`{ FOO: ${value} }`))).env,
    ).toEqual({ FOO: parsed });
  });
});
