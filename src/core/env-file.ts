// The service's environment file (/etc/default/NAME), rendered by svc for one environment: svc.yaml
// env:, the group's env: over it, then the resolved secrets. It is the only place a secret value
// is written on a host (root's, 0600), so a secret's line is never shown: the plan compares each
// line on the host (env-diff.ts) and says which keys changed, with values only for svc.yaml's own.
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import { envFileLine } from './quote.js';
import type { SecretSource } from './secrets.js';

export interface EnvironmentInput {
  /** The inventory group the host is deployed as, or `default`. */
  name: string;
  /** svc.yaml env: with the group's env: over it. */
  env: Readonly<Record<string, string>>;
  /** In svc.yaml's `secrets:` order; values already checked (secretValueProblem). */
  secrets: readonly { key: string; value: string }[];
  /** Where each secret came from (`$DB_PASSWORD__STAGING`, `.svc/secrets/staging`, ...), for the plan: never a value. */
  sources?: readonly SecretOrigin[];
  /**
   * A rollback's: keys this checkout names that did not resolve, each with its one-line problem.
   * The host fails only if the release it goes back to needs one (rollback-environment.ts).
   */
  unresolved?: readonly { key: string; line: string }[];
}

export interface SecretOrigin {
  key: string;
  source: SecretSource;
  /** The variable (`$NAME`), the file, or `secretsCommand`. */
  from: string;
}

/** One KEY=VALUE line of the env file; `secret` when its value came from svc.yaml `secrets:`. */
export interface EnvLine {
  key: string;
  line: string;
  secret: boolean;
}

/**
 * Marks the fact script reads (facts.ts env_fact): the lines after PLAIN_MARK are svc.yaml's
 * values, which the host may send back as they are for the plan's diff; the lines after
 * SECRET_MARK (and every line of a file without marks, as an older svc wrote it) only as a salted
 * hash. A key the request does not name as plain is hashed wherever it stands.
 */
export const ENV_PLAIN_MARK = '# svc: values from svc.yaml (plans show them)';
export const ENV_SECRET_MARK = '# svc: secrets (plans never show them)';

/** The file's lines in order: PORT, NODE_ENV, env:, the secrets; HOST and PORT last behind nginx. */
export function envFileLines(
  manifest: Pick<Manifest, 'port' | 'appPort' | 'cutover'>,
  environment: EnvironmentInput,
): EnvLine[] {
  const plain = (key: string, value: string): EnvLine => ({
    key,
    line: envFileLine(key, value),
    secret: false,
  });
  const lines: EnvLine[] = [];
  // Behind nginx, HOST and PORT come last so that no entry can expose the process directly.
  // Under cutover: switch each slot's unit sets them (Environment=): none here, which would win.
  const slots = manifest.cutover === 'switch';
  if (!slots && manifest.appPort === undefined && manifest.port !== undefined)
    lines.push(plain('PORT', String(manifest.port)));
  if (!Object.hasOwn(environment.env, 'NODE_ENV')) lines.push(plain('NODE_ENV', 'production'));
  for (const [key, value] of Object.entries(environment.env)) lines.push(plain(key, value));
  for (const { key, value } of environment.secrets)
    lines.push({ key, line: envFileLine(key, value), secret: true });
  if (!slots && manifest.appPort !== undefined) {
    lines.push(plain('HOST', '127.0.0.1'));
    lines.push(plain('PORT', String(manifest.appPort)));
  }
  return lines;
}

/**
 * The whole file. The header names no environment: the same values deployed as `default` (by
 * address) and as a group are the same bytes, and nothing restarts for a word in a comment.
 */
export function renderEnvFile(
  manifest: Pick<Manifest, 'name' | 'port' | 'appPort' | 'cutover'>,
  environment: EnvironmentInput,
): string {
  const path = hostLayout(manifest.name).envFile;
  const text = [
    `# ${path}: the environment of ${manifest.name}, written by svc.`,
    "# Mode 0600, owned by root: it holds secrets. Edit svc.yaml env:, the group's env: or the",
    "# secrets' sources instead; the next deploy rewrites this file.",
  ];
  let secret: boolean | undefined;
  for (const line of envFileLines(manifest, environment)) {
    if (line.secret !== secret) text.push(line.secret ? ENV_SECRET_MARK : ENV_PLAIN_MARK);
    secret = line.secret;
    text.push(line.line);
  }
  return `${text.join('\n')}\n`;
}
