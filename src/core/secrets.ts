// Secrets: svc.yaml names them (`secrets: [DB_PASSWORD]`), the deployer's machine values them at
// plan/deploy time. The decisions here are pure; reading the file and running the command are the
// edge's (project/secrets.ts). No message built here ever contains a value: a secrets file line
// that does not parse is named by its number, a command that fails by its exit status.
import { qualifiedSecretVariable } from './environment-name.js';
import { SvcError } from './errors.js';

export const SECRETS_DIR = '.svc/secrets';
/** A secret value, a secrets file and a command's output are bounded: none is a stream. */
export const MAX_SECRET_BYTES = 64 * 1024;
export const MAX_SECRETS_FILE_BYTES = 1024 * 1024;
export const SECRETS_COMMAND_TIMEOUT_MS = 30_000;

export type SecretSource = 'environment' | 'file' | 'command';

/** Where a secret of an environment is kept locally: `.svc/secrets/production`. */
export function secretsFilePath(environment: string): string {
  return `${SECRETS_DIR}/${environment}`;
}

// `export KEY=VALUE` too: files people already have are often also sourced by a shell.
const KEY_LINE = /^(?:export[ \t]+)?([A-Z_][A-Z0-9_]*)=(.*)$/s;
const BOM = '\uFEFF';

/**
 * `KEY=VALUE` or `export KEY=VALUE` lines, `#` comments and blank lines; a BOM an editor put
 * before line 1 is not part of it. The value is the rest of the line exactly (no quotes are
 * removed: what is written is what the service gets). A bad line is named by number.
 */
export function parseSecretsFile(text: string, file: string): Map<string, string> {
  const values = new Map<string, string>();
  const firstLine = new Map<string, number>();
  const body = text.startsWith(BOM) ? text.slice(BOM.length) : text;
  body.split('\n').forEach((raw, index) => {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const number = index + 1;
    if (line.trim() === '' || line.trimStart().startsWith('#')) return;
    const match = KEY_LINE.exec(line);
    if (match === null)
      throw new SvcError(
        `${file}:${number}: not KEY=VALUE (each line is KEY=VALUE, export KEY=VALUE or a # comment)`,
      );
    const key = match[1]!;
    const first = firstLine.get(key);
    if (first !== undefined)
      throw new SvcError(`${file}:${number}: ${key} is set twice (first on line ${first})`);
    firstLine.set(key, number);
    values.set(key, match[2]!);
  });
  return values;
}

/**
 * The file's bytes as text, a leading BOM kept for parseSecretsFile; bytes that are not UTF-8
 * are refused naming the first such line (never replaced: a value would silently change).
 */
export function decodeSecretsFile(bytes: Uint8Array, file: string): string {
  const strict = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });
  try {
    return strict.decode(bytes);
  } catch {
    // A newline byte never occurs inside a multi-byte character: each line decodes on its own.
    let start = 0;
    let line = 1;
    for (;;) {
      const end = bytes.indexOf(0x0a, start);
      const stop = end === -1 ? bytes.length : end;
      try {
        strict.decode(bytes.subarray(start, stop));
      } catch {
        break;
      }
      // Not reached: the whole text failed to decode, so one of its lines fails before the last.
      // Stryker disable next-line ConditionalExpression,BlockStatement: unreachable guard
      if (end === -1) break;
      start = end + 1;
      line += 1;
    }
    throw new SvcError(`${file}:${line}: not valid UTF-8; save ${file} as UTF-8`);
  }
}

export interface SecretsFileStatus {
  isFile: boolean;
  mode: number;
  uid: number;
}

/**
 * Why svc will not read a secrets file, as OpenSSH will not use a key file others can read: one
 * line naming the file, or undefined when it may be read.
 */
export function secretsFileRefusal(
  file: string,
  status: SecretsFileStatus,
  ownUid: number,
): string | undefined {
  if (!status.isFile)
    return `${file}: not a regular file; secrets are read from a regular file only`;
  if (status.uid !== ownUid)
    return `${file}: owned by uid ${status.uid}, not by you (uid ${ownUid}); svc reads secrets only from your own file`;
  const mode = status.mode & 0o7777;
  if ((mode & 0o077) !== 0) {
    const octal = mode.toString(8).padStart(4, '0');
    return `${file}: permissions ${octal} are too open (others may read it); run chmod 600 ${file}`;
  }
  return undefined;
}

/** Why svc will not read a secrets file git tracks: its values are in the repository already. */
export function trackedSecretsFileRefusal(file: string): string {
  return `${file}: git tracks it, so its values are in the repository; run git rm --cached ${file}, then change those values`;
}

/**
 * Splits secretsCommand into words as sh would split plain text: blanks separate, '...' is literal,
 * "..." is literal but for \" and \\, a \ outside quotes takes the next character. Nothing is
 * expanded: no variables, globs or command substitution, because no shell ever runs it.
 */
