// `svc exec TARGET [--host H] -- CMD ...`: CMD in the live release on each host, as the service
// user with the service's environment (core/exec-script.ts). One host with a terminal on stdin
// gets a pseudo-terminal (a REPL works) and the exit status as it is; several hosts run it side by
// side, each line of output prefixed `HOST | `, and the exit is 0 only when every one exited 0.
import { finished } from 'node:stream/promises';
import { Command } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import { execScript } from '../core/exec-script.js';
import type { HostSpec } from '../core/targets.js';
import { whileCtrlC } from '../remote/ctrl-c.js';
import { onEachHost, targetHosts } from '../remote/each-host.js';
import { sshOptions, type ConnectFlags } from '../remote/run-context.js';
import type { HostConnection, SessionOptions } from '../remote/ssh.js';
import { PrefixedLines, writeThrough } from '../ui/prefixed-lines.js';

interface ExecFlags extends ConnectFlags {
  host?: string;
  dir?: string;
  parallel?: string;
}

/** svc could not run the command on the host (connection, host key, sudo): ssh's 255. */
export const EXEC_NOT_RUN = 255;

/** notStarted: Ctrl-C came before the host's command began, so it was never begun. */
export type ExecOutcome = { host: string; code: number; error?: string; notStarted?: true };

const NOT_STARTED = (host: string): ExecOutcome => ({
  host,
  code: EXIT.interrupted,
  error: 'not started: interrupted',
  notStarted: true,
});

/** The hosts TARGET names, or only --host among them. */
export function selectHosts(hosts: readonly HostSpec[], only: string | undefined): HostSpec[] {
  if (only === undefined) return [...hosts];
  const chosen = hosts.filter((host) => host.name === only);
  if (chosen.length === 0)
    throw new SvcError(
      `--host: ${only} is not one of the target's hosts (${hosts.map((host) => host.name).join(', ')})`,
    );
  return chosen;
}

/** What the run exits with, and the line for each host whose command failed. */
export function execResult(outcomes: readonly ExecOutcome[]): { code: number; lines: string[] } {
  const lines = outcomes.flatMap((outcome) =>
    outcome.notStarted
      ? []
      : outcome.error !== undefined
        ? [`${outcome.host}: ${outcome.error}`]
        : outcome.code !== 0
          ? [`${outcome.host}: exited with status ${outcome.code}`]
          : [],
  );
  if (outcomes.length === 1) {
    // One host: its status as it is (a REPL's, a script's); svc's own failure is 255.
    const [only] = outcomes;
    return {
      code: only!.notStarted
        ? EXIT.interrupted
        : only!.error !== undefined
          ? EXEC_NOT_RUN
          : only!.code,
      lines: only!.error !== undefined ? lines : [],
    };
  }
  // Ctrl-C kept some host from starting: the run was interrupted (130), whatever the others said.
  if (outcomes.some((outcome) => outcome.notStarted)) return { code: EXIT.interrupted, lines };
  return { code: lines.length > 0 ? EXIT.error : EXIT.ok, lines };
}

async function runExec(target: string, argv: string[], flags: ExecFlags): Promise<number> {
  const { manifest, ctx, hosts } = await targetHosts(target, flags, (all) =>
    selectHosts(all, flags.host),
  );
  const single = hosts.length === 1;
  const interactive = single && process.stdin.isTTY === true;
  // A reader that went away (`svc exec ... | head`) ends the command as Ctrl-C does.
  const results = await whileCtrlC(
    (signal) =>
      onEachHost(hosts, sshOptions(flags, ctx, undefined), flags.parallel, {
        work: (connection, host) =>
          execOn(connection, host, {
            script: execScript(manifest, argv, { term: interactive }),
            single,
            interactive,
            signal,
          }),
        signal,
      }),
    [[process.stdout, 'error']],
  );
  const outcomes = results.map((result): ExecOutcome => {
    if (result.ok) return { host: result.host.name, code: result.value };
    if (result.notStarted) return NOT_STARTED(result.host.name);
    return { host: result.host.name, code: EXEC_NOT_RUN, error: result.error };
  });
  const { code, lines } = execResult(outcomes);
  for (const line of lines) process.stderr.write(`svc: error: ${line}\n`);
  for (const outcome of outcomes)
    if (outcome.notStarted) process.stderr.write(`svc: ${outcome.host}: ${outcome.error}\n`);
  return code;
}

/**
 * The command on one host, its exit status: alone, with svc's own stdin, stdout and stderr (a
 * terminal gets a pty); beside others, without stdin, each output line prefixed `HOST | `.
 */
async function execOn(
  connection: HostConnection,
  host: HostSpec,
  run: { script: string; single: boolean; interactive: boolean; signal: AbortSignal },
): Promise<number> {
  const { script, single, interactive, signal } = run;
  const stdout = single ? undefined : new PrefixedLines(`${host.name} | `);
  const stderr = single ? undefined : new PrefixedLines(`${host.name} | `);
  if (stdout) writeThrough(stdout, process.stdout);
  if (stderr) writeThrough(stderr, process.stderr);
  const options: SessionOptions = {
    stdout: stdout ?? process.stdout,
    stderr: stderr ?? process.stderr,
    signal,
    // Only one host reads what is typed or piped; several would race for it.
    ...(single && { stdin: process.stdin }),
    ...(interactive && {
      pty: {
        term: process.env.TERM || 'xterm',
        size: () => ({ rows: process.stdout.rows || 24, cols: process.stdout.columns || 80 }),
        resizeEvents: process.stdout,
      },
    }),
  };
  if (interactive) process.stdin.setRawMode(true);
  try {
    return await connection.session(script, options);
  } finally {
    // Done with stdin: a terminal is given back as it was; a pipe is let go, so that svc can end
    // while its writer keeps it open.
    if (interactive) {
      process.stdin.setRawMode(false);
      process.stdin.pause();
    } else if (single) process.stdin.destroy();
    for (const stream of [stdout, stderr]) {
      if (!stream) continue;
      stream.end();
      await finished(stream).catch(() => undefined);
    }
  }
}

const EXAMPLES = `
Examples:
  $ svc exec sandbox -- node -e 'console.log(process.env.NODE_ENV)'
  $ svc exec web --host web1 -- node            a REPL, on a terminal
  $ svc exec web -- ls -la                      every host, output prefixed "HOST | "`;

export function execCommand(): Command {
  return new Command('exec')
    .description(
      "run a command in the live release (current) as the service user with the service's environment; its exit status is svc's",
    )
    .argument('<target>', 'hosts, as for svc plan')
    .argument('<command...>', 'the command and its arguments, after --')
    .option('--host <name>', "only this one of the target's hosts")
    .option('--dir <dir>', 'the project directory (default: .)')
    .option('--parallel <n>', 'hosts at once (default 10)')
    .option('--accept-new', "record an unknown host's key in ~/.ssh/known_hosts")
    .addHelpText('after', EXAMPLES)
    .action(async (target: string, argv: string[], flags: ExecFlags) => {
      process.exitCode = await runExec(target, argv, flags);
    });
}
