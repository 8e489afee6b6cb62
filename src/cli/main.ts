// The entry point: one commander program, and the single top-level catch that turns errors into
// one line and an exit code. Exit codes: 0 ok, 1 error, 2 plan has changes (reserved),
// 130 interrupted.
import { Command, CommanderError } from 'commander';
import { EXIT, SvcError } from '../core/errors.js';
import { deployCommand } from './deploy.js';
import { execCommand } from './exec.js';
import { historyCommand } from './history.js';
import { hostsCommand } from './hosts.js';
import { secretsCommand } from './secrets.js';
import {
  controlCommand,
  logsCommand,
  releasesCommand,
  statusCommand,
  unlockCommand,
} from './lifecycle.js';
import { newCommand } from './new.js';
import { planCommand } from './plan.js';
import { rollbackCommand } from './rollback.js';
import { sandboxCommand } from './sandbox.js';
import { topCommand } from './top.js';
import { traceCommand } from './trace.js';
import { trustCommand } from './trust.js';
import { updateCommand } from './update.js';
import { SVC_VERSION } from './version.js';

const EXIT_CODES_HELP = `
Exit codes:
  0    success
  1    error (one line on stderr: svc: error: ...)
  2    reserved: the plan has changes (svc plan --detailed-exitcode)
  130  interrupted (Ctrl-C)

Environment:
  NO_COLOR   no colours in output
  SVC_DEBUG  1: print the stack of an error (like --verbose)`;

export function buildProgram(): Command {
  const program = new Command('svc')
    .description('scaffold services and deploy them to Linux hosts over SSH')
    .version(SVC_VERSION, '-V, --version', 'print the version')
    .option('--verbose', 'print more, including the stack of an error')
    .showSuggestionAfterError(true)
    .addHelpText(
      'after',
      `\nExamples:\n  $ svc new api-orders --yes\n  $ cd api-orders && svc sandbox up    a local test host of the kind svc.yaml needs (root)\n  $ svc deploy sandbox --yes\n  $ svc help new\n${EXIT_CODES_HELP}`,
    )
    .exitOverride()
    .configureOutput({ outputError: () => undefined });
  // Each command inherits exitOverride and the quiet error output: main's catch reports errors.
  for (const command of [
    newCommand(),
    updateCommand(),
    planCommand(),
    deployCommand(),
    statusCommand(),
    topCommand(),
    traceCommand(),
    controlCommand('start'),
    controlCommand('stop'),
    controlCommand('restart'),
    logsCommand(),
    execCommand(),
    releasesCommand(),
    historyCommand(),
    unlockCommand(),
    rollbackCommand(),
    trustCommand(),
    hostsCommand(),
    secretsCommand(),
  ]) {
    program.addCommand(command.copyInheritedSettings(program));
  }
  program.addCommand(sandboxCommand());
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
  try {
    await buildProgram().parseAsync([...argv], { from: 'user' });
    // Commands that decide their own code (plan's --detailed-exitcode) set process.exitCode.
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.ok;
  } catch (error) {
    return reportError(error, verbose);
  }
}
