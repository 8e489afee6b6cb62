// `svc exec TARGET [--host H] -- CMD ...`: CMD in the live release on each host, as the service
// user with the service's environment (core/exec-script.ts). One host with a terminal on stdin
// gets a pseudo-terminal (a REPL works) and the exit status as it is; several hosts run it side by
// side, each line of output prefixed `HOST | `, and the exit is 0 only when every one exited 0.
import { finished } from 'node:stream/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { connectProblem } from '../core/connect-problem.js';
import { EXIT, SvcError } from '../core/errors.js';
import { execScript } from '../core/exec-script.js';
import { resolveTarget, type HostSpec } from '../core/targets.js';
import { readManifestFile } from '../project/read.js';
import { mapLimit } from '../remote/plan-hosts.js';
import {
  parallelism,
  sshOptions,
  targetContext,
  type ConnectFlags,
} from '../remote/run-context.js';
import { ConnectionPool, type SessionOptions } from '../remote/ssh.js';
import { checkBareWords } from '../remote/target-words.js';
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
  const manifest = readManifestFile(resolve(flags.dir ?? '.'));
  const ctx = targetContext(manifest);
  const hosts = selectHosts(resolveTarget(target, ctx), flags.host);
  await checkBareWords(hosts, ctx);
  const single = hosts.length === 1;
  const interactive = single && process.stdin.isTTY === true;
  const pool = new ConnectionPool(sshOptions(flags, ctx, undefined));
  const controller = new AbortController();
  const interrupt = () => controller.abort();
  process.on('SIGINT', interrupt);
  // A reader that went away (`svc exec ... | head`) ends the command as Ctrl-C does.
  process.stdout.on('error', interrupt);
  try {
    const outcomes = await mapLimit(hosts, parallelism(flags.parallel), async (host) => {
      // After Ctrl-C no host is begun (as forEachHost): one would run to its end unasked.
      if (controller.signal.aborted) return NOT_STARTED(host.name);
      const prefixed = !single;
      const stdout = prefixed ? new PrefixedLines(`${host.name} | `) : undefined;
      const stderr = prefixed ? new PrefixedLines(`${host.name} | `) : undefined;
      if (stdout) writeThrough(stdout, process.stdout);
      if (stderr) writeThrough(stderr, process.stderr);
      try {
        const connection = await pool.get(host);
        // Ctrl-C while it connected: not begun either.
        if (controller.signal.aborted) return NOT_STARTED(host.name);
        const options: SessionOptions = {
          stdout: stdout ?? process.stdout,
          stderr: stderr ?? process.stderr,
          signal: controller.signal,
          // Only one host reads what is typed or piped; several would race for it.
          ...(single && { stdin: process.stdin }),
          ...(interactive && {
            pty: {
              term: process.env.TERM || 'xterm',
              size: () => ({
                rows: process.stdout.rows || 24,
                cols: process.stdout.columns || 80,
              }),
              resizeEvents: process.stdout,
            },
          }),
        };
        if (interactive) process.stdin.setRawMode(true);
        try {
          const code = await connection.session(
            execScript(manifest, argv, { term: interactive }),
            options,
          );
          return { host: host.name, code };
        } finally {
          // Done with stdin: a terminal is given back as it was; a pipe is let go, so that
          // svc can end while its writer keeps it open.
          if (interactive) {
            process.stdin.setRawMode(false);
            process.stdin.pause();
          } else if (single) process.stdin.destroy();
        }
      } catch (error) {
        if (!(error instanceof SvcError)) throw error;
        const problem = connectProblem(error.message);
        return {
          host: host.name,
          code: EXEC_NOT_RUN,
          error:
            problem === undefined
              ? error.message.replace(`${host.name}: `, '')
              : `${host.address}:${host.port}: ${problem}`,
        };
      } finally {
        for (const stream of [stdout, stderr]) {
          if (!stream) continue;
          stream.end();
          await finished(stream).catch(() => undefined);
        }
      }
    });
    const { code, lines } = execResult(outcomes);
    for (const line of lines) process.stderr.write(`svc: error: ${line}\n`);
    for (const outcome of outcomes)
      if (outcome.notStarted) process.stderr.write(`svc: ${outcome.host}: ${outcome.error}\n`);
    return code;
  } finally {
    process.off('SIGINT', interrupt);
    process.stdout.off('error', interrupt);
    await pool.closeAll();
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
