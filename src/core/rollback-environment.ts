// Which environment a rollback's env file gets: the one the release ran with. Each release ships
// its own svc.yaml, so going back to a release also goes back to its env:, its group's env: and
// its list of secrets, whose values are resolved now, on this machine, as for a deploy. What
// comes from the host is trusted no further than the host itself: its svc.yaml chooses values
// for its own env file, but never which of the deployer's secrets are sent (only keys this
// checkout's svc.yaml lists) nor any command run here (secretsCommand is never read from it).
import type { EnvironmentInput } from './env-file.js';
import { environmentValues } from './environments.js';
import { hostLayout } from './layout.js';
import { MANIFEST_FILE, MAX_MANIFEST_BYTES, parseManifest } from './manifest-file.js';
import type { Manifest } from './manifest.js';
import { shellQuote as q } from './quote.js';
import { SvcError } from './errors.js';

/**
 * sh that prints each release's own svc.yaml (a regular file, never through a link), base64, at
 * most one byte over what parseManifest accepts: `Y <id> <base64>`. Appended to the release
 * listing, it adds no round trip.
 */
export function releaseManifestsScript(manifest: Pick<Manifest, 'name'>): string {
  const releases = hostLayout(manifest.name).releases;
  return [
    `for d in ${q(releases)}/*; do`,
    `  f="$d"/${MANIFEST_FILE}`,
    `  if [ -d "$d" ] && [ ! -L "$d" ] && [ -f "$f" ] && [ ! -L "$f" ]; then`,
    `    printf 'Y\\t%s\\t%s\\n' "$(basename -- "$d")" "$(head -c ${MAX_MANIFEST_BYTES + 1} -- "$f" | base64 | tr -d '\\n')"`,
    '  fi',
    'done',
    '',
  ].join('\n');
}

/** The Y records: release ID -> its svc.yaml bytes. Anything else in the output is not ours. */
export function parseReleaseManifests(output: string): Map<string, Uint8Array> {
  const manifests = new Map<string, Uint8Array>();
  for (const line of output.split('\n')) {
    const [tag, id = '', data] = line.split('\t');
    if (tag !== 'Y' || !/^[0-9a-f]{12}$/.test(id) || data === undefined) continue;
    if (!/^[A-Za-z0-9+/]*={0,2}$/.test(data)) continue;
    manifests.set(
      id,
      Uint8Array.from(atob(data), (char) => char.charCodeAt(0)),
    );
  }
  return manifests;
}

export interface RollbackEnvironment {
  environment: EnvironmentInput;
  /** What the plan says about it: where the values came from when not from the release. */
  warnings: string[];
  /**
   * The problem lines of secrets this environment needs that did not resolve in this run
   * (`current.unresolved`): the host is not rolled back. Absent when there is none.
   */
  unresolved?: string[];
}

/**
 * The environment for a host rolled back to release `id`: its svc.yaml's env: and group env:
 * (the host is deployed as `current.name`), and of its secrets those this checkout resolved
 * (`current.secrets`; the same sources, the same run). Without a readable svc.yaml in the
 * release (an older release, a broken file), this checkout's environment, and the plan says so.
 */
export function rollbackEnvironment(
  id: string,
  releaseYaml: Uint8Array | undefined,
  current: EnvironmentInput,
): RollbackEnvironment {
  const unresolved = new Map((current.unresolved ?? []).map(({ key, line }) => [key, line]));
  const missing = (keys: readonly string[]) => {
    const lines = keys.flatMap((key) => unresolved.get(key) ?? []);
    return lines.length > 0 ? { unresolved: lines } : {};
  };
  const fallback = (why: string): RollbackEnvironment => ({
    environment: current,
    warnings: [
      `release ${id} ${why}: its env file is rendered from this checkout's svc.yaml (${current.name})`,
    ],
    // This checkout's environment needs every key it names.
    ...missing([...unresolved.keys()]),
  });
  if (releaseYaml === undefined) return fallback(`has no ${MANIFEST_FILE}`);
  let release: Manifest;
  try {
    release = parseManifest(releaseYaml, `${MANIFEST_FILE} of release ${id}`);
  } catch (error) {
    if (!(error instanceof SvcError)) throw error;
    return fallback(`has a ${MANIFEST_FILE} svc cannot read (${error.message.split('\n')[0]})`);
  }
  const resolved = new Map(current.secrets.map((secret) => [secret.key, secret.value]));
  const wanted = release.secrets ?? [];
  // Named by the release but not by this checkout: left out, said. Named by both but not
  // resolved in this run: this host is not rolled back (missing()).
  const left = wanted.filter((key) => !resolved.has(key) && !unresolved.has(key));
  return {
    environment: {
      name: current.name,
      env: environmentValues(release, current.name),
      secrets: wanted.flatMap((key) => {
        const value = resolved.get(key);
        return value === undefined ? [] : [{ key, value }];
      }),
      ...(current.sources && {
        sources: current.sources.filter((origin) => wanted.includes(origin.key)),
      }),
    },
    warnings: left.map(
      (key) =>
        `release ${id} names secret ${key}, which this checkout's svc.yaml secrets: does not: it is left out of the env file (svc sends a host only the secrets svc.yaml names)`,
    ),
    ...missing(wanted),
  };
}
