// The lifecycle commands: status, start, stop, restart, logs, releases and unlock. Each runs one
// small script per host over the same transport as deploy.
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import type { ControlAction } from '../core/init-control.js';
import {
  controlPid,
  controlScript,
  parseReleases,
  parseStatus,
  releasesScript,
  stopHolderScript,
  statusScript,
  unlockScript,
  type ServiceStatus,
} from '../core/lifecycle.js';
import { logsScript } from '../core/logs-script.js';
import { localWho, shownTime } from './history.js';
import {
  forEachHost,
  hostsExit,
  runChecked,
  type EachHostFlags,
  type HostOutcomeOf,
} from '../remote/each-host.js';
import { whileCtrlC } from '../remote/ctrl-c.js';
import { PrefixedLines, writeThrough } from '../ui/prefixed-lines.js';

type Flags = EachHostFlags & { json?: boolean };

function withHostOptions(command: Command): Command {
  return command
    .argument('<target>', 'hosts, as for svc plan')
    .option('--dir <dir>', 'the project directory (default: .)')
    .option('--parallel <n>', 'hosts at once (default 10)')
    .option('--accept-new', "record an unknown host's key in ~/.ssh/known_hosts");
}

/**
 * Failed hosts as `svc: error:` lines, and those Ctrl-C cut short as `svc: HOST: ...` (what the
 * host said it left); the exit code says whether any failed, 130 when Ctrl-C cut one short.
 */
function reportFailures<T>(results: readonly HostOutcomeOf<T>[]): number {
  for (const result of results) {
    if (result.ok) continue;
    const kind = result.interrupted ? 'svc' : 'svc: error';
    process.stderr.write(`${kind}: ${result.host.name}: ${result.error}\n`);
  }
  return hostsExit(results);
}

function uptime(seconds: number | undefined): string {
  if (seconds === undefined) return '-';
  if (seconds < 120) return `${seconds}s`;
  if (seconds < 7200) return `${Math.floor(seconds / 60)}m`;
  return seconds < 172800 ? `${Math.floor(seconds / 3600)}h` : `${Math.floor(seconds / 86400)}d`;
}

/** The host history's last deploy or rollback: when, how it ended, who (svc history has more). */
function lastDeployCell(status: ServiceStatus): string {
  const last = status.lastDeploy;
  if (last === undefined) return '-';
  const what = last.action === 'rollback' ? `rollback ${last.result}` : last.result;
  return `${shownTime(last.at)} ${what} by ${last.operator}`;
}

function statusTable(results: readonly HostOutcomeOf<ServiceStatus>[]): string {
  const rows = results.flatMap((result) =>
    result.ok
      ? [
          [
            result.host.name,
            result.value.release,
            result.value.running ? 'running' : 'stopped',
            String(result.value.pid ?? '-'),
            uptime(result.value.uptimeSeconds),
            result.value.health === undefined ? '-' : String(result.value.health),
            result.value.monit ?? '-',
            lastDeployCell(result.value),
          ],
        ]
      : [],
  );
  const header = [
    'HOST',
    'RELEASE',
    'STATE',
    'PID',
    'UPTIME',
    'HEALTH',
    'MONIT',
    'LAST DEPLOY (UTC)',
  ];
  const widths = header.map((title, column) =>
    Math.max(title.length, ...rows.map((row) => row[column]!.length)),
  );
  return (
    [header, ...rows]
      .map((row) =>
        row
          .map((cell, column) => cell.padEnd(widths[column]!))
          .join('  ')
          .trimEnd(),
      )
      .join('\n') + '\n'
  );
}

export function statusCommand(): Command {
  return withHostOptions(new Command('status'))
    .description('per host: release, running or not, pid, uptime, health check, monit, last deploy')
    .option('--json', 'one JSON document')
    .action(async (target: string, flags: Flags) => {
      const { results } = await forEachHost(target, flags, async (connection, host, manifest) =>
        parseStatus(
          await runChecked(connection, statusScript(manifest), 'reading status'),
          host.name,
          manifest,
        ),
      );
      if (flags.json) {
        const hosts = results.map((result) =>
          result.ok
            ? { host: result.host.name, ...result.value }
            : { host: result.host.name, error: result.error },
        );
        process.stdout.write(`${JSON.stringify({ version: 1, hosts }, null, 2)}\n`);
      } else {
        process.stdout.write(statusTable(results));
      }
      process.exitCode = reportFailures(results);
    });
}

export function controlCommand(action: ControlAction): Command {
  const what = {
    start: 'start the service',
    stop: 'stop the service: TERM, the stop timeout, then KILL',
    restart: 'restart the service',
  }[action];
  return withHostOptions(new Command(action))
    .description(`${what}, through the host's init system (or monit, when it watches the service)`)
    .action((target: string, flags: Flags) =>
      whileCtrlC(async (signal) => {
        const { results } = await forEachHost(
          target,
          flags,
          async (connection, _host, manifest) => {
            const output = await runChecked(
              connection,
              controlScript(manifest, action, localWho()),
              `${action}ing ${manifest.name}`,
              signal,
            );
            return controlPid(output);
          },
          signal,
        );
        for (const result of results) {
          if (result.ok)
            process.stdout.write(
              `${result.host.name}: ${action === 'stop' ? 'stopped' : `running (pid ${result.value})`}\n`,
            );
        }
        process.exitCode = reportFailures(results);
      }),
    );
}

