// `svc history TARGET [--limit N] [--json]`: what was done to the service on each host (deploys,
// rollbacks, starts, stops, restarts, forced unlocks), from the records each host keeps
// (core/history-script.ts), merged by time. One round trip per host; a host that cannot be read
// is named in one line at the end, and the exit code says so.
import { hostname, userInfo } from 'node:os';
import { Command } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import {
  clockOffset,
  historyOperator,
  historyVersion,
  mergeHistories,
  parseHistoryOutput,
  type HistoryWho,
  type HostRecord,
} from '../core/history-record.js';
import { historyReadScript } from '../core/history-script.js';
import { visible } from '../core/visible.js';
import { forEachHost, runChecked, type EachHostFlags } from '../remote/each-host.js';
import { SVC_VERSION } from './version.js';

/** Who runs this svc, as a host's history records it. */
export function localWho(): HistoryWho {
  return {
    operator: historyOperator(userInfo().username, hostname()),
    version: historyVersion(SVC_VERSION),
  };
}

const DEFAULT_LIMIT = 50;

function parseLimit(value: string | undefined): number {
  if (value === undefined) return DEFAULT_LIMIT;
  const limit = Number(value);
  if (!/^\d+$/.test(value) || limit < 1 || limit > 10_000)
    throw new SvcError(
      `--limit: must be a whole number from 1 to 10000 (got ${JSON.stringify(value)})`,
    );
  return limit;
}

function duration(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${seconds}s`;
  return seconds < 7200
    ? `${Math.floor(seconds / 60)}m${seconds % 60}s`
    : `${Math.floor(seconds / 3600)}h`;
}

/** `2026-12-06 08:01:02` (UTC, as every host records it). */
export const shownTime = (at: string) => at.replace('T', ' ').replace(/Z$/, '');

/** The table, oldest first; a reason follows its result. */
export function historyTable(records: readonly HostRecord[]): string {
  const header = ['TIME (UTC)', 'HOST', 'OPERATOR', 'ACTION', 'RELEASE', 'TOOK', 'RESULT'];
  const rows = records.map((record) => [
    shownTime(record.at),
    record.host,
    record.operator,
    record.action,
    `${record.before} → ${record.after}`,
    duration(record.seconds),
    record.reason === '' ? record.result : `${record.result}: ${visible(record.reason)}`,
  ]);
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => [...row[column]!].length)),
  );
  return [header, ...rows]
    .map(
      (row) =>
        row
          .map((cell, column) => cell + ' '.repeat(widths[column]! - [...cell].length))
          .join('  ')
          .trimEnd() + '\n',
    )
    .join('');
}

/** A host whose clock is off: by how much, and what svc did about it. */
export function clockWarning(host: string, offsetSeconds: number): string {
  const way = offsetSeconds > 0 ? 'ahead of' : 'behind';
  return `${host}: its clock is ${Math.abs(offsetSeconds)} s ${way} this machine's: its records are merged as if it were right (their times are shown as ${host} recorded them)`;
}

export function historyCommand(): Command {
  return new Command('history')
    .description(
      'what was done to the service on each host (deploy, rollback, start, stop, restart, unlock --force), merged by time',
    )
    .argument('<target>', 'hosts, as for svc plan')
    .option('--dir <dir>', 'the project directory (default: .)')
    .option('--parallel <n>', 'hosts at once (default 10)')
    .option('--accept-new', "record an unknown host's key in ~/.ssh/known_hosts")
    .option('--limit <n>', `the newest N records over all hosts (default ${DEFAULT_LIMIT})`)
    .option('--json', 'one JSON document')
    .action(async (target: string, flags: EachHostFlags & { limit?: string; json?: boolean }) => {
      const limit = parseLimit(flags.limit);
      const { results } = await forEachHost(target, flags, async (connection, host, manifest) => {
        const sent = Date.now();
        const output = await runChecked(
          connection,
          historyReadScript(manifest.name, limit),
          'reading the history',
        );
        const received = Date.now();
        try {
          const read = parseHistoryOutput(output, host.name);
          // Each host stamps its records with its own clock: one that is off is merged by this
          // machine's time, and said.
          const offsetSeconds =
            read.clock === undefined ? 0 : clockOffset(read.clock, sent, received);
          return { records: read.records, skipped: read.skipped, offsetSeconds };
        } catch (error) {
          throw new SvcError((error as Error).message);
        }
      });
      const read = results.flatMap((result) =>
        result.ok ? [{ host: result.host.name, ...result.value }] : [],
      );
      const records = mergeHistories(read, limit);
      const failed = results.flatMap((result) =>
        result.ok ? [] : [{ host: result.host.name, error: result.error }],
      );
      const skipped = read.filter((host) => host.skipped > 0);
      const skewed = read.filter((host) => host.offsetSeconds !== 0);
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify(
            {
              version: 1,
              records,
              ...(skipped.length > 0 && {
                skipped: skipped.map(({ host, skipped: lines }) => ({ host, lines })),
              }),
              ...(skewed.length > 0 && {
                clocks: skewed.map(({ host, offsetSeconds }) => ({ host, offsetSeconds })),
              }),
              failed,
            },
            null,
            2,
          )}\n`,
        );
      } else {
        process.stdout.write(
          records.length > 0 ? historyTable(records) : 'no records on the hosts read\n',
        );
      }
      for (const { host, skipped: lines } of skipped)
        process.stderr.write(
          `svc: warning: ${host}: ${lines} history line(s) that are not svc's records were skipped\n`,
        );
      for (const { host, offsetSeconds } of skewed)
        process.stderr.write(`svc: warning: ${clockWarning(host, offsetSeconds)}\n`);
      for (const { host, error } of failed) process.stderr.write(`svc: error: ${host}: ${error}\n`);
      process.exitCode = failed.length > 0 ? EXIT.error : EXIT.ok;
    });
}
