// `svc plan TARGET` (and `svc deploy TARGET --dry-run`): read each host's real state over SSH in
// one round trip, and show what a deploy would change. Never writes to a host.
import { localWho } from './history.js';
import { checkBareWords } from '../remote/target-words.js';
import { Command, Option } from 'commander';
import { resolve } from 'node:path';
import { EXIT } from '../core/errors.js';
import { formatFooter, formatPlans, planDocument, type HostOutcome } from '../core/plan-format.js';
import { readProject, type Project } from '../project/read.js';
import { planHosts, type PlanInput, type PlannedHost } from '../remote/plan-hosts.js';
import { planRollback } from '../remote/plan-rollback.js';
import {
  loadPlaybook,
  parallelism,
  sshOptions,
  targetContext,
  type ConnectFlags,
} from '../remote/run-context.js';
import { checkAllowPath } from '../core/sensitive-paths.js';
import { resolveTarget } from '../core/targets.js';
import { checkEnvironments, environmentOf } from '../core/environments.js';
import { resolveEnvironments } from '../project/secrets.js';
import { ownEnvFileWarnings } from '../project/env-file-check.js';
import { ConnectionPool } from '../remote/ssh.js';
import { refusal } from '../remote/apply-host.js';
import {
  makesReleaseLive,
  releaseCommandsOf,
  releasePlan,
  releasePlanLine,
  type ReleasePlan,
} from '../core/release-commands.js';
import { colorEnabled, palette } from '../ui/color.js';

export interface PlanFlags extends ConnectFlags {
  json?: boolean;
  diff?: boolean;
  detailedExitcode?: boolean;
  parallel?: string;
  dir?: string;
  allowPath?: string[];
}

async function askPassphrase(file: string): Promise<string> {
  const { password } = await import('@inquirer/prompts');
  return password({ message: `Passphrase for ${file}`, mask: true });
}

/** 1 when a host failed or has problems (deploy would refuse it), else 0, or 2 for changes. */
export function exitCodeFor(outcomes: readonly HostOutcome[], detailed: boolean): number {
  const refused = outcomes.some(
    (outcome) => outcome.status === 'failed' || outcome.plan.problems.length > 0,
  );
  if (refused) return EXIT.error;
  const changes = outcomes.some(
    (outcome) => outcome.status === 'planned' && outcome.plan.changes.length > 0,
  );
  return detailed && changes ? EXIT.changes : EXIT.ok;
}

export interface PlanRun {
  project: Project;
  input: PlanInput;
  planned: PlannedHost[];
  pool: ConnectionPool;
}

/** Reads the project, resolves TARGET and plans every host; the caller closes `pool`. */
export async function planTarget(
  target: string,
  flags: PlanFlags,
  rollback?: PlanInput['rollback'],
  then?: (planned: PlannedHost, run: Omit<PlanRun, 'planned'>) => Promise<void>,
): Promise<PlanRun> {
  const allowPaths = (flags.allowPath ?? []).map(checkAllowPath);
  const dir = resolve(flags.dir ?? '.');
  const project = readProject(dir);
  const playbook = loadPlaybook(dir, 'deploy');
  const parallel = parallelism(flags.parallel);
  const ctx = targetContext(project.manifest);
  const resolved = resolveTarget(target, ctx);
  // Environments and secrets are settled before anything is looked up or connected to: a missing
  // secret is one line and no host has been contacted.
  checkEnvironments(target, project.manifest, ctx, resolved);
  const hosts = resolved.map((spec) => ({ ...spec, environment: environmentOf(spec) }));
  // A rollback needs only what its release's own svc.yaml names (known once it is chosen): a key
  // that does not resolve fails only a host whose release needs it (plan-rollback.ts).
  const environments = await resolveEnvironments(
    dir,
    project.manifest,
    hosts.map((host) => host.environment),
    process.env,
    { unresolvedAllowed: rollback !== undefined },
  );
  const warnings = ownEnvFileWarnings(dir, project.manifest, project.config, [
    ...environments.keys(),
  ]);
  await checkBareWords(hosts, ctx);
  const interactive = process.stdin.isTTY === true && process.stderr.isTTY === true;
  const pool = new ConnectionPool(sshOptions(flags, ctx, interactive ? askPassphrase : undefined));
  const input: PlanInput = {
    manifest: project.manifest,
    steps: playbook.steps,
    playbookFile: playbook.file,
    projectPlaybook: playbook.own,
    config: project.config,
    release: project.release,
    allowPaths,
    ...(flags.diff === true && { diff: true }),
    environments,
    warnings,
    ...(rollback && { rollback }),
    // `then` is deploy applying each host as its plan is made (never `svc plan`, never a dry
    // run): a host with nothing to change is recorded by its held fact command.
    ...(then && { held: { who: localWho() } }),
  };
  try {
    const each = then && ((planned: PlannedHost) => then(planned, { project, input, pool }));
    const planned = input.rollback
      ? await planRollback(input, input.rollback, hosts, pool, parallel, each)
      : await planHosts(input, hosts, pool, parallel, each);
    return { project, input, planned, pool };
  } catch (error) {
    await pool.closeAll();
    throw error;
  }
}

