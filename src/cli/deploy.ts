// `svc deploy TARGET`. For now only --dry-run, which is `svc plan`: applying the plan is the next
// piece of work, and until it lands deploy says so rather than pretend.
import { Command } from 'commander';
import { SvcError } from '../core/errors.js';
import { addPlanOptions, runPlan, type PlanFlags } from './plan.js';

export function deployCommand(): Command {
  return addPlanOptions(new Command('deploy'))
    .description('deploy the project to TARGET (for now: --dry-run, the same as svc plan)')
    .option('--dry-run', 'show the plan and change nothing (svc plan)')
    .action(async (target: string, flags: PlanFlags & { dryRun?: boolean }) => {
      if (!flags.dryRun) {
        throw new SvcError(
          'svc deploy cannot apply plans yet; run svc deploy --dry-run (or svc plan) to see what it would do',
        );
      }
      process.exitCode = await runPlan(target, flags);
    });
}
