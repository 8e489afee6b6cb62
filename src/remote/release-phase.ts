// Runs the release phase (core/release-phase.ts) on the first host of a deploy whose svc.yaml has
// `release: { on: first }`: one round trip that prepares the release there and runs the release
// commands, before any host is switched or restarted. What comes back is either what that host's
// deploy needs next (its plan less what the phase made, and the digest to check it against), or
// the host's failed result, which stops the whole deploy.
import { gzipSync } from 'node:zlib';
import { EXIT_LOCKED, EXIT_STALE } from '../core/apply-script.js';
import { SvcError } from '../core/errors.js';
import { summarize, type HostPlan } from '../core/plan.js';
import { releaseEntries } from '../core/release.js';
import {
  EXIT_RELEASE_FAILED,
  releaseCommandsOf,
  releaseFailure,
  releaseSeconds,
} from '../core/release-commands.js';
import { buildReleasePhase, planAfterPhase } from '../core/release-phase.js';
import { visible } from '../core/visible.js';
import { tarArchive } from '../core/tar.js';
import { scriptInput, type ApplyOptions, type HostResult } from './apply-host.js';
import type { PlanInput, PlannedHost } from './plan-hosts.js';
import type { ConnectionPool } from './ssh.js';

/** Ready: the plan that host's deploy applies now (less what the phase made). */
export type PhaseOutcome = { ok: true; plan: HostPlan } | { ok: false; result: HostResult };

const hex = (text: string | undefined) => Buffer.from(text ?? '', 'hex').toString('utf8');

export async function runReleasePhase(
  input: PlanInput,
  planned: PlannedHost,
  pool: ConnectionPool,
  options: ApplyOptions,
): Promise<PhaseOutcome> {
  const started = Date.now();
  const name = planned.host.name;
  if (planned.outcome.status !== 'planned' || planned.context === undefined)
    throw new Error('runReleasePhase: a host without a plan');
  const plan = planned.outcome.plan;
  const commands = releaseCommandsOf(input.manifest)!;
  const failed = (status: HostResult['status'], message: string): PhaseOutcome => ({
    ok: false,
    result: {
      host: name,
      status,
      summary: summarize(plan.changes),
      seconds: (Date.now() - started) / 1000,
      message,
      releaseFailed: true,
    },
  });
  const phase = buildReleasePhase(
    scriptInput(input, planned.context, plan, options),
    releaseEntries(input.release),
  );
  const lines: string[] = [];
  let code: number;
  try {
    const connection = await pool.get(planned.host);
    const result = await connection.run(phase.script, 'running the release commands', {
      input: gzipSync(tarArchive(phase.entries)),
      signal: options.signal,
      timeoutMs: (options.lockWaitSeconds + releaseSeconds(commands) + 300) * 1000,
      onLine: (line) => {
        lines.push(line);
        if (line.startsWith('STEP\t')) options.onStep?.(name, line.slice(5));
      },
    });
    code = result.code;
  } catch (error) {
    if (!(error instanceof SvcError)) throw error;
    return failed(
      'failed',
      `release commands: ${error.message.slice(error.message.indexOf(': ') + 2)}; no host was switched or restarted`,
    );
  }
  const field = (tag: string) =>
    lines.find((line) => line.startsWith(`${tag}\t`))?.slice(tag.length + 1);
  const digest = field('DIGEST');
  if (code === 0 && digest !== undefined && /^[0-9a-f]{64}$/.test(digest))
    return { ok: true, plan: planAfterPhase(plan, phase.prepared, digest) };
  switch (code) {
    case EXIT_LOCKED:
      return failed('locked', 'locked by another deploy: the release commands did not run');
    case EXIT_STALE:
      return failed(
        'stale',
        'the host changed since the plan was made; the release commands did not run: plan again',
      );
    case EXIT_RELEASE_FAILED: {
      const [index = '', how = '', output = ''] = (field('RELEASEFAIL') ?? '').split('\t');
      return failed('failed', releaseFailure([index, how], commands, hex(output)));
    }
    case 130:
      return failed('failed', 'interrupted during the release commands; no host was switched');
    default: {
      const reason =
        field('FAIL') ?? (hex(field('OUTPUT')).trim().split('\n').slice(-3).join(' | ') || '?');
      return failed('failed', `release commands: failed (exit ${code}): ${visible(reason)}`);
    }
  }
}