export function printPlans(
  service: string,
  outcomes: readonly HostOutcome[],
  json: boolean,
  diff = false,
  release?: ReleasePlan,
): void {
  if (json) {
    const document = planDocument(service, outcomes);
    const withRelease = release === undefined ? document : { ...document, release };
    process.stdout.write(`${JSON.stringify(withRelease, null, 2)}\n`);
    return;
  }
  const paint = palette(colorEnabled(process.stdout));
  process.stdout.write(formatPlans(outcomes, paint, { diff }));
  process.stdout.write(formatFooter(outcomes, paint));
  if (release !== undefined) process.stdout.write(`${releasePlanLine(release)}\n`);
}

/**
 * The hosts whose deploy makes a release live (so release commands are due), in deploy order:
 * planned, nothing that refuses them, and `current` moving. None for a rollback.
 */
export function releaseHosts(
  run: Pick<PlanRun, 'input'>,
  planned: readonly PlannedHost[],
  adopt: boolean,
): PlannedHost[] {
  if (run.input.rollback !== undefined || run.input.manifest.release === undefined) return [];
  return planned.filter(
    (host) =>
      host.outcome.status === 'planned' &&
      host.context !== undefined &&
      refusal(host, adopt) === undefined &&
      makesReleaseLive(run.input.manifest.name, host.outcome.plan.changes, host.context.operations),
  );
}

/** Where release commands run (release-commands.ts), when any would. */
export function releasePlanFor(
  run: Pick<PlanRun, 'input'>,
  planned: readonly PlannedHost[],
  adopt: boolean,
): ReleasePlan | undefined {
  const due = new Set(releaseHosts(run, planned, adopt));
  return releasePlan(
    releaseCommandsOf(run.input.manifest),
    planned.map((host) => ({ host: host.host.name, due: due.has(host) })),
  );
}

export async function runPlan(target: string, flags: PlanFlags): Promise<number> {
  const run = await planTarget(target, flags);
  await run.pool.closeAll();
  const outcomes = run.planned.map((planned) => planned.outcome);
  printPlans(
    run.project.manifest.name,
    outcomes,
    flags.json === true,
    flags.diff === true,
    releasePlanFor(run, run.planned, true),
  );
  return exitCodeFor(outcomes, flags.detailedExitcode === true);
}

export function addPlanOptions(command: Command): Command {
  return command
    .argument(
      '<target>',
      'a group or host of the inventory, sandbox, [user@]host[:port] or an ~/.ssh/config alias; comma-separated for several',
    )
    .option('--json', 'print the plan as one JSON document (docs/PLAN-JSON.md)')
    .option(
      '--diff',
      'show new files in full (by default a new file is one line: mode, owner, size) and the diff of each changed text file of a new release against the live one; secrets never',
    )
    .option(
      '--detailed-exitcode',
      'exit 0 when nothing would change, 2 when something would, 1 on error or problems',
    )
    .option('--parallel <n>', 'hosts planned at once (default 10)')
    .option(
      '--accept-new',
      "record an unknown host's key in ~/.ssh/known_hosts (a changed key is always refused)",
    )
    .addOption(
      new Option('--connect-timeout <seconds>', 'give up connecting after this long (default 10)'),
    )
    .addOption(
      new Option(
        '--command-timeout <seconds>',
        'give up on a remote step after this long (default 120)',
      ),
    )
    .option(
      '--allow-path <path>',
      'let config/ write this sensitive host file, such as /etc/ssh/sshd_config; repeat for more',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--dir <dir>', 'the project directory (default: .)');
}

const EXAMPLES = `
Examples:
  $ svc plan sandbox                      every sandbox host (svc sandbox up)
  $ svc plan web --json                   a group of svc.yaml hosts:, as JSON
  $ svc plan sandbox --diff               new files in full, release files' diffs
  $ svc plan deploy@203.0.113.10:2222
  $ svc plan web1,web2 --detailed-exitcode`;

export function planCommand(): Command {
  return addPlanOptions(new Command('plan'))
    .description("show what svc deploy would change on each host, read from the host's real state")
    .addHelpText('after', EXAMPLES)
    .action(async (target: string, flags: PlanFlags) => {
      process.exitCode = await runPlan(target, flags);
    });
}
