// The entry point: one commander program, and the single top-level catch that turns errors into
// one line and an exit code. Exit codes: 0 ok, 1 error, 2 plan has changes (reserved),
// 130 interrupted.
//
// Start-up: only the command that runs is imported (scripts/bundle.mjs splits the bundle at each
// `import()` below). The others are stand-ins holding just the line `svc --help` prints for them,
// so `svc --version` and `svc --help` load commander and this file, not ssh2, zod or yaml.
import { Command, CommanderError, Help } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import { watchClosedOutput } from '../ui/closed-output.js';
import { SVC_VERSION } from './version.js';

export interface CommandEntry {
  /** The command's line in `svc --help`: name, [options], arguments, as commander prints it. */
  term: string;
  /** Its description, as in its own definition. */
  summary: string;
  /** Imports the command's module and builds its definition. */
  load: () => Promise<Command>;
}

/**
 * Every command, in `svc --help` order. To add one, add its entry here: term and summary as its
 * definition says (test/unit/cli-commands.test.ts compares them), and `load` importing its module.
 */
export const COMMANDS: readonly CommandEntry[] = [
  {
    term: 'new [options] <name>',
    summary: "scaffold a www-, api- or service- project whose config/ is laid over the host's /",
    load: async () => (await import('./new.js')).newCommand(),
  },
  {
    term: 'update [options]',
    summary: "merge svc's current scaffold into a project made by svc new, keeping your edits",
    load: async () => (await import('./update.js')).updateCommand(),
  },
  {
    term: 'plan [options] <target>',
    summary: "show what svc deploy would change on each host, read from the host's real state",
    load: async () => (await import('./plan.js')).planCommand(),
  },
  {
    term: 'deploy [options] <target>',
    summary:
      'apply the plan: layout, release, config overlay, service, health-gated cutover with rollback',
    load: async () => (await import('./deploy.js')).deployCommand(),
  },
  {
    term: 'status [options] <target>',
    summary: 'per host: release, running or not, pid, uptime, health check, monit, last deploy',
    load: async () => (await import('./lifecycle.js')).statusCommand(),
  },
  {
    term: 'top [options] <target>',
    summary:
      'the service on every host, refreshed in place: state, pid, uptime, restarts, CPU, memory, threads, fds, connections, health, release',
    load: async () => (await import('./top.js')).topCommand(),
  },
  {
    term: 'trace [options] <target>',
    summary:
      "attach a tracer to the service's processes for a few seconds: system calls (count, errors, time), what it waits on, the files and sockets it uses",
    load: async () => (await import('./trace.js')).traceCommand(),
  },
  {
    term: 'start [options] <target>',
    summary:
      "start the service, through the host's init system (or monit, when it watches the service)",
    load: async () => (await import('./lifecycle.js')).controlCommand('start'),
  },
  {
    term: 'stop [options] <target>',
    summary:
      "stop the service: TERM, the stop timeout, then KILL, through the host's init system (or monit, when it watches the service)",
    load: async () => (await import('./lifecycle.js')).controlCommand('stop'),
  },
  {
    term: 'restart [options] <target>',
    summary:
      "restart the service, through the host's init system (or monit, when it watches the service)",
    load: async () => (await import('./lifecycle.js')).controlCommand('restart'),
  },
  {
    term: 'logs [options] <target>',
    summary:
      'the service log from /var/log/NAME on each host, read as the service user (a link there is refused)',
    load: async () => (await import('./lifecycle.js')).logsCommand(),
  },
  {
    term: 'exec [options] <target> <command...>',
    summary:
      "run a command in the live release (current) as the service user with the service's environment; its exit status is svc's",
    load: async () => (await import('./exec.js')).execCommand(),
  },
  {
    term: 'releases [options] <target>',
    summary: 'the releases on each host, oldest first: current, good or bad',
    load: async () => (await import('./lifecycle.js')).releasesCommand(),
  },
  {
    term: 'history [options] <target>',
    summary:
      'what was done to the service on each host (deploy, rollback, start, stop, restart, unlock --force), merged by time',
    load: async () => (await import('./history.js')).historyCommand(),
  },
  {
    term: 'unlock [options] <target>',
    summary:
      'show who holds the deploy lock; --force stops that deploy (it undoes its changes). A lock is never left behind: it ends with its deploy',
    load: async () => (await import('./lifecycle.js')).unlockCommand(),
  },
  {
    term: 'rollback [options] <target>',
    summary:
      'go back to the newest release that was live and healthy on every host (or --to ID), health-gated like deploy',
    load: async () => (await import('./rollback.js')).rollbackCommand(),
  },
  {
    term: 'trust [options] <target>',
    summary: "show a host's key fingerprint and record it in ~/.ssh/known_hosts",
    load: async () => (await import('./trust.js')).trustCommand(),
  },
  {
    term: 'hosts [options] [target]',
    summary: 'list the hosts a TARGET names: address, user, port, identity files, jump host',
    load: async () => (await import('./hosts.js')).hostsCommand(),
  },
  {
    term: 'secrets [options] <target>',
    summary: 'list each secret per environment and the source it resolves from (never the value)',
    load: async () => (await import('./secrets.js')).secretsCommand(),
  },
  {
    term: 'sandbox',
    summary: 'local test hosts with a real sshd and monit (root; network and mount namespaces)',
    load: async () => (await import('./sandbox.js')).sandboxCommand(),
  },
];

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    error (one line on stderr: svc: error: ...)
  2    reserved: the plan has changes (svc plan --detailed-exitcode)
  130  interrupted (Ctrl-C)
  141  the reader of the output went away (svc ... | head)

