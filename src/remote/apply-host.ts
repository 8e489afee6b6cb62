// Applies one host's reviewed plan: one round trip carrying the apply script and a gzipped tar of
// the release and overlay files. A host with nothing to change gets only its history record
// (`unchanged`): written by its fact command, still waiting for svc's verdict, when the deploy
// held it (plan-hosts.ts PlanInput.held), else by one more command on the connection.
import { randomBytes } from 'node:crypto';
import { gzipSync } from 'node:zlib';
import { deployedBeforeDrain, drainAllowanceSeconds } from '../core/cutover.js';
import { SvcError } from '../core/errors.js';
import {
  buildApply,
  EXIT_LOCKED,
  EXIT_STALE,
  EXIT_UNHEALTHY,
  type ApplyInput,
} from '../core/apply-script.js';
import type { HostPlan, PlanSummary } from '../core/plan.js';
import {
  EXIT_RELEASE_FAILED,
  releaseCommandsOf,
  releaseFailure,
  releaseSeconds,
} from '../core/release-commands.js';
import type { HistoryWho } from '../core/history-record.js';
import { deployAction, historyUnchangedScript, RECORDED_LINE } from '../core/history-script.js';
import { summarize } from '../core/plan.js';
import { releaseEntries } from '../core/release.js';
import { rollbackReport, visible } from '../core/rollback-report.js';
import { tarArchive } from '../core/tar.js';
import type { PlanInput, PlannedHost } from './plan-hosts.js';
import type { ConnectionPool, RunResult } from './ssh.js';

export interface ApplyOptions {
  adopt: boolean;
  lockWaitSeconds: number;
  healthTimeoutSeconds: number;
  /** Recorded in the lock: who, when, pid, command. */
  holder: object;
  /** Recorded in the host's history: who deploys, with which svc. */
  who?: HistoryWho;
  signal?: AbortSignal;
  onStep?: (host: string, step: string) => void;
}

export type HostStatus =
  'unchanged' | 'deployed' | 'rolled back' | 'refused' | 'locked' | 'stale' | 'failed';

export interface HostResult {
  host: string;
  status: HostStatus;
  release?: string;
  summary: PlanSummary;
  seconds: number;
  message?: string;
  /** Its release commands failed (or could not run): the deploy starts no other host. */
  releaseFailed?: boolean;
}

function decodeHex(hex: string): string {
  return Buffer.from(hex, 'hex').toString('utf8');
}

/** Why a host is not applied at all: problems, or files svc would overwrite without --adopt. */
export function refusal(planned: PlannedHost, adopt: boolean): string | undefined {
  if (planned.outcome.status !== 'planned') return planned.outcome.error;
  const { plan } = planned.outcome;
  if (plan.problems.length > 0) return plan.problems.join('; ');
  const foreign = plan.changes.filter((change) =>
    change.warnings?.some((warning) => warning.includes('--adopt')),
  );
  if (foreign.length > 0 && !adopt) {
    return `${foreign.map((change) => change.target).join(', ')} exist(s) and svc did not create them; pass --adopt to overwrite`;
  }
  return undefined;
}

/** The holder file: svc's JSON on the first line, the host-side pid and start time on the second. */
function describeLock(holderHex: string): string {
  try {
    const holder = JSON.parse(decodeHex(holderHex).split('\n')[0]!) as {
      who?: string;
      since?: string;
      pid?: number;
      command?: string;
    };
    return `locked by ${holder.who ?? 'someone'} since ${holder.since ?? '?'} (pid ${holder.pid ?? '?'}: ${holder.command ?? '?'})`;
  } catch {
    return 'locked by another deploy (its lock record is unreadable)';
  }
}

/**
 * The connection failed under a deploy. Past the upload the host finishes or undoes on its own
 * and frees the lock; what it reached is what svc last heard.
 */
function lostMessage(message: string, lines: readonly string[]): string {
  const why = message.slice(message.indexOf(': ') + 2);
  const steps = lines.filter((line) => line.startsWith('STEP\t')).map((line) => line.slice(5));
  if (!steps.includes('received'))
    return `${why}; the host may not have received the whole deploy (then it applied nothing); if it did, it finishes or undoes on its own: run svc status or deploy again`;
  return `${why} after ${steps.at(-1)}; the host finishes or undoes the deploy on its own and frees the lock: run svc status or deploy again`;
}

