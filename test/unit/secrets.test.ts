// The pure decisions about secrets (core/secrets.ts), as tables with the exact output or line:
// the secrets file format, when a secrets file is refused (as OpenSSH refuses a key file), how
// secretsCommand is split into argv and where {env} and {key} go, and the one-line failures,
// none of which may carry a value.
import { describe, expect, it } from 'vitest';
import { SvcError } from '../../src/core/errors.js';
import {
  commandFailure,
  commandValue,
  missingSecretLine,
  parseSecretsFile,
  secretsCommandArgv,
  secretsFilePath,
  secretsFileRefusal,
  secretValueProblem,
  splitCommandLine,
} from '../../src/core/secrets.js';

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

describe('the secrets file', () => {
  it('is .svc/secrets/ENV', () => {
    expect(secretsFilePath('staging')).toBe('.svc/secrets/staging');
  });

  it.each<[string, [string, string][]]>([
    ['', []],
    ['A=1', [['A', '1']]],
    [
      'A=1\nB=two words\n',
      [
        ['A', '1'],
        ['B', 'two words'],
      ],
    ],
    [
      'A=1\r\nB=2\r\n',
      [
        ['A', '1'],
        ['B', '2'],
      ],
    ],
    ['# comment\n\n   \n  # indented comment\nA=x', [['A', 'x']]],
    ['A="quoted"', [['A', '"quoted"']]],
    ['A=x=y#z', [['A', 'x=y#z']]],
    ['A=', [['A', '']]],
    ['A= spaced ', [['A', ' spaced ']]],
    ['_X9=v', [['_X9', 'v']]],
  ])('%j -> %j', (text, entries) => {
    expect([...parseSecretsFile(text, F)]).toEqual(entries);
  });

  it.each([
    ['lower=x', `${F}:1: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`],
    [
      'A=1\nhunter2',
      `${F}:2: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`,
    ],
    [' A=1', `${F}:1: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`],
    ['A =1', `${F}:1: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`],
    ['9A=1', `${F}:1: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`],
    ['A=1\n#\nA=2', `${F}:3: A is set twice (first on line 1)`],
  ])('%j is refused: %s', (text, line) => {
    expect(thrown(() => parseSecretsFile(text, F))).toBe(line);
  });

  it.each<[string, { isFile: boolean; mode: number; uid: number }, string | undefined]>([
    ['0600 mine', { isFile: true, mode: 0o100600, uid: 1000 }, undefined],
    ['0400 mine', { isFile: true, mode: 0o100400, uid: 1000 }, undefined],
    ['0700 mine', { isFile: true, mode: 0o100700, uid: 1000 }, undefined],
    [
      '0640',
      { isFile: true, mode: 0o100640, uid: 1000 },
      `${F}: permissions 0640 are too open (others may read it); run chmod 600 ${F}`,
    ],
    [
      '0604',
      { isFile: true, mode: 0o100604, uid: 1000 },
      `${F}: permissions 0604 are too open (others may read it); run chmod 600 ${F}`,
    ],
    [
      '0602',
      { isFile: true, mode: 0o100602, uid: 1000 },
      `${F}: permissions 0602 are too open (others may read it); run chmod 600 ${F}`,
    ],
    [
      '0610',
      { isFile: true, mode: 0o100610, uid: 1000 },
      `${F}: permissions 0610 are too open (others may read it); run chmod 600 ${F}`,
    ],
    [
      '0644',
      { isFile: true, mode: 0o100644, uid: 1000 },
      `${F}: permissions 0644 are too open (others may read it); run chmod 600 ${F}`,
    ],
    [
      'another owner',
      { isFile: true, mode: 0o100600, uid: 0 },
      `${F}: owned by uid 0, not by you (uid 1000); svc reads secrets only from your own file`,
    ],
    [
      'a directory',
      { isFile: false, mode: 0o40700, uid: 1000 },
      `${F}: not a regular file; secrets are read from a regular file only`,
    ],
  ])('%s', (_, status, refusal) => {
    expect(secretsFileRefusal(F, status, 1000)).toBe(refusal);
  });
});

