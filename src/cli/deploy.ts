// `svc deploy TARGET`: plan every host, show the plans, confirm, then apply each host's reviewed
// plan (lock, stale check, changes, health-gated restart, rollback on failure) and end with a
// table. `--dry-run` is `svc plan`.
import { Command, Option } from 'commander';
import { hostname, userInfo } from 'node:os';
import { EXIT, InterruptedError, SvcError } from '../core/errors.js';
import { applyHost, type ApplyOptions, type HostResult } from '../remote/apply-host.js';
import { localWho } from './history.js';
import type { PlanInput, PlannedHost } from '../remote/plan-hosts.js';
import { loadLastRun, saveLastRun } from '../remote/last-run.js';
import { parseCount, rollout } from '../remote/rollout.js';
import { colorEnabled, palette } from '../ui/color.js';
import { hostProgress } from '../ui/progress.js';
import { formatFooter, formatPlans } from '../core/plan-format.js';
import { hostLayout, liveReleaseOf } from '../core/layout.js';
import { svcCommand } from './invoked-as.js';
import {
  addPlanOptions,
  exitCodeFor,
  planTarget,
  printPlans,
  releaseHosts,
  releasePlanFor,
  runPlan,
  type PlanFlags,
  type PlanRun,
} from './plan.js';
import { resolve } from 'node:path';
import type { HostPlan } from '../core/plan.js';
import { releaseCommandsOf } from '../core/release-commands.js';
import { readManifestFile } from '../project/read.js';
import { runReleasePhase } from '../remote/release-phase.js';
import { onCtrlC } from '../remote/ctrl-c.js';

export interface DeployFlags extends PlanFlags {
  dryRun?: boolean;
  yes?: boolean;
  adopt?: boolean;
  lockWait?: string;
  healthTimeout?: string;
  batch?: string;
  maxFail?: string;
  retryFailed?: boolean;
}

type Row = HostResult | { host: string; status: 'skipped'; message: string };

function seconds(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!/^\d+$/.test(value) || Number(value) > 3600) {
    throw new SvcError(
      `${flag}: must be a whole number of seconds from 0 to 3600 (got ${JSON.stringify(value)})`,
    );
  }
  return Number(value);
}

/**
 * Every deploy flag, checked before planning: a bad value is refused before any host is
 * connected to, not after the plans (--batch and --max-fail are used only then).
 */
export function checkDeployFlags(flags: DeployFlags): void {
  seconds('--lock-wait', flags.lockWait, 0);
  seconds('--health-timeout', flags.healthTimeout, 30);
  parseCount('--max-fail', flags.maxFail, 1, 0, 0);
  parseCount('--batch', flags.batch, 1, 1, 1);
  // parseCount makes 0 one host; as a flag, a batch of none is a mistake worth saying.
  if (flags.batch !== undefined && /^0+%?$/.test(flags.batch))
    throw new SvcError(
      `--batch: must be at least 1 host or 1% (got ${JSON.stringify(flags.batch)})`,
    );
}

async function confirm(count: number, yes: boolean): Promise<void> {
  if (yes) return;
  if (!process.stdin.isTTY || !process.stdout.isTTY) {
    throw new SvcError('no terminal to confirm on: pass --yes to apply the plan shown above');
  }
  const { confirm: ask } = await import('@inquirer/prompts');
  try {
    if (!(await ask({ message: `Apply this plan to ${count} host(s)?`, default: false })))
      throw new SvcError('nothing applied');
  } catch (error) {
    if (error instanceof Error && error.name === 'ExitPromptError') throw new InterruptedError();
    throw error;
  }
}

function table(rows: readonly Row[], shownAbove: ReadonlySet<string>): string {
  const cells = rows.map((row) => {
    const changes =
      'summary' in row
        ? `+${row.summary.create} ~${row.summary.update} -${row.summary.delete} ↻${row.summary.restart}`
        : '-';
    const time = 'seconds' in row ? `${row.seconds.toFixed(1)}s` : '-';
    const release = ('release' in row && row.release) || '-';
    return [row.host, row.status, release, changes, time];
  });
  const header = ['HOST', 'RESULT', 'RELEASE', 'CHANGES', 'TIME'];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...cells.map((cell) => cell[column]!.length)),
  );
  const line = (cell: string[]) =>
    cell
      .map((text, column) => text.padEnd(widths[column]!))
      .join('  ')
      .trimEnd();
  // A host that could not be planned (unreachable, say) had its one line above, with the plans.
  const notes = rows.flatMap((row) =>
    'message' in row && row.message && !shownAbove.has(row.host)
      ? [`  ${row.host}: ${row.message}`]
      : [],
  );
  return (
    [line(header), ...cells.map(line), ...(notes.length > 0 ? ['', ...notes] : [])].join('\n') +
    '\n'
  );
}