/** What a host's apply script (or its release phase, release-phase.ts) is built from. */
export function scriptInput(
  input: PlanInput,
  context: NonNullable<PlannedHost['context']>,
  plan: HostPlan,
  options: ApplyOptions,
): ApplyInput {
  return {
    manifest: input.manifest,
    operations: context.operations,
    plan,
    facts: context.facts,
    factRequest: context.request,
    holder: JSON.stringify(options.holder),
    lockWaitSeconds: options.lockWaitSeconds,
    healthTimeoutSeconds: options.healthTimeoutSeconds,
    now: new Date().toISOString(),
    nonce: randomBytes(12).toString('hex'),
    ...(options.who !== undefined && { who: options.who }),
  };
}

/**
 * `afterPhase`: the plan left to apply once the release phase ran on this host
 * (remote/release-phase.ts); the result still counts the whole plan's changes.
 */
export async function applyHost(
  input: PlanInput,
  planned: PlannedHost,
  pool: ConnectionPool,
  options: ApplyOptions,
  afterPhase?: HostPlan,
): Promise<HostResult> {
  const started = Date.now();
  const name = planned.host.name;
  const finish = (status: HostStatus, extra: Partial<HostResult> = {}): HostResult => ({
    host: name,
    status,
    summary:
      planned.outcome.status === 'planned'
        ? summarize(planned.outcome.plan.changes)
        : { create: 0, update: 0, delete: 0, restart: 0 },
    seconds: (Date.now() - started) / 1000,
    ...extra,
  });
  const noop =
    afterPhase === undefined &&
    planned.outcome.status === 'planned' &&
    planned.outcome.plan.changes.length === 0 &&
    refusal(planned, options.adopt) === undefined;
  // A held fact command not told `unchanged` ends writing nothing (its stdin closes).
  if (planned.verdict && !noop) planned.verdict(false).catch(() => undefined);
  const refused = refusal(planned, options.adopt);
  if (refused !== undefined)
    return finish(planned.outcome.status === 'failed' ? 'failed' : 'refused', { message: refused });
  if (planned.outcome.status !== 'planned' || planned.context === undefined)
    return finish('failed');
  const plan = afterPhase ?? planned.outcome.plan;
  if (plan.changes.length === 0)
    // Nothing to change: only the record that says so, unless the release phase changed the host.
    return afterPhase === undefined
      ? recordUnchanged(input, planned, pool, options, finish)
      : finish('unchanged');
  const commands = releaseCommandsOf(input.manifest);

  const bundle = buildApply(
    scriptInput(input, planned.context, plan, options),
    releaseEntries(input.release),
  );
  const archive = gzipSync(tarArchive(bundle.entries));
  const lines: string[] = [];
  let result: RunResult;
  try {
    const connection = await pool.get(planned.host);
    result = await connection.run(bundle.script, 'deploying', {
      input: archive,
      signal: options.signal,
      timeoutMs:
        (options.lockWaitSeconds +
          2 * options.healthTimeoutSeconds +
          (commands?.on === 'every' ? releaseSeconds(commands) : 0) +
          drainAllowanceSeconds(input.manifest) +
          300) *
        1000,
      onLine: (line) => {
        lines.push(line);
        if (line.startsWith('STEP\t')) options.onStep?.(name, line.slice(5));
      },
    });
  } catch (error) {
    if (!(error instanceof SvcError)) throw error;
    // Recorded before its drain: the deploy happened, whatever became of the wait for the drain.
    const drained = deployedBeforeDrain(lines, error.message);
    if (drained !== undefined)
      return finish('deployed', {
        ...(bundle.releaseId && { release: bundle.releaseId }),
        message: drained,
      });
    return finish('failed', { message: lostMessage(error.message, lines) });
  }
  const field = (tag: string) =>
    lines.find((line) => line.startsWith(`${tag}\t`))?.slice(tag.length + 1);
  const release = bundle.releaseId;
  // Undo steps that failed, a previous deploy that never finished: said, never fatal.
  const warnings = lines
    .filter((line) => line.startsWith('WARNING\t'))
    .map((line) => visible(line.slice(8)));
  const drained =
    result.code === 0
      ? undefined
      : deployedBeforeDrain(lines, `: exited with status ${result.code}`);
  if (drained !== undefined)
    return finish('deployed', {
      ...(release && { release }),
      message: [drained, ...warnings].join('; '),
    });
  switch (result.code) {
    case 0:
      return finish('deployed', {
        ...(release && { release }),
        ...(warnings.length > 0 && { message: warnings.join('; ') }),
      });
    case EXIT_LOCKED:
      return finish('locked', { message: describeLock(field('LOCKED') ?? '') });
    case EXIT_STALE:
      return finish('stale', {
        message: 'the host changed since the plan was made; nothing was applied: plan again',
      });
    case EXIT_UNHEALTHY: {
      const report = rollbackReport(
        (tag) => field(tag)?.split('\t'),
        release,
        bundle.previousId,
        decodeHex(field('LOG') ?? ''),
      );
      // The table names the release that is live now, not the one that failed. An undo step
      // that failed (nginx -t refusing the site put back, say) is said with it.
      return finish('rolled back', {
        message:
          warnings.length > 0
            ? `${report.message}\n    warnings: ${warnings.join('; ')}`
            : report.message,
        ...(report.live !== undefined && { release: report.live }),
      });
    }
    case EXIT_RELEASE_FAILED: {
      // on: every: this host's commands failed before its cutover; undo put its files back.
      const [index = '', how = '', output = ''] = (field('RELEASEFAIL') ?? '').split('\t');
      return finish('failed', {
        message: releaseFailure([index, how], commands!, decodeHex(output)),
        releaseFailed: true,
      });
    }
    case 130:
      return finish('failed', {
        message: 'interrupted; the host undid what it had applied and released its lock',
      });
    default: {
      // The script's commands print into a file on the host; it sends the tail when it fails.
      const printed = decodeHex(field('OUTPUT') ?? '') || result.stderr.toString('utf8');
      const reason = field('FAIL') ?? printed.trim().split('\n').slice(-3).join(' | ');
      const reached =
        [...lines]
          .reverse()
          .find((line) => line.startsWith('STEP\t'))
          ?.slice(5) ?? 'the start';
      return finish('failed', {
        message: `failed (exit ${result.code}) after ${reached}: ${reason}`,
      });
    }
  }
}

