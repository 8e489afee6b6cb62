// The wizard's questions as data: which kinds ask them, their defaults, and how an answer typed
// at a prompt or given as a flag is checked. The same checks serve both paths.
import { SvcError } from '../core/errors.js';
import {
  fieldProblem,
  INIT_SYSTEMS,
  isReservedEnvKey,
  RUNTIMES,
  type InitSystem,
  type Runtime,
} from '../core/manifest.js';
import { secretValueProblem } from '../core/secrets.js';
import type { Kind } from '../core/naming.js';

export interface Answers {
  name: string;
  kind: Kind;
  description: string;
  runtime: Runtime;
  port?: number;
  health?: string;
  init?: InitSystem;
  monit: boolean;
  user: string;
  env: Record<string, string>;
}

/** What flags already decided; the wizard asks only for the rest. */
export type GivenAnswers = Partial<Omit<Answers, 'name' | 'kind'>>;

export const QUESTION_FLAGS = {
  description: '--description',
  runtime: '--runtime',
  port: '--port',
  health: '--health',
  init: '--init',
  monit: '--monit/--no-monit',
  user: '--user',
  env: '--env',
} as const;
export type QuestionId = keyof typeof QUESTION_FLAGS;

export const DEFAULT_PORT: Record<Kind, number | undefined> = {
  api: 3000,
  www: 8080,
  service: undefined,
};
const KIND_LABEL: Record<Kind, string> = {
  api: 'HTTP API',
  www: 'web site',
  service: 'background worker',
};

export function defaultDescription(name: string, kind: Kind): string {
  return `${name}: ${KIND_LABEL[kind]}`;
}

/** The questions that apply to a kind, in the order they are asked. */
export function questionsFor(kind: Kind, runtime: Runtime | undefined): QuestionId[] {
  const ids: QuestionId[] = ['description'];
  if (kind === 'www') ids.push('runtime');
  if (kind !== 'service') ids.push('port', 'health');
  if (kind !== 'www' || runtime !== 'static') ids.push('init');
  ids.push('monit', 'user', 'env');
  return ids;
}

function flagError(flag: string, problem: string, value: string): SvcError {
  return new SvcError(`${flag}: ${problem} (got ${JSON.stringify(value)})`);
}

export function parsePortFlag(value: string): number {
  const port = /^\d+$/.test(value) ? Number(value) : NaN;
  const problem = fieldProblem('port', port);
  if (problem) throw flagError('--port', problem, value);
  return port;
}

export function checkTextFlag(
  flag: string,
  field: 'description' | 'health' | 'user' | 'alert',
  value: string,
): string {
  const problem = fieldProblem(field, value);
  if (problem) throw flagError(flag, problem, value);
  return value;
}

export function parseChoiceFlag<T extends string>(
  flag: string,
  value: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(value)) {
    throw flagError(flag, `must be one of ${choices.join(', ')}`, value);
  }
  return value as T;
}

export const parseInitFlag = (value: string) => parseChoiceFlag('--init', value, INIT_SYSTEMS);
export const parseRuntimeFlag = (value: string) => parseChoiceFlag('--runtime', value, RUNTIMES);

/** Why KEY cannot be a variable svc new writes, or undefined. */
function envKeyProblem(key: string): string | undefined {
  if (!/^[A-Z_][A-Z0-9_]*$/.test(key))
    return `${key} must be an upper-case variable name (A-Z, 0-9, _)`;
  if (isReservedEnvKey(key)) return `${key} is reserved: the init script sets it`;
  if (key === 'PORT') return 'PORT is set from --port';
  return undefined;
}

/**
 * Why a value cannot go where svc new puts it, without the value: svc.yaml env: and the secrets
 * file both end up as one line of the host's env file, and the secrets file is read back line by
 * line (a newline in a value would be a line, and a key, of its own).
 */
export function envValueProblem(key: string, value: string): string | undefined {
  const problem = secretValueProblem(value);
  return problem === undefined ? undefined : `${key} ${problem}`;
}

/** `KEY=VALUE` -> [KEY, VALUE]; the problem as text, or the pair. */
export function parseEnvAssignment(text: string): [string, string] | string {
  const equals = text.indexOf('=');
  if (equals <= 0) return 'must be KEY=VALUE';
  const key = text.slice(0, equals);
  const value = text.slice(equals + 1);
  return envKeyProblem(key) ?? envValueProblem(key, value) ?? [key, value];
}