function holder(target: string): object {
  return {
    who: `${userInfo().username}@${hostname()}`,
    since: new Date().toISOString(),
    pid: process.pid,
    command: `svc deploy ${target}`,
  };
}

function applyOptions(
  target: string,
  flags: DeployFlags,
  signal: AbortSignal,
  onStep: ApplyOptions['onStep'],
): ApplyOptions {
  return {
    adopt: flags.adopt === true,
    lockWaitSeconds: seconds('--lock-wait', flags.lockWait, 0),
    healthTimeoutSeconds: seconds('--health-timeout', flags.healthTimeout, 30),
    holder: holder(target),
    who: localWho(),
    signal,
    onStep,
  };
}

/**
 * With --yes and no batches to hold hosts back, each host is applied as soon as its own plan is
 * ready (and shown): no host waits for the slowest plan. Otherwise: all plans, confirm, rollout.
 */
function pipelined(flags: DeployFlags, releaseCommands: boolean): boolean {
  return (
    flags.yes === true &&
    // Release commands run before any host changes (on: first) or stop the hosts not yet
    // started (on: every): the deploy needs every plan first.
    !releaseCommands &&
    !flags.dryRun &&
    !flags.retryFailed &&
    flags.batch === undefined &&
    flags.maxFail === undefined
  );
}