export function splitCommandLine(line: string): string[] {
  const words: string[] = [];
  // `started`: a word is open, even an empty one ('' is a word).
  let word = '';
  let started = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < line.length; i++) {
    const char = line[i]!;
    if (quote === "'") {
      if (char === "'") quote = undefined;
      else word += char;
    } else if (quote === '"') {
      if (char === '"') quote = undefined;
      else if (char === '\\' && (line[i + 1] === '"' || line[i + 1] === '\\')) word += line[++i];
      else word += char;
    } else if (char === ' ' || char === '\t') {
      if (started) words.push(word);
      word = '';
      started = false;
    } else if (char === "'" || char === '"') {
      quote = char;
      started = true;
    } else if (char === '\\') {
      if (i + 1 === line.length)
        throw new SvcError('svc.yaml: secretsCommand: ends with a lone \\');
      word += line[++i];
      started = true;
    } else {
      word += char;
      started = true;
    }
  }
  if (quote !== undefined)
    throw new SvcError(`svc.yaml: secretsCommand: unterminated ${quote} quote`);
  if (started) words.push(word);
  if (words.length === 0) throw new SvcError('svc.yaml: secretsCommand: names no program');
  return words;
}

/**
 * The argv for one key: the template split first, then {env} and {key} replaced inside each word,
 * so a replacement can never add a word or an option of its own. Both are checked names (an
 * inventory group, a variable name) all the same.
 */
export function secretsCommandArgv(template: string, environment: string, key: string): string[] {
  return splitCommandLine(template).map((word) =>
    word.replaceAll('{env}', environment).replaceAll('{key}', key),
  );
}

/** A command's stdout as the value: one trailing newline (\n, or a Windows tool's \r\n) is not. */
export function commandValue(stdout: string): string {
  if (stdout.endsWith('\r\n')) return stdout.slice(0, -2);
  return stdout.endsWith('\n') ? stdout.slice(0, -1) : stdout;
}

/** What an env file line cannot carry; described without the value. */
export function secretValueProblem(value: string): string | undefined {
  if (value.includes('\u0000')) return 'contains a NUL byte';
  if (/[\n\r]/.test(value)) return 'contains a line break; the env file holds one line per value';
  if (new TextEncoder().encode(value).length > MAX_SECRET_BYTES)
    return `is longer than ${MAX_SECRET_BYTES / 1024} KiB`;
  return undefined;
}

/** How a secrets command ended, from the edge's view of the child: never its output. */
export type CommandEnd =
  | { kind: 'exit'; status: number }
  | { kind: 'signal'; signal: string }
  | { kind: 'timeout' }
  | { kind: 'too-much-output' }
  | { kind: 'not-started'; reason: string }
  /** svc was asked to stop (Ctrl-C) while the command ran: svc ended it. */
  | { kind: 'interrupted' };

export function commandFailure(key: string, environment: string, end: CommandEnd): string {
  const head = `secret ${key} (${environment}): secretsCommand`;
  switch (end.kind) {
    case 'exit':
      return `${head} exited with status ${end.status}`;
    case 'signal':
      return `${head} was killed by ${end.signal}`;
    case 'timeout':
      return `${head} did not finish within ${SECRETS_COMMAND_TIMEOUT_MS / 1000} s`;
    case 'too-much-output':
      return `${head} printed more than ${MAX_SECRET_BYTES / 1024} KiB`;
    case 'not-started':
      return `${head} could not start: ${end.reason}`;
    case 'interrupted':
      return `${head} was interrupted`;
  }
}

/** The variables of svc's environment that may hold KEY for ENVIRONMENT, in the order read. */
export function secretVariables(
  key: string,
  environment: string,
  deployed: readonly string[],
): string[] {
  const qualified = qualifiedSecretVariable(key, environment);
  return new Set(deployed).size > 1 ? [qualified] : [qualified, key];
}

/**
 * A key's value from svc's environment. `KEY__ENV` (qualifiedSecretVariable) is read first; the
 * plain `KEY` only when the run deploys one environment: exported for a run that deploys several,
 * it would land in all of them (CI exports production's, then deploys staging too), so it is
 * refused in one line naming the qualified spelling. An empty value is unset: CI systems pass a
 * secret they do not have as an empty string.
 */
export function secretFromEnvironment(
  key: string,
  environment: string,
  deployed: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): { variable: string; value: string } | { refusal: string } | undefined {
  const set = (name: string) => env[name] !== undefined && env[name] !== '';
  const several = [...new Set(deployed)];
  if (several.length > 1 && set(key)) {
    const spelled = several.map((name) => qualifiedSecretVariable(key, name)).join(', ');
    return {
      refusal: `secret ${key}: $${key} is set, but this run deploys several environments (${several.join(', ')}) and it would go to each; set ${spelled} instead and unset ${key}`,
    };
  }
  const variable = secretVariables(key, environment, several).find(set);
  return variable === undefined ? undefined : { variable, value: env[variable]! };
}

/** What a missing secret is told: the key, and every place svc looked, in order. */
export function missingSecretLine(
  key: string,
  environment: string,
  file: { path: string; state: 'missing' | 'without-key' },
  hasCommand: boolean,
  variables: readonly string[] = [key],
): string {
  const places = [
    `not in svc's environment (${variables.map((name) => `$${name}`).join(' or ')})`,
    file.state === 'missing' ? `no file ${file.path}` : `not in ${file.path}`,
    hasCommand ? 'secretsCommand printed nothing' : 'no secretsCommand in svc.yaml',
  ];
  return `secret ${key} (${environment}): not found: ${places.join(', ')}`;
}
