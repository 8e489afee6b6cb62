// The service's environment file (/etc/default/NAME), rendered by svc for one environment: svc.yaml
// env:, the group's env: over it, then the resolved secrets. It is the only place a secret value
// is written on a host (root's, 0600), so this text is never shown: the plan says
// "(sensitive value changed)" and compares sha256s.
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
}

export interface SecretOrigin {
  key: string;
  source: SecretSource;
  /** The variable (`$NAME`), the file, or `secretsCommand`. */
  from: string;
}

export function renderEnvFile(
  manifest: Pick<Manifest, 'name' | 'port' | 'appPort' | 'cutover'>,
  environment: EnvironmentInput,
): string {
  const path = hostLayout(manifest.name).envFile;
  const lines = [
    `# ${path}: the environment of ${manifest.name} (${environment.name}), written by svc.`,
    "# Mode 0600, owned by root: it holds secrets. Edit svc.yaml env:, the group's env: or the",
    "# secrets' sources instead; the next deploy rewrites this file.",
  ];
  // Behind nginx, HOST and PORT come last so that no entry can expose the process directly.
  // Under cutover: switch each slot's unit sets them (Environment=): none here, which would win.
  const slots = manifest.cutover === 'switch';
  if (!slots && manifest.appPort === undefined && manifest.port !== undefined)
    lines.push(envFileLine('PORT', String(manifest.port)));
  if (!Object.hasOwn(environment.env, 'NODE_ENV')) lines.push('NODE_ENV=production');
  for (const [key, value] of Object.entries(environment.env)) lines.push(envFileLine(key, value));
  for (const { key, value } of environment.secrets) lines.push(envFileLine(key, value));
  if (!slots && manifest.appPort !== undefined) {
    lines.push(envFileLine('HOST', '127.0.0.1'));
    lines.push(envFileLine('PORT', String(manifest.appPort)));
  }
  return `${lines.join('\n')}\n`;
}
