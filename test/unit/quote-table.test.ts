// Tables that pin every quoter character by character: which characters stay bare, which force
// quoting, which are refused and with what message. The round-trip tests in quote.test.ts prove
// the output parses back; these make a widened "safe" set or a dropped escape fail by name.
import { describe, expect, it } from 'vitest';
import {
  envFileLine,
  jsString,
  monitString,
  nginxString,
  shellQuote,
  systemdCommand,
  systemdLine,
  systemdPath,
  systemdWord,
  upstartString,
} from '../../src/core/quote.js';

const PRINTABLE = Array.from({ length: 0x7f - 0x20 }, (_, i) => String.fromCharCode(0x20 + i));
const CONTROLS = [
  ...Array.from({ length: 0x20 }, (_, i) => String.fromCharCode(i)),
  '\u007f',
].filter((char) => char !== '\u0000');
const ALNUM = /[A-Za-z0-9]/;

/** The characters each format leaves bare in a word of their own, besides letters and digits. */
const SHELL_BARE = new Set(['_', '@', '%', '+', '=', ':', ',', '.', '/', '-']);
const SYSTEMD_BARE = new Set(['_', '@', '+', '=', ':', ',', '.', '/', '-']);
const SYMBOLS = PRINTABLE.filter((char) => !ALNUM.test(char));

describe('shellQuote, character by character', () => {
  it.each(SYMBOLS.filter((char) => SHELL_BARE.has(char)))('leaves a%sb bare', (char) => {
    expect(shellQuote(`a${char}b`)).toBe(`a${char}b`);
  });

  it.each(SYMBOLS.filter((char) => !SHELL_BARE.has(char) && char !== "'"))(
    'single-quotes a%sb',
    (char) => {
      expect(shellQuote(`a${char}b`)).toBe(`'a${char}b'`);
    },
  );

  it.each(CONTROLS)('single-quotes the control character %j', (char) => {
    expect(shellQuote(`a${char}b`)).toBe(`'a${char}b'`);
  });

  it('throws a QuoteError, by name, so the CLI can tell it from a bug', () => {
    expect(() => shellQuote('\u0000')).toThrow(expect.objectContaining({ name: 'QuoteError' }));
  });

  it('quotes the empty string as an empty word, never nothing', () => {
    expect(shellQuote('')).toBe("''");
  });

  it('names the NUL byte it refuses', () => {
    expect(() => shellQuote('a\u0000b')).toThrow(
      'sh cannot carry "a\\u0000b": it contains a NUL byte',
    );
  });
});

describe('envFileLine, character by character', () => {
  it.each(SYMBOLS.filter((char) => SHELL_BARE.has(char)))('KEY=a%sb bare', (char) => {
    expect(envFileLine('KEY', `a${char}b`)).toBe(`KEY=a${char}b`);
  });

  it.each(['"', '\\', '`', '$'])('backslash-escapes %s inside double quotes', (char) => {
    expect(envFileLine('KEY', `a${char}b`)).toBe(`KEY="a\\${char}b"`);
  });

  it.each(SYMBOLS.filter((char) => !SHELL_BARE.has(char) && !'"\\`$'.includes(char)))(
    'double-quotes a%sb without escaping',
    (char) => {
      expect(envFileLine('KEY', `a${char}b`)).toBe(`KEY="a${char}b"`);
    },
  );

  it.each(['', '1A', 'A-B', 'A B', 'A;B', 'A=B', 'Ä'])('refuses the key %j', (key) => {
    expect(() => envFileLine(key, 'x')).toThrow(
      `environment file cannot carry ${JSON.stringify(key)}: not a variable name`,
    );
  });

  it.each(['A', '_', 'a_1', 'LONG_NAME_2'])('takes the key %j', (key) => {
    expect(envFileLine(key, 'x')).toBe(`${key}=x`);
  });

  it('names the NUL byte it refuses', () => {
    expect(() => envFileLine('K', 'a\u0000')).toThrow(
      'environment file cannot carry "a\\u0000": it contains a NUL byte',
    );
  });
});

