// The apply script's part in recording a release's file list (release-files.ts): shipped in the
// tar stream beside the release, written into svc's root-only state when the release is made
// (a temporary name, then a rename), removed when the release is pruned.
import { copy, move, privateDir } from './apply-files.js';
import { hostLayout } from './layout.js';
import type { ReleaseOperation } from './operations.js';
import type { HostPlan } from './plan.js';
import { shellCommand, shellQuote as q } from './quote.js';
import { releaseFilesOf, releaseFilesText } from './release-files.js';
import type { TarEntry } from './tar.js';

/** The list's name in the tar stream (beside release/... and overlay/N). */
export const RELEASE_FILES_ENTRY = 'release-files';

/** /var/lib/svc/NAME/releases: one list per release, named by its ID. */
export const releaseListsDir = (service: string) => `${hostLayout(service).records}/releases`;

/** The tar entry of a new release's list; none for a release without its files (a rollback). */
export function releaseFilesEntry(op: ReleaseOperation | undefined): TarEntry[] {
  if (op?.local === undefined) return [];
  const text = releaseFilesText(releaseFilesOf(op.local));
  return [{ path: RELEASE_FILES_ENTRY, mode: 0o600, content: new TextEncoder().encode(text) }];
}

/** After the release directory got its name: its list into place. */
export function recordReleaseFiles(service: string, id: string): string[] {
  const dir = releaseListsDir(service);
  const temporary = `${dir}/.${id}.svc-new`;
  return [
    // Only in the apply script's body: /var/lib/svc/NAME was checked at hist_begin, or made by
    // this run's plan (a mkdir that fails on anything there) inside the checked /var/lib/svc, and
    // is root's alone since; a link there still makes mkdir fail. releases/ is checked if there.
    privateDir(hostLayout(service).records, false),
    privateDir(dir),
    // No rm first: cp --remove-destination removes what is at the temporary name itself.
    copy(`"$stage/${RELEASE_FILES_ENTRY}"`, q(temporary)),
    move(temporary, `${dir}/${id}`),
  ];
}

/** A pruned release's list goes with it. */
export const forgetReleaseFiles = (service: string, id: string) =>
  shellCommand(['rm', '-f', '--', `${releaseListsDir(service)}/${id}`]);

/** The IDs of the releases a plan prunes (its release deletions). */
export function prunedReleases(plan: Pick<HostPlan, 'changes'>): string[] {
  return plan.changes
    .filter((change) => change.kind === 'release' && change.action === 'delete')
    .map((change) => change.target.slice(change.target.lastIndexOf('/') + 1));
}

/**
 * Deleting a release the plan prunes (after the deploy is healthy), with its list. The plan never
 * names what `current` points at (release-retention.ts), but a plan is only as right as the
 * records it read: the host checks again, by where `current` resolves now, in whatever form the
 * link is written (relative, absolute, through other links), and keeps the release it leads into.
 */
export function pruneRelease(service: string, path: string): string {
  const id = path.slice(path.lastIndexOf('/') + 1);
  const current = hostLayout(service).current;
  return [
    `live=$(readlink -f -- ${q(current)} 2>/dev/null) || live=`,
    `gone=$(readlink -f -- ${q(path)} 2>/dev/null) || gone=`,
    `if [ -n "$gone" ] && case "$live/" in "$gone"/*) true ;; *) false ;; esac; then`,
    `  say ${q(`WARNING\tkept release ${id}: current points into it, whatever the records say`)}`,
    `else ${shellCommand(['rm', '-rf', '--', path])}; ${forgetReleaseFiles(service, id)}; fi`,
  ].join('\n');
}

/**
 * A release already on the host whose list is missing (a deploy that died between renaming the
 * release and its list) gets it from this deploy, which ships the same files: else every later
 * plan would call it a release an older svc made.
 */
export function recordMissingReleaseFiles(service: string, id: string, release: string): string {
  const list = `${releaseListsDir(service)}/${id}`;
  return `if [ -d ${q(release)} ] && [ ! -L ${q(release)} ] && [ ! -e ${q(list)} ]; then\n${recordReleaseFiles(service, id).join('\n')}\nfi`;
}