export function logsCommand(): Command {
  return withHostOptions(new Command('logs'))
    .description(
      'the service log from /var/log/NAME on each host, read as the service user (a link there is refused)',
    )
    .option('-n, --lines <n>', 'lines to show (default 100)')
    .option('-f, --follow', 'keep printing new lines until Ctrl-C')
    .action(async (target: string, flags: Flags & { lines?: string; follow?: boolean }) => {
      const lines = Number(flags.lines ?? 100);
      if (!Number.isInteger(lines) || lines < 1 || lines > 100_000)
        throw new SvcError(
          `--lines: must be a whole number from 1 to 100000 (got ${JSON.stringify(flags.lines)})`,
        );
      const follow = flags.follow === true;
      const controller = new AbortController();
      const stop = () => controller.abort();
      process.once('SIGINT', stop);
      // A reader that went away (`svc logs -f | head`) ends the run as Ctrl-C does.
      process.stdout.on('error', stop);
      try {
        const { results } = await forEachHost(target, flags, async (connection, host, manifest) => {
          // Streamed, never collected: -f runs for hours in the memory of one unfinished line.
          const output = new PrefixedLines(`${host.name} | `);
          writeThrough(output, process.stdout);
          let result;
          try {
            result = await connection.run(logsScript(manifest, lines, follow), 'reading logs', {
              signal: controller.signal,
              stdout: output,
              holdStdin: follow,
              timeoutMs: follow ? 2 ** 31 - 1 : undefined,
            });
          } finally {
            output.end();
            await finished(output).catch(() => undefined);
          }
          if (result.code !== 0 && !controller.signal.aborted) {
            const said = result.stderr.toString('utf8').trim().split('\n').at(-1);
            throw new SvcError(
              `${host.name}: ${said || `reading the log failed (exit ${result.code})`}`,
            );
          }
        });
        process.exitCode = reportFailures(results);
      } finally {
        process.off('SIGINT', stop);
        process.stdout.off('error', stop);
      }
    });
}

export function releasesCommand(): Command {
  return withHostOptions(new Command('releases'))
    .description('the releases on each host, oldest first: current, good or bad')
    .option('--json', 'one JSON document')
    .action(async (target: string, flags: Flags) => {
      const { results } = await forEachHost(target, flags, async (connection, _host, manifest) =>
        parseReleases(await runChecked(connection, releasesScript(manifest), 'listing releases')),
      );
      if (flags.json) {
        process.stdout.write(
          `${JSON.stringify({ version: 1, hosts: results.map((result) => (result.ok ? { host: result.host.name, releases: result.value } : { host: result.host.name, error: result.error })) }, null, 2)}\n`,
        );
      } else {
        for (const result of results) {
          if (!result.ok) continue;
          process.stdout.write(`${result.host.name}\n`);
          for (const release of result.value)
            process.stdout.write(
              `  ${release.current ? '*' : ' '} ${release.id}  ${release.status ?? '-'}  ${release.at ?? ''}\n`.trimEnd() +
                '\n',
            );
        }
      }
      process.exitCode = reportFailures(results);
    });
}

export function unlockCommand(): Command {
  return withHostOptions(new Command('unlock'))
    .description(
      'show who holds the deploy lock; --force stops that deploy (it undoes its changes). A lock is never left behind: it ends with its deploy',
    )
    .option('--force', 'stop the deploy that holds the lock (TERM on the host), then wait for it')
    .action((target: string, flags: Flags & { force?: boolean }) =>
      whileCtrlC(async (signal) => {
        const { results } = await forEachHost(
          target,
          flags,
          async (connection, host, manifest) => {
            const output = await runChecked(connection, unlockScript(manifest), 'reading the lock');
            if (output.startsWith('NONE STALE'))
              return 'not locked (removed the note of a deploy that was killed before it finished)';
            if (output.startsWith('NONE')) return 'not locked';
            const holder = parseHolder(output.split('\t')[1]!.trim());
            const who = `${holder.who ?? 'unknown'} (pid ${holder.pid ?? '?'}: ${holder.command ?? '?'})`;
            if (!flags.force || holder.hostPid === undefined) {
              throw new SvcError(
                `${host.name}: locked by ${who}, whose deploy is still running on the host${holder.hostPid === undefined ? '' : ` as pid ${holder.hostPid}; pass --force to stop it (it undoes its changes)`}`,
              );
            }
            // Ctrl-C while the lock was read: the stop was never asked, so it is not begun.
            if (signal.aborted)
              throw new SvcError(
                `${host.name}: interrupted before the stop was asked: its deploy goes on`,
                EXIT.interrupted,
              );
            const stopped = await runChecked(
              connection,
              stopHolderScript(manifest, holder.hostPid, holder.hostStart ?? '', localWho()),
              'stopping the lock holder',
              signal,
            );
            if (!stopped.startsWith('RELEASED'))
              throw new SvcError(
                `${host.name}: the deploy of ${who} still holds the lock after 60 s`,
              );
            return `stopped the deploy of ${who}; the lock is free`;
          },
          signal,
        );
        for (const result of results)
          if (result.ok) process.stdout.write(`${result.host.name}: ${result.value}\n`);
        process.exitCode = reportFailures(results);
      }),
    );
}

interface Holder {
  who?: string;
  pid?: number;
  command?: string;
  hostPid?: number;
  hostStart?: string;
}

/** The holder note: svc's JSON, then "PID START" of the deploy's shell on the host. */
function parseHolder(base64: string): Holder {
  const [json = '{}', hostLine = ''] = Buffer.from(base64, 'base64').toString('utf8').split('\n');
  let holder: Holder = {};
  try {
    holder = JSON.parse(json) as Holder;
  } catch {
    // An unreadable note still names the host-side process below.
  }
  const [pid, start] = hostLine.split(' ');
  if (pid && /^\d+$/.test(pid) && start && /^\d+$/.test(start))
    return { ...holder, hostPid: Number(pid), hostStart: start };
  return holder;
}
