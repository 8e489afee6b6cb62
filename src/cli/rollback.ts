// `svc rollback TARGET [--to ID] [--force]`: deploy a release that is already on the hosts, by
// default the newest one that was live and healthy on every selected host. The same plan,
// confirmation, health gate and automatic undo as deploy: only the release is pinned instead of
// built from the project, and chosen from the facts of the plan's own round trip
// (core/rollback-choice.ts).
import { Command } from 'commander';
import { SvcError } from '../core/errors.js';
import { runDeploy, type DeployFlags } from './deploy.js';
import { addPlanOptions } from './plan.js';

export function rollbackCommand(): Command {
  return addPlanOptions(new Command('rollback'))
    .description(
      'go back to the newest release that was live and healthy on every host (or --to ID), health-gated like deploy',
    )
    .option('--to <id>', 'the release to go back to (svc releases lists them)')
    .option('--force', 'with --to: go back to a release even if it failed its health check')
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
    .action(async (target: string, flags: DeployFlags & { to?: string; force?: boolean }) => {
      if (flags.to !== undefined && !/^[0-9a-f]{12}$/.test(flags.to)) {
        throw new SvcError(`--to: a release ID is 12 hex digits (got ${JSON.stringify(flags.to)})`);
      }
      if (flags.force === true && flags.to === undefined) {
        throw new SvcError(
          '--force: only with --to ID (svc rollback never picks a bad release itself)',
        );
      }
      process.exitCode = await runDeploy(target, flags, {
        ...(flags.to !== undefined && { to: flags.to }),
        ...(flags.force === true && { force: true }),
      });
    });
}
