// `svc rollback`'s planning: every host's facts first (one round trip each), then one release
// chosen over all of them (core/rollback-choice.ts), then each host's plan from the facts read,
// its env file rendered from the chosen release's own svc.yaml (core/rollback-environment.ts).
import { SvcError } from '../core/errors.js';
import { buildFactRequest } from '../core/fact-request.js';
import { hostLayout, liveReleaseOf } from '../core/layout.js';
import { pinnedReleaseMissing } from '../core/plan.js';
import {
  chooseRollback,
  type RollbackChoice,
  type RollbackRequest,
} from '../core/rollback-choice.js';
import {
  parseReleaseManifests,
  releaseManifestsScript,
  rollbackEnvironment,
} from '../core/rollback-environment.js';
import {
  failedHost,
  gather,
  hostEnvironment,
  hostOperations,
  mapLimit,
  newSalt,
  planGathered,
  type Gathered,
  type PlanInput,
  type PlannableHost,
  type PlannedHost,
} from './plan-hosts.js';
import type { ConnectionPool } from './ssh.js';

/** The release a rollback's facts are asked with before one is chosen (see planRollback). */
const UNCHOSEN = '000000000000';

/**
 * A rollback: every host's facts first (one round trip each), then one release chosen over all
 * of them, then each host's plan from the facts already read. The fact request does not depend on
 * the release (a pinned release is found in the release list), unless config/ templates name the
 * release (`it.release`), or the chosen release's own svc.yaml changes which env keys the env
 * file has: then a host whose request changed is asked again with it. Each release's svc.yaml is
 * read in the same first round trip (Y records after the facts).
 */
export async function planRollback(
  input: PlanInput,
  rollback: RollbackRequest,
  hosts: readonly PlannableHost[],
  pool: ConnectionPool,
  parallel: number,
  then?: (planned: PlannedHost) => Promise<void>,
): Promise<PlannedHost[]> {
  const guess = rollback.to ?? UNCHOSEN;
  const gathered = await mapLimit(hosts, parallel, async (host) => {
    try {
      const operations = hostOperations(input, host, guess);
      const request = buildFactRequest(input.manifest, operations, host.user, false, newSalt());
      return await gather(host, pool, request, releaseManifestsScript(input.manifest));
    } catch (error) {
      return failedHost(host, error);
    }
  });
  const layout = hostLayout(input.manifest.name);
  const read = hosts.flatMap((host, index) => {
    const got = gathered[index]!;
    return 'facts' in got
      ? [
          {
            host: host.name,
            live: liveReleaseOf(got.facts.paths.get(layout.current), layout),
            present: got.facts.releases,
            history: got.facts.history,
          },
        ]
      : [];
  });
  const choice = chooseRollback(read, rollback);
  return mapLimit(
    hosts.map((host, index) => ({ host, got: gathered[index]! })),
    parallel,
    async ({ host, got }) => {
      const planned = await rollbackPlan(input, host, got, choice, pool);
      if (then) await then(planned);
      return planned;
    },
  );
}

/** One host's rollback plan, from its facts (read again only when the request changed). */
async function rollbackPlan(
  input: PlanInput,
  host: PlannableHost,
  got: Gathered | PlannedHost,
  choice: RollbackChoice,
  pool: ConnectionPool,
): Promise<PlannedHost> {
  if (!('facts' in got)) return got;
  const release = choice.release;
  const problem = choice.problems.get(host.name);
  if (release === undefined) return failedHost(host, new SvcError(problem ?? 'no release'));
  try {
    // The environment the release ran with (its own svc.yaml), secrets' values of this run.
    const manifestYaml = parseReleaseManifests(got.extraOutput).get(release);
    const rendered = rollbackEnvironment(release, manifestYaml, hostEnvironment(input, host));
    // A secret the release needs that did not resolve in this run: this host is not rolled back
    // (the others are, as for any host that fails to plan).
    if (rendered.unresolved !== undefined)
      return failedHost(host, new SvcError(rendered.unresolved.join('\n')));
    const operations = hostOperations(input, host, release, rendered.environment);
    // The same salt: a request that asks the same is answered by the facts already read.
    const request = buildFactRequest(
      input.manifest,
      operations,
      host.user,
      false,
      got.request.salt,
    );
    const same = JSON.stringify(request) === JSON.stringify(got.request);
    const planned = planGathered(
      input,
      host,
      operations,
      same ? got : await gather(host, pool, request),
      release,
      rendered,
    );
    if (problem !== undefined && planned.outcome.status === 'planned') {
      // The choice's line says it better than the planner's own.
      const { plan } = planned.outcome;
      const missing = pinnedReleaseMissing(release, host.name);
      plan.problems = [...plan.problems.filter((line) => line !== missing), problem];
    }
    return planned;
  } catch (error) {
    return failedHost(host, error);
  }
}