Environment:
  NO_COLOR   no colours in output
  SVC_DEBUG  1: print the stack of an error (like --verbose)`;

/** A command's name and its alias, if any (`name|alias` in its term, as commander prints it). */
const namesOf = (entry: CommandEntry): string[] => (entry.term.split(' ')[0] ?? '').split('|');

/**
 * The command an argument list runs (`svc [--verbose] NAME ...`, or `svc help NAME`): the first
 * word that is not an option, since svc's own options take no value. Undefined for none.
 */
export function commandWord(argv: readonly string[]): string | undefined {
  const words = argv.filter((arg) => !arg.startsWith('-'));
  return words[0] === 'help' ? words[1] : words[0];
}

/** The program, with the command `argv` runs loaded and every other one a stand-in. */
export async function buildProgram(argv: readonly string[] = []): Promise<Command> {
  const stubTerms = new WeakMap<Command, string>();
  const defaultHelp = new Help();
  const program = new Command('svc')
    .description('scaffold services and deploy them to Linux hosts over SSH')
    .version(SVC_VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'print more, including the stack of an error')
    .showSuggestionAfterError(true)
    .configureHelp({
      subcommandTerm: (command) => stubTerms.get(command) ?? defaultHelp.subcommandTerm(command),
    })
    .addHelpText(
      'after',
      `\nExamples:\n  $ svc new api-orders --yes\n  $ cd api-orders && svc sandbox up    a local test host of the kind svc.yaml needs (root)\n  $ svc deploy sandbox --yes\n  $ svc help new\n${EXIT_CODES_HELP}`,
    )
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  const word = commandWord(argv);
  for (const entry of COMMANDS) {
    const [name = '', ...aliases] = namesOf(entry);
    if (word === undefined || ![name, ...aliases].includes(word)) {
      const stub = new Command(name).aliases(aliases).description(entry.summary);
      stubTerms.set(stub, entry.term);
      program.addCommand(stub);
      continue;
    }
    const command = await entry.load();
    // Each command inherits exitOverride and the quiet error output (main's catch reports errors);
    // one with subcommands (sandbox) sets them on each itself, which copying here would not reach.
    program.addCommand(
      command.commands.length > 0 ? command : command.copyInheritedSettings(program),
    );
  }
  return program;
}

function oneLine(message: string): string {
  return message
    .replace(/^error: /, '')
    .split('\n')
    .map((line) => line.trim())
    .filter(Boolean)
    .join(' ');
}

export function reportError(
  error: unknown,
  verbose: boolean,
  stderr: NodeJS.WritableStream = process.stderr,
): number {
  if (error instanceof CommanderError) {
    if (error.exitCode === 0) return EXIT.ok; // --help, --version
    stderr.write(`svc: error: ${oneLine(error.message)}\n`);
    return EXIT.error;
  }
  if (error instanceof SvcError) {
    if (error.exitCode === EXIT.interrupted) stderr.write('svc: interrupted\n');
    else for (const line of error.message.split('\n')) stderr.write(`svc: error: ${line}\n`);
    if (verbose && error.stack) stderr.write(`${error.stack}\n`);
    return error.exitCode;
  }
  const message = error instanceof Error ? error.message : String(error);
  stderr.write(
    `svc: internal error: ${oneLine(message)}${verbose ? '' : ' (run with --verbose for the stack)'}\n`,
  );
  if (verbose && error instanceof Error && error.stack) stderr.write(`${error.stack}\n`);
  return EXIT.error;
}

export async function main(argv: readonly string[]): Promise<number> {
  const verbose = argv.includes('--verbose') || process.env.SVC_DEBUG === '1';
  // Before anything is written: `svc ... | head` must not end svc half way (ui/closed-output.ts).
  const output = watchClosedOutput();
  let code: number;
  try {
    await (await buildProgram(argv)).parseAsync([...argv], { from: 'user' });
    // Commands that decide their own code (plan's --detailed-exitcode) set process.exitCode.
    code = typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    code = reportError(error, verbose);
  }
  // A failed write is reported on a later tick than the write: let the last one's arrive.
  await new Promise((resolve) => setImmediate(resolve));
  return output.exitCode(code);
}