export function parseEnvFlags(values: readonly string[], flag = '--env'): Record<string, string> {
  const env: Record<string, string> = {};
  for (const text of values) {
    const parsed = parseEnvAssignment(text);
    // The value is not shown: it may be a secret.
    if (typeof parsed === 'string') throw new SvcError(`${flag}: ${parsed}`);
    // Last-one-wins would keep a mistyped repeat without a word.
    if (Object.hasOwn(env, parsed[0])) throw new SvcError(`${flag}: ${parsed[0]} is given twice`);
    env[parsed[0]] = parsed[1];
  }
  return env;
}

/**
 * `--secret KEY=VALUE` and `--secret KEY`: the values given, and the keys whose value is to be
 * read (a hidden prompt, or stdin), in order. A value on the command line is visible to other
 * local users (`ps`) and stays in shell history; KEY alone keeps it off both.
 */
export function parseSecretFlags(values: readonly string[]): {
  given: Record<string, string>;
  toRead: string[];
  /** Every key in the order given: svc.yaml lists them so. */
  order: string[];
} {
  const given: Record<string, string> = {};
  const toRead: string[] = [];
  for (const text of values) {
    if (text.includes('=')) {
      const [key, value] = Object.entries(parseEnvFlags([text], '--secret'))[0]!;
      if (Object.hasOwn(given, key)) throw new SvcError(`--secret: ${key} is given twice`);
      given[key] = value;
      continue;
    }
    const problem = text === '' ? 'must be KEY=VALUE or KEY' : envKeyProblem(text);
    if (problem !== undefined) throw new SvcError(`--secret: ${problem}`);
    if (toRead.includes(text)) throw new SvcError(`--secret: ${text} is given twice`);
    toRead.push(text);
  }
  for (const key of toRead)
    if (Object.hasOwn(given, key)) throw new SvcError(`--secret: ${key} is given twice`);
  const order = [...new Set(values.map((text) => text.split('=')[0]!))];
  return { given, toRead, order };
}

/** Name parts that make a key a secret by default: DB_PASSWORD, STRIPE_KEY, GITHUB_TOKEN, ... */
export const SECRET_KEY_PARTS = [
  'PASSWORD',
  'PASSWD',
  'PASS',
  'PWD',
  'SECRET',
  'TOKEN',
  'KEY',
  'APIKEY',
  'CREDENTIAL',
  'CREDENTIALS',
  'PRIVATE',
  'AUTH',
  'DSN',
  'SALT',
] as const;

/** Words that make a key secret when a part ends with them (DBPASSWORD, APITOKEN, MYSECRET). */
const SECRET_KEY_SUFFIXES = ['PASSWORD', 'PASSWD', 'SECRET', 'TOKEN', 'APIKEY', 'CREDENTIALS'];

/** A URL carrying a password (`postgres://user:pw@db/x`): its value is a secret, whatever its key. */
const URL_WITH_PASSWORD = /^[a-z][a-z0-9+.-]*:\/\/[^/?#@\s]*:[^/?#@\s]*@/i;

/**
 * Whether `svc new --env KEY=VALUE` treats the pair as a secret: one of KEY's _-separated parts is
 * a secret word or ends with a long one (DBPASSWORD, not TOKENS_PER_MINUTE), or VALUE is a URL with a password in it
 * (DATABASE_URL=postgres://u:pw@db/x). svc.yaml is committed and ships in every release, so when
 * in doubt a value goes to the secrets file.
 */
export function looksSecret(key: string, value = ''): boolean {
  const parts = key.toUpperCase().split('_');
  return (
    parts.some((part) => (SECRET_KEY_PARTS as readonly string[]).includes(part)) ||
    parts.some((part) => SECRET_KEY_SUFFIXES.some((word) => part.endsWith(word))) ||
    URL_WITH_PASSWORD.test(value)
  );
}

/** --env values split into svc.yaml env: and secrets (with --secret's, which always are). */
export function splitSecrets(
  env: Readonly<Record<string, string>>,
  secrets: Readonly<Record<string, string>> = {},
): { env: Record<string, string>; secrets: Record<string, string> } {
  const plain: Record<string, string> = {};
  const secret: Record<string, string> = {};
  for (const [key, value] of Object.entries(env)) {
    if (Object.hasOwn(secrets, key))
      throw new SvcError(`--secret: ${key} is also given with --env; give it once`);
    if (looksSecret(key, value)) secret[key] = value;
    else plain[key] = value;
  }
  return { env: plain, secrets: { ...secret, ...secrets } };
}
