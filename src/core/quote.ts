// Quoting, one function per target format. Every value that a template writes into a shell
// script, a unit file, a monit check, an upstart job or an nginx site goes through one of these:
// EJS's `<%=` escapes HTML only, which protects none of those formats.
//
// A quoter either returns text that the target parses back to exactly `value`, or throws a
// QuoteError when the format cannot carry the value at all (a newline in a monit string, say).

export class QuoteError extends Error {
  constructor(format: string, value: string, reason: string) {
    super(`${format} cannot carry ${JSON.stringify(value)}: ${reason}`);
    this.name = 'QuoteError';
  }
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/;
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX sh: one word, never expanded. `'` is closed, escaped and reopened. */
export function shellQuote(value: string): string {
  if (value.includes('\u0000')) throw new QuoteError('sh', value, 'it contains a NUL byte');
  if (SHELL_SAFE.test(value)) return value;
  return `'${value.replaceAll("'", `'\\''`)}'`;
}

/** The single place where an argv array becomes shell text. */
export function shellCommand(argv: readonly string[]): string {
  return argv.map(shellQuote).join(' ');
}

/**
 * `KEY=VALUE` for a file that both sh (`. FILE`) and systemd's EnvironmentFile= read. The two
 * agree on double quotes with `\` before `"`, `\`, `` ` `` and `$`; they disagree on sh's
 * `'\''` idiom (systemd keeps the quotes), so single quotes are not used.
 */
export function envFileLine(key: string, value: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) {
    throw new QuoteError('environment file', key, 'not a variable name');
  }
  if (value.includes('\u0000'))
    throw new QuoteError('environment file', value, 'it contains a NUL byte');
  if (SHELL_SAFE.test(value)) return `${key}=${value}`;
  return `${key}="${value.replace(/["\\`$]/g, '\\$&')}"`;
}

/** systemd: `%` starts a specifier everywhere in a unit file. */
function escapeSpecifiers(value: string): string {
  return value.replaceAll('%', '%%');
}

const SYSTEMD_SAFE = /^[A-Za-z0-9_@+=:,./-]+$/;

/** One word of a systemd command line (ExecStart=...): C-escaped in double quotes. */
export function systemdWord(value: string): string {
  if (value.includes('\u0000')) throw new QuoteError('systemd', value, 'it contains a NUL byte');
  if (SYSTEMD_SAFE.test(value)) return value;
  const escaped = [...value]
    .map((char) => {
      if (char === '\\') return '\\\\';
      if (char === '"') return '\\"';
      if (char === '\n') return '\\n';
      if (char === '\t') return '\\t';
      if (CONTROL.test(char)) return `\\x${char.charCodeAt(0).toString(16).padStart(2, '0')}`;
      if (char === '$') return '$$';
      return char;
    })
    .join('');
  return `"${escapeSpecifiers(escaped)}"`;
}

/** A systemd command line: the executable must be an absolute path, taken literally. */
export function systemdCommand(argv: readonly string[]): string {
  const [executable, ...args] = argv;
  if (executable === undefined || !executable.startsWith('/')) {
    throw new QuoteError('systemd', executable ?? '', 'the executable must be an absolute path');
  }
  return [executable, ...args].map(systemdWord).join(' ');
}

/** A free-text systemd setting such as Description=: one line, specifiers escaped. */
export function systemdLine(value: string): string {
  if (CONTROL.test(value))
    throw new QuoteError('systemd', value, 'it contains a control character');
  if (value.endsWith('\\'))
    throw new QuoteError('systemd', value, 'a trailing \\ continues the line');
  return escapeSpecifiers(value);
}

/** A path setting such as WorkingDirectory= or ReadWritePaths=: absolute, no spaces to split on. */
export function systemdPath(value: string): string {
  if (!value.startsWith('/') || /\s/.test(value) || CONTROL.test(value)) {
    throw new QuoteError('systemd', value, 'a path setting needs an absolute path without spaces');
  }
  return escapeSpecifiers(value);
}

/** monit: strings are "..." with no escapes, so a value with `"` or a control character is refused. */
export function monitString(value: string): string {
  if (CONTROL.test(value)) throw new QuoteError('monit', value, 'it contains a control character');
  if (value.includes('"')) throw new QuoteError('monit', value, 'monit strings cannot contain "');
  return `"${value}"`;
}

/** upstart: a double-quoted stanza argument; `\` escapes `"` and `\`. */
export function upstartString(value: string): string {
  if (CONTROL.test(value))
    throw new QuoteError('upstart', value, 'it contains a control character');
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** nginx: a double-quoted parameter; `$` would interpolate a variable and cannot be escaped. */
export function nginxString(value: string): string {
  if (CONTROL.test(value)) throw new QuoteError('nginx', value, 'it contains a control character');
  if (value.includes('$')) throw new QuoteError('nginx', value, 'nginx expands $ in strings');
  return `"${value.replaceAll('\\', '\\\\').replaceAll('"', '\\"')}"`;
}

/** JavaScript: a string literal (JSON, with the two line separators JSON leaves raw escaped). */
export function jsString(value: string): string {
  return JSON.stringify(value).replaceAll('\u2028', '\\u2028').replaceAll('\u2029', '\\u2029');
}

/** The quoters a template may call, by format. */
export const quoters = Object.freeze({
  sh: shellQuote,
  shCommand: shellCommand,
  envLine: envFileLine,
  systemdWord,
  systemdCommand,
  systemdLine,
  systemdPath,
  monit: monitString,
  upstart: upstartString,
  nginx: nginxString,
  js: jsString,
});
export type Quoters = typeof quoters;
