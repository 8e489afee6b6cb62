import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import {
  envFileLine,
  jsString,
  monitString,
  nginxString,
  QuoteError,
  shellCommand,
  shellQuote,
  systemdCommand,
  systemdLine,
  systemdPath,
  systemdWord,
  upstartString,
} from '../../src/core/quote.js';

const HOSTILE = [
  '$(reboot)',
  '`reboot`',
  "it's",
  'say "hi"',
  'line1\nline2',
  'a\\b',
  '; rm -rf /',
  '$HOME ${HOME} %h %%',
  '  spaces  ',
  '*',
  '-n',
  '',
  'ünïcødé ✓',
];

/** Runs the quoted text through a real sh and returns what printf saw as its argument. */
function throughSh(quoted: string): string {
  return execFileSync('sh', ['-c', `printf %s ${quoted}`], { encoding: 'utf8' });
}

describe('shellQuote', () => {
  it.each(HOSTILE)('round-trips %j through a real sh, executing nothing', (value) => {
    expect(throughSh(shellQuote(value))).toBe(value);
  });

  it('leaves plain words readable', () => {
    expect(shellQuote('/var/www/api-orders/current')).toBe('/var/www/api-orders/current');
    expect(shellQuote("it's")).toBe(`'it'\\''s'`);
  });

  it('refuses a NUL byte, which no shell word can hold', () => {
    expect(() => shellQuote('a\u0000b')).toThrow(QuoteError);
  });

  it('quotes each word of a command separately', () => {
    const argv = ['printf', '%s|', 'a b', '$(id)', "x'y"];
    expect(execFileSync('sh', ['-c', shellCommand(argv)], { encoding: 'utf8' })).toBe(
      "a b|$(id)|x'y|",
    );
  });
});

describe('envFileLine', () => {
  it.each(HOSTILE)('a sourced env file gives back %j', (value) => {
    const line = envFileLine('VALUE', value);
    const seen = execFileSync('sh', ['-c', `${line}\nprintf %s "$VALUE"`], { encoding: 'utf8' });
    expect(seen).toBe(value);
  });

  it('refuses a key that is not a variable name', () => {
    expect(() => envFileLine('A;B', 'x')).toThrow('not a variable name');
  });
});

describe('systemd quoting', () => {
  it('escapes specifiers, variables, quotes and newlines in a command word', () => {
    expect(systemdWord('%h $HOME "q" a\\b\nz')).toBe('"%%h $$HOME \\"q\\" a\\\\b\\nz"');
  });

  it('leaves plain words bare', () => {
    expect(systemdCommand(['/usr/bin/node', 'server.js'])).toBe('/usr/bin/node server.js');
  });

  it('requires an absolute executable', () => {
    expect(() => systemdCommand(['node', 'server.js'])).toThrow('absolute path');
  });

  it('keeps a free-text line on one line with specifiers escaped', () => {
    expect(systemdLine('100% $(reboot)')).toBe('100%% $(reboot)');
    expect(() => systemdLine('two\nlines')).toThrow(QuoteError);
    expect(() => systemdLine('ends in \\')).toThrow('continues the line');
  });

  it('refuses paths that would split or are relative', () => {
    expect(systemdPath('/var/log/x')).toBe('/var/log/x');
    expect(() => systemdPath('/var/log/a b')).toThrow(QuoteError);
    expect(() => systemdPath('var/log')).toThrow(QuoteError);
  });
});

describe('monit, upstart, nginx and JavaScript strings', () => {
  it('monit: double-quoted, refusing what it cannot escape', () => {
    expect(monitString("/ok it's")).toBe(`"/ok it's"`);
    expect(() => monitString('say "hi"')).toThrow('cannot contain "');
    expect(() => monitString('a\nb')).toThrow(QuoteError);
  });

  it('upstart: backslash-escapes quotes and backslashes', () => {
    expect(upstartString('say "hi" \\ $(x)')).toBe('"say \\"hi\\" \\\\ $(x)"');
    expect(() => upstartString('a\nb')).toThrow(QuoteError);
  });

  it('nginx: refuses $, which it would expand', () => {
    expect(nginxString('/var/www/a "b"')).toBe('"/var/www/a \\"b\\""');
    expect(() => nginxString('/$uri')).toThrow('expands $');
  });

  it('JavaScript: a literal that evaluates back to the value', () => {
    for (const value of [...HOSTILE, 'a\u2028b</script>']) {
      const literal = jsString(value);
      expect(literal).not.toContain('\u2028');
      expect(new Function(`return ${literal};`)()).toBe(value);
    }
  });
});