export async function runDeploy(
  target: string,
  flags: DeployFlags,
  rollback?: PlanInput['rollback'],
): Promise<number> {
  checkDeployFlags(flags);
  if (flags.dryRun && !rollback) return runPlan(target, flags);
  const json = flags.json === true;
  const emit = (event: object) => json && process.stdout.write(`${JSON.stringify(event)}\n`);
  const controller = new AbortController();
  const offCtrlC = onCtrlC(() => controller.abort());
  let pool: PlanRun['pool'] | undefined;
  try {
    let rows: Row[];
    let projectDir: string;
    let shownAbove = new Set<string>();
    let live = new Map<string, string>();
    const releaseCommands =
      !rollback && readManifestFile(resolve(flags.dir ?? '.')).release !== undefined;
    if (pipelined(flags, releaseCommands)) {
      const progress = json ? undefined : hostProgress([], process.stderr, true);
      const options = applyOptions(target, flags, controller.signal, (host, step) =>
        json ? emit({ event: 'step', host, step }) : progress?.step(host, step),
      );
      const results = new Map<string, HostResult>();
      const paint = palette(colorEnabled(process.stdout));
      const run = await planTarget(target, flags, rollback, async (host, context) => {
        // Programs get each host's plan as it is made; people get the plan grouped (identical hosts
        // once) after the run, above the result table: streaming it would repeat it per host.
        if (json) emit({ event: 'plan', ...host.outcome });
        if (controller.signal.aborted) return;
        results.set(host.host.name, await applyHost(context.input, host, context.pool, options));
      });
      pool = run.pool;
      const outcomes = run.planned.map((host) => host.outcome);
      if (!json)
        process.stdout.write(
          formatPlans(outcomes, paint, { diff: flags.diff === true }) +
            formatFooter(outcomes, paint),
        );
      rows = run.planned.map(
        (host) =>
          results.get(host.host.name) ?? {
            host: host.host.name,
            status: 'skipped' as const,
            message: 'interrupted',
          },
      );
      projectDir = run.project.dir;
      shownAbove = planFailures(run.planned);
      live = liveReleases(run.planned, run.project.manifest.name);
    } else {
      const run = await planTarget(target, flags, rollback);
      pool = run.pool;
      projectDir = run.project.dir;
      const planned = selectHosts(run, flags.retryFailed === true);
      shownAbove = planFailures(planned);
      live = liveReleases(planned, run.project.manifest.name);
      const outcomes = planned.map((host) => host.outcome);
      const adopt = flags.adopt === true;
      if (json) for (const outcome of outcomes) emit({ event: 'plan', ...outcome });
      else
        printPlans(
          run.project.manifest.name,
          outcomes,
          false,
          flags.diff === true,
          releasePlanFor(run, planned, adopt),
        );
      // A rollback's dry run (a deploy's is runPlan's): the exit code `svc plan` gives, 1 when a
      // host failed to plan or has a problem, not 0 whatever the hosts said.
      if (flags.dryRun) return exitCodeFor(outcomes, flags.detailedExitcode === true);
      const work = planned.filter(
        (host) => host.outcome.status === 'planned' && host.outcome.plan.changes.length > 0,
      ).length;
      if (work > 0) await confirm(work, flags.yes === true);
      const progress = json ? undefined : hostProgress(planned.map((host) => host.host.name));
      const options = applyOptions(target, flags, controller.signal, (host, step) =>
        json ? emit({ event: 'step', host, step }) : progress?.step(host, step),
      );
      const reported = (result: HostResult) => {
        progress?.done(
          result.host,
          result.status,
          result.status === 'deployed' || result.status === 'unchanged',
        );
        return result;
      };
      // release: { on: first }: the first host prepares the release and runs the commands
      // before any host changes; if they fail, no host is deployed.
      const phase = await firstHostPhase(run, planned, adopt, options);
      if (phase?.ok === false) {
        const first = phase.result.host;
        rows = [];
        for (const host of planned)
          rows.push(
            host.host.name === first
              ? reported(phase.result)
              : host.outcome.status === 'failed'
                ? reported(await applyHost(run.input, host, run.pool, options))
                : {
                    host: host.host.name,
                    status: 'skipped',
                    message: `not started: the release commands failed on ${first}`,
                  },
          );
      } else {
        const afterPhase = new Map<string, HostPlan>(phase?.ok ? [[phase.host, phase.plan]] : []);
        const applyAndReport = async (host: PlannedHost) =>
          reported(
            await applyHost(run.input, host, run.pool, options, afterPhase.get(host.host.name)),
          );
        rows = await rollout(planned, applyAndReport, {
          batchSize: parseCount('--batch', flags.batch, planned.length, planned.length, 1),
          parallel: parseCount('--parallel', flags.parallel, planned.length, 10, 1),
          maxFail: parseCount('--max-fail', flags.maxFail, planned.length, planned.length, 0),
          signal: controller.signal,
          failedBefore: (host) => host.outcome.status === 'failed',
        });
      }
      for (const row of rows)
        if (row.status === 'skipped') progress?.done(row.host, 'skipped', false);
      await progress?.finished;
    }
    return report(
      withLiveRelease(rows, live),
      target,
      projectDir,
      json,
      emit,
      controller.signal.aborted,
      shownAbove,
    );
  } finally {
    offCtrlC();
    await pool?.closeAll();
  }
}

/**
 * release: { on: first }: the release phase on the first host whose deploy makes the release
 * live (remote/release-phase.ts), or undefined when there is none to run.
 */
async function firstHostPhase(
  run: PlanRun,
  planned: readonly PlannedHost[],
  adopt: boolean,
  options: ApplyOptions,
): Promise<
  { ok: true; host: string; plan: HostPlan } | { ok: false; result: HostResult } | undefined
> {
  if (releaseCommandsOf(run.input.manifest)?.on !== 'first') return undefined;
  const [first] = releaseHosts(run, planned, adopt);
  if (first === undefined) return undefined;
  const outcome = await runReleasePhase(run.input, first, run.pool, options);
  return outcome.ok ? { ok: true, host: first.host.name, plan: outcome.plan } : outcome;
}

/** Each planned host's live release, as its facts read the current link before the deploy. */
function liveReleases(planned: readonly PlannedHost[], service: string): Map<string, string> {
  const layout = hostLayout(service);
  const live = new Map<string, string>();
  for (const host of planned) {
    const id = liveReleaseOf(host.context?.facts.paths.get(layout.current), layout);
    if (id !== undefined) live.set(host.host.name, id);
  }
  return live;
}

/**
 * A host this run changed nothing on still has its live release, and the table says which: only
 * a host whose deploy went live (or was cut short, when svc cannot know) says another or none.
 */
