// Which facts a host's operations need: one request, answered by one script in one round trip.
import type { EnvLine } from './env-file.js';
import type { FactRequest, PathRequest } from './facts.js';
import { hostLayout } from './layout.js';
import type { Manifest } from './manifest.js';
import type { Operation } from './operations.js';
import { liveReleaseRequest } from './release-facts.js';
import { NGINX_BINARY, slotUnit, upstreamFile } from './cutover.js';
import { slotRecord } from './cutover-warm.js';
import { slotProcessPidfile } from './cutover-slots.js';

export const RECORDS_FILE = 'installed.json';
export const RECORDS_ROOT = '/var/lib/svc';

/** The keys whose lines the host may send as they are: svc.yaml's values, never a secret's. */
function plainEnvKeys(lines: readonly EnvLine[]): string[] {
  const secret = new Set(lines.filter((line) => line.secret).map((line) => line.key));
  return [...new Set(lines.map((line) => line.key))].filter((key) => !secret.has(key));
}

/**
 * The salt is required, and never empty: without one the env file's per-line hashes and the
 * plan's factsDigest are plain sha256 of `KEY=value` lines, an offline oracle for a short secret.
 * A bug in svc, not the user's input, so a plain Error.
 */
export const MIN_SALT_LENGTH = 16;

export function buildFactRequest(
  manifest: Manifest,
  operations: readonly Operation[],
  loginUser: string,
  /** --diff: ask for the live content of the new release's changed text files too. */
  diff: boolean,
  /** The run's random salt (facts.ts FactRequest.salt); the edge makes it (plan-hosts.ts newSalt). */
  salt: string,
): FactRequest {
  if (salt.length < MIN_SALT_LENGTH)
    throw new Error(
      `buildFactRequest: a salt of at least ${MIN_SALT_LENGTH} characters is required`,
    );
  const layout = hostLayout(manifest.name);
  const paths: PathRequest[] = [];
  const seen = new Set<string>();
  for (const op of operations) {
    if (op.kind !== 'dir' && op.kind !== 'link' && op.kind !== 'file' && op.kind !== 'release')
      continue;
    // A rollback's release is found in the release list: the request must not depend on which
    // release the rollback picks, since it is picked from these very facts (rollback-choice.ts).
    if (op.kind === 'release' && op.pinned === true) continue;
    if (seen.has(op.path)) continue;
    seen.add(op.path);
    // A secret file's content never leaves the host: it is compared by sha256 alone, or for the
    // env file svc renders line by line, svc.yaml's own lines as they are, the others hashed.
    paths.push(
      op.kind === 'file' && !op.secret
        ? { path: op.path, compareWith: op.sha256 }
        : op.kind === 'file' && op.envLines !== undefined
          ? { path: op.path, envKeys: plainEnvKeys(op.envLines) }
          : { path: op.path },
    );
  }
  // cutover: switch: which slot nginx serves (the upstream file's sha256), and whether nginx is
  // there at all: plain path facts, in the stale-plan digest like the rest. Asked of a restart
  // service too: a switch still live there is a plan problem (cutover-plan.ts switchLeftBehind).
  const serviceOp = operations.find((op) => op.kind === 'service');
  if (serviceOp !== undefined) {
    const asked = [
      upstreamFile(manifest.name),
      ...(serviceOp.kind === 'service' && serviceOp.cutover !== undefined ? [NGINX_BINARY] : []),
    ];
    for (const path of asked)
      if (!seen.has(path)) {
        seen.add(path);
        paths.push({ path });
      }
  }
  const release = operations.find((op) => op.kind === 'release');
  // Each slot as it runs (T records: running state, out of the digest), for a warm switch back:
  // systemd's unit state, else the pidfile that names the slot's own process (cutover-slots.ts).
  const switching = operations.find((op) => op.kind === 'service' && op.cutover !== undefined);
  const slots =
    switching?.kind === 'service' && switching.cutover !== undefined
      ? switching.cutover.slots.map((slot) => ({
          unit: switching.init === 'systemd' ? slotUnit(manifest.name, slot) : '',
          port: slot.port,
          record: slotRecord(manifest.name, slot),
          pidfile: slotProcessPidfile(manifest, slot),
        }))
      : undefined;
  const users = [...new Set(operations.flatMap((op) => (op.kind === 'user' ? [op.name] : [])))];
  return {
    service: manifest.name,
    loginUser,
    paths,
    users,
    groups: [],
    recordsFile: `${layout.records}/${RECORDS_FILE}`,
    recordsRoot: RECORDS_ROOT,
    releasesDir: layout.releases,
    pidfile: layout.pidfile,
    salt,
    ...(slots && { slots }),
    // What the live release holds, to say what the new one changes (a rollback ships no files).
    ...(release?.kind === 'release' &&
      release.local !== undefined && {
        liveRelease: liveReleaseRequest(
          {
            currentLink: layout.current,
            releasesDir: layout.releases,
            listsDir: `${layout.records}/releases`,
          },
          release.local,
          diff,
        ),
      }),
  };
}
