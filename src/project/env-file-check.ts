// A project from before `secrets:` ships its env file in config/ (config/etc/default/NAME). It
// keeps working; but when git tracks that file and it holds values, every plan says so, since the
// repository is where credentials leak most. And a config/ env file cannot carry what svc resolves
// per environment: with secrets: or a group's env:, it is refused before any host is contacted.
import { checkOwnEnvFile } from '../core/expand.js';
import { hostLayout } from '../core/layout.js';
import type { Manifest } from '../core/manifest.js';
import type { LocalFile } from '../core/release.js';
import { readGitCheckout } from './git-checkout.js';

/** KEY=... lines other than those every env file has (PORT, NODE_ENV, HOST). */
const VALUE_LINE = /^(?!(?:PORT|NODE_ENV|HOST)=)[A-Za-z_][A-Za-z0-9_]*=/m;

export function ownEnvFileWarnings(
  dir: string,
  manifest: Manifest,
  config: readonly LocalFile[],
  environments: readonly string[],
): string[] {
  if (manifest.init === undefined) return [];
  const path = hostLayout(manifest.name).envFile.slice(1);
  const own = config.find((file) => file.path === path || file.path === `${path}.ejs`);
  if (own === undefined) return [];
  const source = `config/${own.path}`;
  for (const environment of environments) checkOwnEnvFile(manifest, source, environment);
  if (!VALUE_LINE.test(new TextDecoder().decode(own.content))) return [];
  if (readGitCheckout(dir)?.tracked.has(source) !== true) return [];
  return [
    `${source} holds values and git tracks it: list secret keys in svc.yaml secrets: (values in .svc/secrets/ENV), the others in env:, and delete the file`,
  ];
}