describe('systemdWord, character by character', () => {
  it.each(SYMBOLS.filter((char) => SYSTEMD_BARE.has(char)))('leaves a%sb bare', (char) => {
    expect(systemdWord(`a${char}b`)).toBe(`a${char}b`);
  });

  const escaped: Record<string, string> = { '\\': '\\\\', '"': '\\"', $: '$$', '%': '%%' };
  it.each(SYMBOLS.filter((char) => !SYSTEMD_BARE.has(char)))('double-quotes a%sb', (char) => {
    expect(systemdWord(`a${char}b`)).toBe(`"a${escaped[char] ?? char}b"`);
  });

  const controlEscape = (char: string): string =>
    char === '\n'
      ? '\\n'
      : char === '\t'
        ? '\\t'
        : `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
  it.each(CONTROLS)('C-escapes the control character %j', (char) => {
    expect(systemdWord(`a${char}b`)).toBe(`"a${controlEscape(char)}b"`);
  });

  it('names the NUL byte it refuses', () => {
    expect(() => systemdWord('\u0000')).toThrow(
      'systemd cannot carry "\\u0000": it contains a NUL byte',
    );
  });

  it('quotes the empty word', () => {
    expect(systemdWord('')).toBe('""');
  });
});

describe('systemdCommand, systemdLine, systemdPath', () => {
  it.each([[[]], [['node']], [['bin/node', 'x']], [['']]])(
    'refuses %j: the executable must be absolute',
    (argv) => {
      expect(() => systemdCommand(argv)).toThrow(
        `systemd cannot carry ${JSON.stringify(argv[0] ?? '')}: the executable must be an absolute path`,
      );
    },
  );

  it('quotes the executable like any word', () => {
    expect(systemdCommand(['/opt/my app/run', '%i'])).toBe('"/opt/my app/run" "%%i"');
  });

  it.each(CONTROLS)('systemdLine refuses the control character %j', (char) => {
    expect(() => systemdLine(`a${char}b`)).toThrow(
      `systemd cannot carry ${JSON.stringify(`a${char}b`)}: it contains a control character`,
    );
  });

  it('systemdLine escapes every specifier and names a trailing backslash', () => {
    expect(systemdLine('%%a%b $x "q" \\ mid')).toBe('%%%%a%%b $x "q" \\ mid');
    expect(() => systemdLine('x\\')).toThrow(
      'systemd cannot carry "x\\\\": a trailing \\ continues the line',
    );
  });

  it.each(['relative/x', '', '/a b', '/a\tb', '/a\nb', '/a\u001bb', '/a\u007fb'])(
    'systemdPath refuses %j',
    (value) => {
      expect(() => systemdPath(value)).toThrow(
        `systemd cannot carry ${JSON.stringify(value)}: a path setting needs an absolute path without spaces`,
      );
    },
  );

  it('systemdPath escapes specifiers', () => {
    expect(systemdPath('/srv/100%/x')).toBe('/srv/100%%/x');
  });
});

describe('monit, upstart and nginx strings', () => {
  it.each(CONTROLS)('each refuses the control character %j, naming its format', (char) => {
    const value = `a${char}b`;
    const reason = `${JSON.stringify(value)}: it contains a control character`;
    expect(() => monitString(value)).toThrow(`monit cannot carry ${reason}`);
    expect(() => upstartString(value)).toThrow(`upstart cannot carry ${reason}`);
    expect(() => nginxString(value)).toThrow(`nginx cannot carry ${reason}`);
  });

  it('monit names the quote it cannot carry', () => {
    expect(() => monitString('a"b')).toThrow(
      'monit cannot carry "a\\"b": monit strings cannot contain "',
    );
    expect(monitString('a\\b $x')).toBe('"a\\b $x"');
  });

  it.each([
    ['a\\', '"a\\\\"'],
    ['a"', '"a\\""'],
    ['\\"', '"\\\\\\""'],
  ])('upstart and nginx escape %j as %s', (value, quoted) => {
    expect(upstartString(value)).toBe(quoted);
    expect(nginxString(value)).toBe(quoted);
  });

  it('nginx names the $ it refuses', () => {
    expect(() => nginxString('a$b')).toThrow(
      'nginx cannot carry "a$b": nginx expands $ in strings',
    );
  });
});

describe('jsString', () => {
  it.each([
    ['\u2028', '"\\u2028"'],
    ['\u2029', '"\\u2029"'],
    ['a\u2028b\u2029c', '"a\\u2028b\\u2029c"'],
  ])('escapes the line separator in %j', (value, literal) => {
    expect(jsString(value)).toBe(literal);
  });
});
