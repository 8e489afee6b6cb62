// Which releases a host keeps, and which one `svc rollback` goes back to. Pure: it decides from
// the facts of the one round trip (the release directories present, `current`, and the history
// svc records in root's /var/lib/svc/NAME/installed.json), never from a path the service owns.
//
// A release's status is its latest history entry: `good` (it went live and passed the health
// gate), `bad` (it failed the gate and was rolled back), or `unknown` (no entry: an older svc, a
// deploy that failed before its gate, or records that are missing).
import type { ReleaseRecord } from './facts.js';

export type ReleaseStatus = 'good' | 'bad' | 'unknown';

/** The latest entry svc recorded for a release, if any. */
export function lastEntry(
  history: readonly ReleaseRecord[],
  id: string,
): ReleaseRecord | undefined {
  for (let index = history.length - 1; index >= 0; index--)
    if (history[index]!.id === id) return history[index];
  return undefined;
}

export function releaseStatus(history: readonly ReleaseRecord[], id: string): ReleaseStatus {
  return lastEntry(history, id)?.status ?? 'unknown';
}

/**
 * The newest release that was live and healthy other than `live`: what a rollback from `live`
 * goes back to on one host, and what pruning must keep.
 */
export function lastHealthyBefore(
  history: readonly ReleaseRecord[],
  live: string | undefined,
): string | undefined {
  for (let index = history.length - 1; index >= 0; index--) {
    const entry = history[index]!;
    if (entry.id !== live && entry.status === 'good' && releaseStatus(history, entry.id) === 'good')
      return entry.id;
  }
  return undefined;
}

export interface RetentionInput {
  /** Release directories on the host now. */
  present: readonly string[];
  history: readonly ReleaseRecord[];
  /** What `current` points at before this deploy (read from the link itself, not the records). */
  live: string | undefined;
  /** The release this deploy makes live (the same as `live` when it does not move). */
  deploying: string;
  keep: number;
}

export interface PrunedRelease {
  id: string;
  reason: string;
}

/**
 * The releases to delete after a successful deploy, oldest first. A release marked bad never
 * counts toward `keep` and goes; of the rest (good or unknown) the newest `keep` stay. Never
 * deleted, whatever `keep` and the history say: the release going live, the one live before
 * (from the link), and the last one that was live and healthy before the one going live.
 * Age is the position of a release's latest history entry; releases svc has no history of are
 * older than any it has, and among themselves ordered by name.
 */
export function releasesToPrune(input: RetentionInput): PrunedRelease[] {
  const { history, keep } = input;
  const order = history.map((entry) => entry.id);
  const rank = (id: string) => order.lastIndexOf(id);
  const present = [...new Set([...input.present, input.deploying])].sort(
    (a, b) => rank(a) - rank(b) || (a < b ? -1 : 1),
  );
  const kept = new Set(
    [input.deploying, input.live, lastHealthyBefore(history, input.deploying)].filter(
      (id): id is string => id !== undefined,
    ),
  );
  const counted = present.filter((id) => releaseStatus(history, id) !== 'bad');
  let excess = counted.length - keep;
  const pruned: PrunedRelease[] = [];
  for (const id of present) {
    if (kept.has(id)) continue;
    if (releaseStatus(history, id) === 'bad') {
      pruned.push({
        id,
        reason: 'it failed its health check (a bad release does not count toward keep)',
      });
    } else if (excess > 0) {
      pruned.push({ id, reason: `keeping the last ${keep} releases` });
      excess--;
    }
  }
  return pruned;
}

/**
 * The history written back after a deploy: the last `limit` entries, and also the latest entry
 * of every release still on the host, so a kept release never loses its mark (good or bad)
 * however many deploys came since. Entries stay in their order.
 */
export function retainedHistory(
  history: readonly ReleaseRecord[],
  present: readonly string[],
  limit = 20,
): ReleaseRecord[] {
  const onHost = new Set(present);
  return history.filter(
    (entry, index) =>
      index >= history.length - limit ||
      (onHost.has(entry.id) && lastEntry(history, entry.id) === entry),
  );
}
