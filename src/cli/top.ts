// `svc top TARGET`: the service on every host, refreshed in place (or --once, or --json for
// scripts). One connection per host for the whole run, one remote command per host per refresh
// (remote/top-hosts.ts); the sample is parsed and the table laid out in core (top-sample.ts,
// top-table.ts); ui/top-screen.ts owns the terminal.
import { resolve } from 'node:path';
import type { ReadStream, WriteStream } from 'node:tty';
import { Command } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import { resolveTarget } from '../core/targets.js';
import {
  silentLine,
  slotNotes,
  SORT_KEY_OF,
  SORT_KEYS,
  sortRows,
  topTable,
  type Silent,
  type SortKey,
} from '../core/top-table.js';
import { visible } from '../core/visible.js';
import { readManifestFile } from '../project/read.js';
import { sshOptions, targetContext, type ConnectFlags } from '../remote/run-context.js';
import { checkBareWords } from '../remote/target-words.js';
import { TopHosts } from '../remote/top-hosts.js';
import { TopScreen } from '../ui/top-screen.js';

interface Flags extends ConnectFlags {
  dir?: string;
  interval?: string;
  once?: boolean;
  json?: boolean;
  sort?: string;
}

function intervalMs(value: string | undefined): number {
  if (value === undefined) return 2000;
  const seconds = Number(value);
  if (!/^\d+(?:\.\d+)?$/.test(value) || seconds < 0.5 || seconds > 3600)
    throw new SvcError(
      `--interval: must be a number of seconds from 0.5 to 3600 (got ${JSON.stringify(value)})`,
    );
  return seconds * 1000;
}

function sortKey(value: string | undefined): SortKey {
  if (value === undefined) return 'cpu';
  if (!(SORT_KEYS as readonly string[]).includes(value))
    throw new SvcError(
      `--sort: must be one of ${SORT_KEYS.join(', ')} (got ${JSON.stringify(value)})`,
    );
  return value as SortKey;
}

function jsonDocument(top: TopHosts, sort: SortKey, silent: readonly Silent[]): string {
  return JSON.stringify({
    version: 1,
    at: new Date().toISOString(),
    sort,
    hosts: sortRows(top.rows(), sort),
    notAnswering: silent.map((s) => ({
      host: s.host,
      reason: s.reason,
      since: new Date(s.sinceMs).toISOString(),
    })),
  });
}

/** Sleeps until ms have passed or the run is stopped. */
function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((done) => {
    const timer = setTimeout(finish, ms);
    function finish() {
      clearTimeout(timer);
      signal.removeEventListener('abort', finish);
      done();
    }
    signal.addEventListener('abort', finish, { once: true });
  });
}

export function topCommand(): Command {
  return new Command('top')
    .description(
      'the service on every host, refreshed in place: state, pid, uptime, restarts, CPU, memory, threads, fds, connections, health, release',
    )
    .argument('<target>', 'hosts, as for svc plan')
    .option('--dir <dir>', 'the project directory (default: .)')
    .option('--accept-new', "record an unknown host's key in ~/.ssh/known_hosts")
    .option('--interval <seconds>', 'seconds between refreshes (default 2)')
    .option('--sort <key>', `the first sort: ${SORT_KEYS.join(', ')} (default cpu)`)
    .option('--once', 'print one table (or one JSON document) and exit')
    .option('--json', 'one JSON document per refresh, one line each')
    .addHelpText(
      'after',
      '\nKeys in the live view: c cpu, m mem, r restarts, h host (sort); q or Ctrl-C quits.',
    )
    .action(async (target: string, flags: Flags) => {
      const interval = intervalMs(flags.interval);
      let sort = sortKey(flags.sort);
      const manifest = readManifestFile(resolve(flags.dir ?? '.'));
      const ctx = targetContext(manifest);
      const hosts = resolveTarget(target, ctx);
      await checkBareWords(hosts, ctx);
      // A refresh's command may take the health check's 3 s and a slow host's more; it never
      // runs twice at once on a host, and past two intervals the host is named as not answering.
      const top = new TopHosts(
        hosts,
        manifest,
        sshOptions(flags, ctx, undefined),
        Math.max(10_000, 3 * interval),
      );
      const late = 2 * interval;
      try {
        if (flags.once) {
          // Bounded by the connect and command timeouts; this only keeps the timer valid.
          await top.refresh(600_000);
          const silent = top.silent(Date.now(), Number.MAX_SAFE_INTEGER);
          if (flags.json) process.stdout.write(`${jsonDocument(top, sort, silent)}\n`);
          else {
            const rows = top.rows();
            process.stdout.write(`${[...topTable(rows, sort), ...slotNotes(rows)].join('\n')}\n`);
          }
          for (const s of silent) process.stderr.write(`svc: error: ${s.host}: ${s.reason}\n`);
          process.exitCode = silent.length > 0 ? EXIT.error : EXIT.ok;
          return;
        }
        const stop = new AbortController();
        const quit = () => stop.abort();
        const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;
        for (const signal of signals) process.on(signal, quit);
        // A reader that went away (`svc top --json | head -1`) ends the run as q does.
        process.stdout.on('error', quit);
        const live = !flags.json && process.stdout.isTTY === true;
        const screen = live
          ? new TopScreen(
              process.stdout as WriteStream,
              process.stdin.isTTY ? (process.stdin as ReadStream) : undefined,
              (key) => {
                if (key === 'q' || key === '\u0003') quit();
                else if (SORT_KEY_OF[key] !== undefined) {
                  sort = SORT_KEY_OF[key];
                  draw();
                }
              },
            )
          : undefined;
        const draw = () => {
          const now = Date.now();
          const silent = top.silent(now, late);
          if (flags.json) {
            process.stdout.write(`${jsonDocument(top, sort, silent)}\n`);
            return;
          }
          const head = `svc top ${visible(target)}: every ${interval / 1000}s, sorted by ${sort} (c cpu, m mem, r restarts, h host; q quits)  ${new Date(now).toISOString().slice(11, 19)} UTC`;
          const rows = top.rows();
          const lines = [head, '', ...topTable(rows, sort), ...slotNotes(rows)];
          const bottom = silentLine(silent, now);
          if (screen) screen.draw(lines, bottom);
          else process.stdout.write(`${[...lines, ...(bottom ? [bottom] : []), ''].join('\n')}\n`);
        };
        const stopped = new Promise((done) =>
          stop.signal.addEventListener('abort', done, { once: true }),
        );
        screen?.enter();
        screen?.draw([`svc top ${visible(target)}: asking ${hosts.length} host(s)...`], undefined);
        try {
          // The first refresh waits for every host (each bounded by the connect and command
          // timeouts), so the first frame or document has them all; later ones one interval.
          let wait = 600_000;
          while (!stop.signal.aborted) {
            const began = Date.now();
            await Promise.race([top.refresh(wait), stopped]);
            if (stop.signal.aborted) break;
            draw();
            wait = interval;
            await pause(Math.max(0, interval - (Date.now() - began)), stop.signal);
          }
        } finally {
          screen?.leave();
          for (const signal of signals) process.off(signal, quit);
          process.stdout.off('error', quit);
        }
      } finally {
        top.close();
      }
    });
}