describe('secretsCommand', () => {
  it.each<[string, string[]]>([
    ['pass show svc/{env}/{key}', ['pass', 'show', 'svc/{env}/{key}']],
    ['  a   b\tc  ', ['a', 'b', 'c']],
    [`op read 'op://vault/{env} item/{key}'`, ['op', 'read', 'op://vault/{env} item/{key}']],
    [`a "b c" d`, ['a', 'b c', 'd']],
    [`a "x\\"y\\\\z\\n"`, ['a', 'x"y\\z\\n']],
    [`a 'x\\y'`, ['a', 'x\\y']],
    [`a b\\ c`, ['a', 'b c']],
    [`a ''`, ['a', '']],
    [`a ""x`, ['a', 'x']],
    [`a'b'"c"d`, ['abcd']],
    ['echo $HOME `id` $(id) ; rm', ['echo', '$HOME', '`id`', '$(id)', ';', 'rm']],
  ])('%j splits into %j', (line, words) => {
    expect(splitCommandLine(line)).toEqual(words);
  });

  it.each([
    [`a 'b`, `svc.yaml: secretsCommand: unterminated ' quote`],
    [`a "b`, 'svc.yaml: secretsCommand: unterminated " quote'],
    ['a \\', 'svc.yaml: secretsCommand: ends with a lone \\'],
    ['   ', 'svc.yaml: secretsCommand: names no program'],
  ])('%j is refused: %s', (line, message) => {
    expect(thrown(() => splitCommandLine(line))).toBe(message);
  });

  it.each<[string, string[]]>([
    ['pass show svc/{env}/{key}', ['pass', 'show', 'svc/staging/DB_PASSWORD']],
    ['get {key} {key} {env}{env}', ['get', 'DB_PASSWORD', 'DB_PASSWORD', 'stagingstaging']],
    ["get '{env} {key}'", ['get', 'staging DB_PASSWORD']],
    ['get {ENV} {other}', ['get', '{ENV}', '{other}']],
  ])('%j for staging DB_PASSWORD is %j', (template, argv) => {
    expect(secretsCommandArgv(template, 'staging', 'DB_PASSWORD')).toEqual(argv);
  });

  it.each([
    ['s3cret\n', 's3cret'],
    ['s3cret\r\n', 's3cret'],
    ['s3cret\n\n', 's3cret\n'],
    ['s3cret', 's3cret'],
    ['\n', ''],
    ['', ''],
  ])('stdout %j is the value %j', (stdout, value) => {
    expect(commandValue(stdout)).toBe(value);
  });

  it.each<[Parameters<typeof commandFailure>[2], string]>([
    [{ kind: 'exit', status: 3 }, 'secretsCommand exited with status 3'],
    [{ kind: 'signal', signal: 'SIGTERM' }, 'secretsCommand was killed by SIGTERM'],
    [{ kind: 'timeout' }, 'secretsCommand did not finish within 30 s'],
    [{ kind: 'too-much-output' }, 'secretsCommand printed more than 64 KiB'],
    [
      { kind: 'not-started', reason: 'pass: ENOENT' },
      'secretsCommand could not start: pass: ENOENT',
    ],
    [{ kind: 'interrupted' }, 'secretsCommand was interrupted'],
  ])('%j', (end, rest) => {
    expect(commandFailure('DB_PASSWORD', 'staging', end)).toBe(
      `secret DB_PASSWORD (staging): ${rest}`,
    );
  });
});

describe('values and missing keys', () => {
  it.each<[string, string | undefined]>([
    ['plain', undefined],
    ['with "quotes" and $dollars `ticks` \\', undefined],
    ['tab\there', undefined],
    ['a'.repeat(64 * 1024), undefined],
    ['a'.repeat(64 * 1024 + 1), 'is longer than 64 KiB'],
    ['é'.repeat(32 * 1024 + 1), 'is longer than 64 KiB'],
    ['nul\u0000', 'contains a NUL byte'],
    ['two\nlines', 'contains a line break; the env file holds one line per value'],
    ['cr\r', 'contains a line break; the env file holds one line per value'],
  ])('%j: %s', (value, problem) => {
    expect(secretValueProblem(value)).toBe(problem);
  });

  it.each<[Parameters<typeof missingSecretLine>[2], boolean, string]>([
    [
      { path: F, state: 'missing' },
      false,
      `secret DB_PASSWORD (production): not found: not in svc's environment ($DB_PASSWORD), no file ${F}, no secretsCommand in svc.yaml`,
    ],
    [
      { path: F, state: 'without-key' },
      true,
      `secret DB_PASSWORD (production): not found: not in svc's environment ($DB_PASSWORD), not in ${F}, secretsCommand printed nothing`,
    ],
  ])('%j, command %s', (file, command, line) => {
    expect(missingSecretLine('DB_PASSWORD', 'production', file, command)).toBe(line);
  });
});