/**
 * A deploy that finds nothing to change still leaves its record on the host (issue 12: every
 * deploy appends one), `unchanged`, written by a small script on the connection the plan used.
 * Like any deploy it does not succeed unrecorded.
 */
async function recordUnchanged(
  input: PlanInput,
  planned: PlannedHost,
  pool: ConnectionPool,
  options: ApplyOptions,
  finish: (status: HostStatus, extra?: Partial<HostResult>) => HostResult,
): Promise<HostResult> {
  // Held by the plan (core/history-script.ts heldFactScript): the verdict asks that shell.
  const verdict = planned.verdict;
  if (verdict !== undefined)
    return recorded(
      () => verdict(true),
      (result) => result.stdout.toString('utf8').split('\n').includes(RECORDED_LINE),
      finish,
    );
  const script = historyUnchangedScript(
    input.manifest.name,
    deployAction(planned.context?.operations ?? []),
    options.who,
  );
  return recorded(
    async () =>
      (await pool.get(planned.host)).run(script, 'recording the deploy', {
        signal: options.signal,
        timeoutMs: 60_000,
      }),
    () => true,
    finish,
  );
}

/** How the `unchanged` record went, however it was asked for: not recorded is a failed host. */
async function recorded(
  ask: () => Promise<RunResult>,
  said: (result: RunResult) => boolean,
  finish: (status: HostStatus, extra?: Partial<HostResult>) => HostResult,
): Promise<HostResult> {
  try {
    const result = await ask();
    if (result.code === 0 && said(result)) return finish('unchanged');
    const last = result.stderr.toString('utf8').trim().split('\n').at(-1) ?? '';
    return finish('failed', {
      message: `nothing to change, but the deploy could not be recorded (exit ${result.code})${last ? `: ${visible(last)}` : ''}`,
    });
  } catch (error) {
    if (!(error instanceof SvcError)) throw error;
    return finish('failed', {
      message: `nothing to change, but the deploy could not be recorded: ${error.message}`,
    });
  }
}