function withLiveRelease(rows: readonly Row[], live: ReadonlyMap<string, string>): Row[] {
  const untouched = new Set(['unchanged', 'refused', 'locked', 'stale']);
  // A host whose release commands failed was never switched: its live release is as it was.
  const leftAsItWas = (row: Row) =>
    untouched.has(row.status) || ('releaseFailed' in row && row.releaseFailed === true);
  return rows.map((row) =>
    'release' in row || !leftAsItWas(row) || !live.has(row.host)
      ? row
      : { ...row, release: live.get(row.host)! },
  );
}

function planFailures(planned: readonly PlannedHost[]): Set<string> {
  return new Set(
    planned.filter((host) => host.outcome.status === 'failed').map((host) => host.host.name),
  );
}

function selectHosts(run: PlanRun, retryFailed: boolean): PlannedHost[] {
  if (!retryFailed) return run.planned;
  const failed = new Set(loadLastRun(run.project.dir)?.failed ?? []);
  const planned = run.planned.filter((host) => failed.has(host.host.name));
  if (planned.length === 0)
    throw new SvcError('--retry-failed: the last deploy left no failed host among these targets');
  return planned;
}

/** The end of a run: last-run record, the table (or result events), the exit code. */
function report(
  rows: readonly Row[],
  target: string,
  projectDir: string,
  json: boolean,
  emit: (event: object) => void,
  aborted: boolean,
  shownAbove: ReadonlySet<string>,
): number {
  const failed = rows
    .filter((row) => row.status !== 'deployed' && row.status !== 'unchanged')
    .map((row) => row.host);
  saveLastRun(projectDir, { at: new Date().toISOString(), target, failed });
  if (json) {
    for (const row of rows) emit({ event: 'result', ...row });
    emit({ event: 'summary', hosts: rows.length, failed });
  } else {
    const paint = palette(colorEnabled(process.stdout));
    process.stdout.write(`\n${table(rows, shownAbove)}`);
    if (failed.length > 0)
      process.stdout.write(paint.red(`${notDeployedLine(rows, failed, target, svcCommand())}\n`));
  }
  if (aborted) return EXIT.interrupted;
  return failed.length > 0 ? EXIT.error : EXIT.ok;
}

/**
 * What to do about the hosts not deployed. A refused host (its plan has a problem: wrong init
 * system, files svc did not make) stays refused on a retry, so it is pointed at its reason; only
 * hosts a retry can help (locked, lost connection, failed health check) get --retry-failed.
 */
export function notDeployedLine(
  rows: readonly Row[],
  failed: readonly string[],
  target: string,
  svc: string,
): string {
  const refused = rows.filter((row) => row.status === 'refused').map((row) => row.host);
  const retryable = failed.filter((host) => !refused.includes(host));
  const hints = [
    ...(refused.length > 0
      ? [`${refused.join(', ')}: fix what the plan says above, then ${svc} deploy ${target}`]
      : []),
    ...(retryable.length > 0 ? [`${svc} deploy ${target} --retry-failed`] : []),
  ];
  return `${failed.length} host(s) not deployed: ${failed.join(', ')} (${hints.join('; ')})`;
}

const EXAMPLES = `
Examples:
  $ svc deploy sandbox --yes               every sandbox host, no question
  $ svc deploy web --batch 25% --max-fail 1
  $ svc deploy web --retry-failed          only the hosts the last deploy left failed
  $ svc deploy web --dry-run               the plan, nothing applied`;

export function deployCommand(): Command {
  return addPlanOptions(new Command('deploy'))
    .description(
      'apply the plan: layout, release, config overlay, service, health-gated cutover with rollback',
    )
    .option('--dry-run', 'show the plan and change nothing (svc plan)')
    .option('-y, --yes', 'apply without asking')
    .option('--adopt', 'overwrite files at overlay paths that svc did not create')
    .addOption(
      new Option(
        '--lock-wait <seconds>',
        "wait this long for another deploy's lock (default: fail at once)",
      ),
    )
    .addOption(
      new Option(
        '--health-timeout <seconds>',
        'how long the service has to answer its health check (default 30)',
      ),
    )
    .addOption(
      new Option(
        '--batch <n|n%>',
        'rolling deploy: hosts per batch, each batch healthy before the next',
      ),
    )
    .addOption(
      new Option('--max-fail <n|n%>', 'stop starting hosts once more than this many failed'),
    )
    .option('--retry-failed', 'deploy only the hosts the last deploy of this project left failed')
    .addHelpText('after', EXAMPLES)
    .action(async (target: string, flags: DeployFlags) => {
      process.exitCode = await runDeploy(target, flags);
    });
}
