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

/** Applies host by host; hosts not reached because of --max-fail or Ctrl-C are `skipped`. */
export async function rollout<T extends { host: { name: string } }>(
  hosts: readonly T[],
  apply: (host: T) => Promise<HostResult>,
  options: RolloutOptions,
): Promise<(HostResult | { host: string; status: 'skipped'; message: string })[]> {
  const results: (HostResult | { host: string; status: 'skipped'; message: string })[] = [];
  let failures = 0;
  for (const batch of batches(hosts, options.batchSize)) {
    const stop = options.signal?.aborted
      ? 'interrupted'
      : failures > options.maxFail
        ? `more than ${options.maxFail} host(s) failed`
        : undefined;
    if (stop !== undefined) {
      results.push(
        ...batch.map((host) => ({
          host: host.host.name,
          status: 'skipped' as const,
          message: stop,
        })),
      );
      continue;
    }
    const batchResults = await mapLimit(batch, options.parallel, apply);
    failures += batchResults.filter((result) => !succeeded(result)).length;
    results.push(...batchResults);
  }
  return results;
}
