// Several hosts: batches for a rolling deploy (each batch healthy before the next starts), at
// most --parallel at once within a batch, and --max-fail to stop once too many hosts failed.
import { SvcError } from '../core/errors.js';
import type { HostResult } from './apply-host.js';
import { mapLimit } from './plan-hosts.js';

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

export interface RolloutOptions {
  batchSize: number;
  parallel: number;
  maxFail: number;
  signal?: AbortSignal;
}

type Skipped = { host: string; status: 'skipped'; message: string };

/**
 * Applies host by host; hosts not started because of --max-fail or Ctrl-C are `skipped`. The
 * budget is checked before each host starts, also within a batch: once more than --max-fail hosts
 * failed (a host that could not even be planned counts), no further host is touched.
 */
export async function rollout<T extends { host: { name: string } }>(
  hosts: readonly T[],
  apply: (host: T) => Promise<HostResult>,
  options: RolloutOptions,
): Promise<(HostResult | Skipped)[]> {
  const results: (HostResult | Skipped)[] = [];
  let failures = 0;
  const stopReason = () =>
    options.signal?.aborted
      ? 'interrupted'
      : failures > options.maxFail
        ? `not started: more than ${options.maxFail} host(s) failed`
        : undefined;
  const skipped = (host: T, message: string): Skipped => ({
    host: host.host.name,
    status: 'skipped',
    message,
  });
  const applyOne = async (host: T): Promise<HostResult | Skipped> => {
    const stop = stopReason();
    if (stop !== undefined) return skipped(host, stop);
    const result = await apply(host);
    if (!succeeded(result)) failures++;
    return result;
  };
  for (const batch of batches(hosts, options.batchSize))
    results.push(...(await mapLimit(batch, options.parallel, applyOne)));
  return results;
}
