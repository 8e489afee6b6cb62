// Several hosts: batches for a rolling deploy (each batch healthy before the next starts), at
// most --parallel at once within a batch, and --max-fail to stop once too many hosts failed.
import { SvcError } from '../core/errors.js';
import type { HostResult } from './apply-host.js';

/** `N` or `N%` of `total`, at least 1 (a batch) or 0 (a failure budget). */
export function parseCount(
  flag: string,
  value: string | undefined,
  total: number,
  fallback: number,
  minimum: number,
): number {
  if (value === undefined) return fallback;
  const match = /^(\d+)(%?)$/.exec(value);
  if (!match || (match[2] === '%' && Number(match[1]) > 100)) {
    throw new SvcError(
      `${flag}: must be a whole number or a percentage such as 25% (got ${JSON.stringify(value)})`,
    );
  }
  const count = match[2] === '%' ? Math.floor((total * Number(match[1])) / 100) : Number(match[1]);
  return Math.max(minimum, count);
}

export function batches<T>(items: readonly T[], size: number): T[][] {
  const result: T[][] = [];
  for (let start = 0; start < items.length; start += size)
    result.push(items.slice(start, start + size));
  return result;
}

const succeeded = (result: HostResult) =>
  result.status === 'deployed' || result.status === 'unchanged';

export interface RolloutOptions<T = never> {
  batchSize: number;
  parallel: number;
  maxFail: number;
  signal?: AbortSignal;
  /** Hosts known to have failed before anything is applied (their plan failed). */
  failedBefore?: (host: T) => boolean;
}

type Skipped = { host: string; status: 'skipped'; message: string };
/** Failures so far, and the host whose release commands failed (then no other host starts). */
type Budget = { failures: number; releaseFailedOn?: string };

/**
 * Applies host by host; hosts not started because of --max-fail or Ctrl-C are `skipped`.
 *
 * The failure budget is strict: hosts whose plan already failed (`failedBefore`) count from the
 * start, the budget is checked before each host starts (also within a batch), and no more hosts
 * run at once than failures are left to spend, so even if every host in flight fails, the budget
 * is overrun by at most one. Without --max-fail the budget is every host and only --parallel
 * limits.
 */
export async function rollout<T extends { host: { name: string } }>(
  hosts: readonly T[],
  apply: (host: T) => Promise<HostResult>,
  options: RolloutOptions<T>,
): Promise<(HostResult | Skipped)[]> {
  const budget: Budget = {
    failures: hosts.filter((host) => options.failedBefore?.(host)).length,
  };
  const results: (HostResult | Skipped)[] = [];
  for (const batch of batches(hosts, options.batchSize))
    results.push(...(await runBatch(batch, apply, options, budget)));
  return results;
}

function runBatch<T extends { host: { name: string } }>(
  batch: readonly T[],
  apply: (host: T) => Promise<HostResult>,
  options: RolloutOptions<T>,
  budget: Budget,
): Promise<(HostResult | Skipped)[]> {
  const results: (HostResult | Skipped)[] = new Array(batch.length);
  let next = 0;
  let running = 0;
  const stopReason = () =>
    options.signal?.aborted
      ? 'interrupted'
      : budget.releaseFailedOn !== undefined
        ? `not started: the release commands failed on ${budget.releaseFailedOn}`
        : budget.failures > options.maxFail
          ? `not started: more than ${options.maxFail} host(s) failed`
          : undefined;
  const slots = () => Math.min(options.parallel, options.maxFail - budget.failures + 1);
  return new Promise((resolve, reject) => {
    const pump = () => {
      while (next < batch.length && (stopReason() !== undefined || running < slots())) {
        const index = next++;
        const host = batch[index]!;
        // A host whose plan failed touches nothing: it still reports its own failure.
        const stop = options.failedBefore?.(host) ? undefined : stopReason();
        if (stop !== undefined) {
          results[index] = { host: host.host.name, status: 'skipped', message: stop };
          continue;
        }
        running++;
        apply(host).then((result) => {
          running--;
          if (!succeeded(result) && !options.failedBefore?.(host)) budget.failures++;
          if (result.releaseFailed) budget.releaseFailedOn ??= result.host;
          results[index] = result;
          pump();
        }, reject);
      }
      if (next >= batch.length && running === 0) resolve(results);
    };
    pump();
  });
}
