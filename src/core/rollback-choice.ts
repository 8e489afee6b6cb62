// Which release `svc rollback` goes back to: one release for the whole selection, chosen from each
// host's facts (the one round trip). A rollback moves every selected host or none: a host that
// lacks the release, or a release marked bad, is a plan problem on that host, and the other hosts
// say why they are not rolled back either. Pure.
import type { ReleaseRecord } from './facts.js';
import { lastEntry, releaseStatus } from './release-retention.js';

export interface HostReleases {
  host: string;
  /** The release `current` points at (layout.ts liveReleaseOf), if any. */
  live: string | undefined;
  /** Release directories on the host. */
  present: readonly string[];
  history: readonly ReleaseRecord[];
}

export interface RollbackRequest {
  /** --to ID */
  to?: string;
  /** --force: --to may name a release marked bad. */
  force?: boolean;
}

export interface RollbackChoice {
  /**
   * The release the plans name: --to's, else the newest live and healthy on every host. Absent
   * when there is none (then every host has a problem).
   */
  release?: string;
  /** One line per host that must not be rolled back (every host, when any has one). */
  problems: Map<string, string>;
}

/** When the release was last live and healthy on a host (the `at` svc recorded), or undefined. */
function healthyAt(host: HostReleases, id: string): string | undefined {
  const last = lastEntry(host.history, id);
  return last?.status === 'good' ? last.at : undefined;
}

/**
 * Without --to: the newest release that was live and healthy on every host, other than one live
 * on all of them. Newest by when it was last recorded healthy on the host that saw it least
 * recently: a release one host went back to alone is not newer, for the others, than the one they
 * all served since.
 */
export function newestHealthyEverywhere(hosts: readonly HostReleases[]): string | undefined {
  const ids = new Set(hosts.flatMap((host) => host.history.map((entry) => entry.id)));
  let best: { id: string; at: string } | undefined;
  for (const id of ids) {
    if (hosts.every((host) => host.live === id)) continue;
    const times = hosts.map((host) => healthyAt(host, id));
    if (times.some((at) => at === undefined)) continue;
    const at = (times as string[]).reduce((a, b) => (a < b ? a : b));
    if (best === undefined || at > best.at || (at === best.at && id > best.id)) best = { id, at };
  }
  return best?.id;
}

/** Every host but those with their own problem says why it stays where it is. */
function noneMoves(hosts: readonly HostReleases[], own: Map<string, string>): Map<string, string> {
  const named = [...own.keys()].join(', ');
  const problems = new Map(own);
  for (const host of hosts)
    if (!problems.has(host.host))
      problems.set(
        host.host,
        `not rolled back: ${named} cannot be (a rollback moves every selected host or none)`,
      );
  return problems;
}

export function chooseRollback(
  hosts: readonly HostReleases[],
  request: RollbackRequest,
): RollbackChoice {
  if (hosts.length === 0) return { problems: new Map() };
  const own = new Map<string, string>();
  if (request.to !== undefined) {
    const to = request.to;
    for (const host of hosts) {
      if (!host.present.includes(to)) {
        own.set(
          host.host,
          `no release ${to} on ${host.host} (it has ${[...host.present].sort().join(', ') || 'none'})`,
        );
      } else if (releaseStatus(host.history, to) === 'bad' && request.force !== true) {
        own.set(
          host.host,
          `release ${to} failed its health check on ${host.host} at ${lastEntry(host.history, to)!.at}: pass --force to roll back to it anyway`,
        );
      }
    }
    return { release: to, problems: own.size === 0 ? own : noneMoves(hosts, own) };
  }
  const release = newestHealthyEverywhere(hosts);
  if (release === undefined) {
    const where = hosts.length > 1 ? ` on every selected host` : '';
    return {
      problems: new Map(
        hosts.map((host) => [host.host, `no previous good release to roll back to${where}`]),
      ),
    };
  }
  for (const host of hosts) {
    if (!host.present.includes(release))
      own.set(
        host.host,
        `release ${release} (the newest live and healthy on every selected host) is no longer on ${host.host}: roll back with --to ID to a release every host has`,
      );
  }
  return { release, problems: own.size === 0 ? own : noneMoves(hosts, own) };
}
