// `svc rollback TARGET [--to ID]`: deploy a release that is already on the host, by default the
// previous good one. The same plan, confirmation, health gate and automatic undo as deploy: only
// the release is pinned instead of built from the project.
import { Command } from 'commander';
import { SvcError } from '../core/errors.js';
import { parseReleases, releasesScript, type ReleaseRow } from '../core/lifecycle.js';
import type { Manifest } from '../core/manifest.js';
import { parseReleaseManifests, releaseManifestsScript } from '../core/rollback-environment.js';
import { runChecked } from '../remote/each-host.js';
import type { PlanInput } from '../remote/plan-hosts.js';
import { readManifestFile } from '../project/read.js';
import { resolve } from 'node:path';
import { runDeploy, type DeployFlags } from './deploy.js';
import { addPlanOptions } from './plan.js';

/** The release to go back to: --to ID if the host has it, else the newest good one before current. */
export function rollbackTarget(
  releases: readonly ReleaseRow[],
  host: string,
  to: string | undefined,
): string {
  if (to !== undefined) {
    if (!releases.some((release) => release.id === to)) {
      throw new SvcError(
        `${host}: no release ${to} (it has ${releases.map((release) => release.id).join(', ') || 'none'})`,
      );
    }
    return to;
  }
  const current = releases.findIndex((release) => release.current);
  const earlier = releases.slice(0, current === -1 ? releases.length : current).reverse();
  const previous = earlier.find((release) => release.status === 'good');
  if (previous === undefined)
    throw new SvcError(`${host}: no previous good release to roll back to`);
  return previous.id;
}

/**
 * The release each host goes back to, with its own svc.yaml (its env: and secrets: list), read in
 * the same round trip as the release list.
 */
function pinTo(manifest: Manifest, to: string | undefined): PlanInput['pinRelease'] {
  return async (host, connection) => {
    const script = releasesScript(manifest) + releaseManifestsScript(manifest);
    const output = await runChecked(connection, script, 'listing releases');
    const id = rollbackTarget(parseReleases(output), host.name, to);
    const manifestYaml = parseReleaseManifests(output).get(id);
    return { id, ...(manifestYaml !== undefined && { manifestYaml }) };
  };
}

export function rollbackCommand(): Command {
  return addPlanOptions(new Command('rollback'))
    .description('go back to the previous good release (or --to ID), health-gated like deploy')
    .option('--to <id>', 'the release to go back to (svc releases lists them)')
    .option('-y, --yes', 'apply without asking')
    .option('--dry-run', 'show the plan and change nothing')
    .option(
      '--health-timeout <seconds>',
      'how long the service has to answer its health check (default 30)',
    )
    .option(
      '--lock-wait <seconds>',
      "wait this long for another deploy's lock (default: fail at once)",
    )
    .action(async (target: string, flags: DeployFlags & { to?: string }) => {
      if (flags.to !== undefined && !/^[0-9a-f]{12}$/.test(flags.to)) {
        throw new SvcError(`--to: a release ID is 12 hex digits (got ${JSON.stringify(flags.to)})`);
      }
      const manifest = readManifestFile(resolve(flags.dir ?? '.'));
      process.exitCode = await runDeploy(target, flags, pinTo(manifest, flags.to));
    });
}
