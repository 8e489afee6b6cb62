// What a release change changes: the new release's files against the live release's recorded
// list (added, changed, removed, with sizes), and with --diff a unified diff of each changed text
// file whose live content the host sent and whose hash is the one svc recorded. Pure; shown by
// plan-format.ts, carried as is in the JSON plan, and part of what groups identical plans.
import { createTwoFilesPatch } from 'diff';
import type { Operation, ReleaseOperation } from './operations.js';
import type { Change } from './plan.js';
import { sha256Hex, type LocalFile } from './release.js';
import {
  diffReleaseFiles,
  isSecretReleasePath,
  octal,
  releaseFilesOf,
  type ReleaseFile,
} from './release-files.js';
import {
  isDiffCandidate,
  isTextContent,
  MAX_DIFF_BYTES,
  RELEASE_DIFF_BUDGET,
  type LiveRelease,
} from './release-facts.js';

export interface ReleaseFileSize {
  path: string;
  size: number;
}

export interface ChangedReleaseFile extends ReleaseFileSize {
  sizeBefore: number;
  /** Both absent for a secret name: a hash of a short secret can be guessed back. */
  sha256?: string;
  sha256Before?: string;
  /** Both set only when the mode changed. */
  mode?: string;
  modeBefore?: string;
  /** A name that holds credentials (release-files.ts): its content is never shown. */
  sensitive?: boolean;
  /** --diff: the unified diff, or one line saying why there is none. */
  diff?: string;
}

export interface ReleaseContents {
  /** The live release the new one is compared with. */
  live: string;
  /** Why the live release's files are unknown; the lists are then empty. */
  unknown?: string;
  added: ReleaseFileSize[];
  changed: ChangedReleaseFile[];
  removed: ReleaseFileSize[];
}

const KIB = MAX_DIFF_BYTES / 1024;

/**
 * The paths whose live content the host may have sent: as its awk picks them among the
 * candidates (the recorded list's order, differing hash, recorded size within the cap) until the
 * budget is spent.
 */
function withinBudget(
  live: readonly ReleaseFile[],
  next: ReadonlyMap<string, string>,
): Set<string> {
  const paths = new Set<string>();
  let total = 0;
  for (const file of live) {
    const sum = next.get(file.path);
    if (sum === undefined || sum === file.sha256 || file.size > MAX_DIFF_BYTES) continue;
    total += file.size;
    if (total > RELEASE_DIFF_BUDGET) break;
    paths.add(file.path);
  }
  return paths;
}

/** The diff of one changed file, or why there is none. */
function fileDiff(
  before: ReleaseFile,
  after: LocalFile,
  sent: Uint8Array | undefined,
  budgeted: boolean,
): string {
  if (!isTextContent(after.content)) return '(binary content differs)';
  if (after.content.length > MAX_DIFF_BYTES || before.size > MAX_DIFF_BYTES)
    return `(larger than ${KIB} KiB: compared by sha256 only)`;
  if (sent === undefined)
    return budgeted
      ? '(the live copy is missing or not a regular file: compared by sha256 only)'
      : `(over the ${RELEASE_DIFF_BUDGET / 1024 / 1024} MiB a plan reads per host: compared by sha256 only)`;
  // Only what svc itself shipped is shown: a live copy changed since (or a read led elsewhere)
  // is not.
  if (sha256Hex(sent) !== before.sha256)
    return '(the live copy is not what svc recorded: not shown)';
  if (!isTextContent(sent)) return '(binary content differs)';
  const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
  const patch = createTwoFilesPatch(
    after.path,
    after.path,
    decode(sent),
    decode(after.content),
    '',
    '',
    { context: 3 },
  );
  // From the --- line on: the Index and ==== lines above it say nothing a reader needs here.
  return patch.slice(patch.indexOf('\n---') + 1).trimEnd();
}

/** The new release (its project files) against the live one, as the host reported it. */
export function releaseContents(
  live: LiveRelease,
  liveId: string,
  next: readonly LocalFile[],
): ReleaseContents {
  if (live.files === undefined)
    return {
      live: liveId,
      unknown: live.unknown ?? 'unknown',
      added: [],
      changed: [],
      removed: [],
    };
  const files = releaseFilesOf(next);
  const local = new Map(next.map((file) => [file.path, file]));
  const diff = diffReleaseFiles(live.files, files);
  // Only the files the host was asked about (release-facts.ts isDiffCandidate) count.
  const asked = next.filter(isDiffCandidate);
  const budgeted = withinBudget(live.files, new Map(asked.map((file) => [file.path, file.sha256])));
  const size = (file: ReleaseFile) => ({ path: file.path, size: file.size });
  return {
    live: liveId,
    added: diff.added.map(size),
    removed: diff.removed.map(size),
    changed: diff.changed.map(({ before, after }) => {
      const secret = isSecretReleasePath(after.path);
      const changed: ChangedReleaseFile = {
        path: after.path,
        size: after.size,
        sizeBefore: before.size,
        ...(!secret && { sha256: after.sha256, sha256Before: before.sha256 }),
      };
      if (before.mode !== after.mode)
        Object.assign(changed, { mode: octal(after.mode), modeBefore: octal(before.mode) });
      if (secret) changed.sensitive = true;
      else if (live.diff && before.sha256 !== after.sha256)
        changed.diff = fileDiff(
          before,
          local.get(after.path)!,
          live.content.get(after.path),
          budgeted.has(after.path),
        );
      return changed;
    }),
  };
}

/**
 * Puts the contents on the release change: the new release directory, or, when that is on the
 * host already, `current` moving to it. Nothing when no release goes live or none is live now.
 */
export function attachReleaseContents(
  changes: Change[],
  operations: readonly Operation[],
  live: LiveRelease | undefined,
): void {
  const op = operations.find(
    (candidate): candidate is ReleaseOperation => candidate.kind === 'release',
  );
  if (op?.local === undefined || live?.id === undefined || live.id === op.id) return;
  const root = op.path.slice(0, op.path.lastIndexOf('/releases/'));
  const change =
    changes.find((candidate) => candidate.kind === 'release' && candidate.action === 'create') ??
    changes.find(
      (candidate) =>
        candidate.kind === 'link' &&
        candidate.action === 'update' &&
        candidate.target === `${root}/current`,
    );
  if (change !== undefined) change.contents = releaseContents(live, live.id, op.local);
}
