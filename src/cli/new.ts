// `svc new NAME`: validate the name and flags, ask what is left, render, write. Every check
// happens before the first byte is written, so an error leaves nothing behind.
import { Command, Option } from 'commander';
import { resolve, relative } from 'node:path';
import { SvcError } from '../core/errors.js';
import { CUTOVERS, type Cutover } from '../core/cutover.js';
import { INIT_SYSTEMS, RUNTIMES, type Manifest } from '../core/manifest.js';
import { checkServiceName, type Kind } from '../core/naming.js';
import {
  checkTextFlag,
  parseEnvFlags,
  parseInitFlag,
  parsePortFlag,
  parseRuntimeFlag,
  parseSecretFlags,
  QUESTION_FLAGS,
  questionsFor,
  type GivenAnswers,
  type QuestionId,
} from '../scaffold/answers.js';
import { manifestFromAnswers, projectFiles, secretValuesOf } from '../scaffold/project.js';
import type { Prompter } from '../scaffold/prompter.js';
import { renderProject, type RenderedFile } from '../scaffold/render.js';
import { collectAnswers } from '../scaffold/wizard.js';
import { newRecordFiles, RECORD_NOTE } from '../scaffold/record.js';
import type { SecretInput } from '../ui/secret-input.js';
import { checkTarget, writeProject } from '../scaffold/write.js';
import { palette, colorEnabled } from '../ui/color.js';
import { svcCommand } from './invoked-as.js';
import { SVC_VERSION } from './version.js';

export interface NewFlags {
  description?: string;
  port?: string;
  health?: string;
  runtime?: string;
  init?: string;
  monit?: boolean;
  alert?: string;
  cutover?: string;
  user?: string;
  env?: string[];
  secret?: string[];
  dir?: string;
  yes?: boolean;
  force?: boolean;
  dryRun?: boolean;
}

export interface NewIo {
  cwd: string;
  out: NodeJS.WriteStream;
  /** Absent when stdin or stdout is not a terminal. */
  prompter?: Prompter;
  /** Where `--secret KEY` (no `=VALUE`) values come from; absent: such a flag is refused. */
  secretInput?: SecretInput;
}

/** Flags -> answers already given, each checked with the rule its question uses. */
export function givenFromFlags(flags: NewFlags): GivenAnswers {
  const given: GivenAnswers = {};
  if (flags.description !== undefined)
    given.description = checkTextFlag('--description', 'description', flags.description);
  if (flags.port !== undefined) given.port = parsePortFlag(flags.port);
  if (flags.health !== undefined) given.health = checkTextFlag('--health', 'health', flags.health);
  if (flags.runtime !== undefined) given.runtime = parseRuntimeFlag(flags.runtime);
  if (flags.init !== undefined) given.init = parseInitFlag(flags.init);
  if (flags.monit !== undefined) given.monit = flags.monit;
  if (flags.user !== undefined) given.user = checkTextFlag('--user', 'user', flags.user);
  if (flags.env !== undefined) given.env = parseEnvFlags(flags.env);
  return given;
}

/** A flag for a question this kind never asks is a mistake worth saying, not ignoring. */
export function refuseInapplicableFlags(kind: Kind, given: GivenAnswers): void {
  const applicable = new Set(questionsFor(kind, given.runtime));
  for (const id of Object.keys(given) as QuestionId[]) {
    if (applicable.has(id)) continue;
    const why =
      id === 'init'
        ? 'a static site runs no process (nginx serves it)'
        : `not asked for a ${kind}- project`;
    throw new SvcError(`${QUESTION_FLAGS[id]}: ${why}`);
  }
  if (given.init === 'monit' && given.monit === false) {
    throw new SvcError('--no-monit: with --init monit, the monit check is what starts the service');
  }
}

/** `--secret KEY` needs somewhere to read from; stdin holds one value only. */
function checkSecretInput(keys: readonly string[], input: SecretInput | undefined): void {
  if (keys.length === 0) return;
  if (input === undefined)
    throw new SvcError(`--secret: ${keys[0]} has no value; give it as KEY=VALUE`);
  if (!input.terminal && keys.length > 1)
    throw new SvcError(
      `--secret: ${keys.join(', ')} all want a value from stdin, which holds one; give one KEY alone per run, or run on a terminal`,
    );
}

/**
 * --cutover switch: only for a process that answers HTTP (api-, node www-); under every init
 * system, with or without monit (core/cutover-slots.ts). Checked before any question is asked.
 */
export function cutoverFlag(kind: Kind, given: GivenAnswers, flags: NewFlags): Cutover | undefined {
  if (flags.cutover === undefined) return undefined;
  if (!(CUTOVERS as readonly string[]).includes(flags.cutover))
    throw new SvcError(`--cutover: must be one of ${CUTOVERS.join(', ')}`);
  const cutover = flags.cutover as Cutover;
  if (cutover === 'restart') return cutover;
  if (kind === 'service' || given.runtime === 'static')
    throw new SvcError(
      '--cutover switch: needs a process that answers HTTP (api-, or www- --runtime node)',
    );
  if (kind === 'www' && given.runtime === undefined)
    throw new SvcError(
      '--cutover switch: give --runtime node too (a static site has no process to switch)',
    );
  return cutover;
}

function describeFiles(dir: string, files: readonly RenderedFile[]): string[] {
  return files.map((file) => `  ${file.mode.toString(8).padStart(4, '0')}  ${file.path}`);
}

export async function runNew(name: string, flags: NewFlags, io: NewIo): Promise<void> {
  const checked = checkServiceName(name);
  if (!checked.ok) throw new SvcError(checked.message);
  const given = givenFromFlags(flags);
  refuseInapplicableFlags(checked.kind, given);
  const alert =
    flags.alert === undefined ? undefined : checkTextFlag('--alert', 'alert', flags.alert);
  if (alert !== undefined && given.monit === false)
    throw new SvcError('--alert: monit sends the alerts; it cannot go with --no-monit');
  const secretFlags = parseSecretFlags(flags.secret ?? []);
  checkSecretInput(secretFlags.toRead, io.secretInput);
  const cutover = cutoverFlag(checked.kind, given, flags);
  const dir = resolve(io.cwd, flags.dir ?? name);
  const shownDir = relative(io.cwd, dir) || '.';
  const state = checkTarget(dir, flags.force === true);

  const answers = await collectAnswers({
    name,
    kind: checked.kind,
    given,
    yes: flags.yes === true,
    prompter: io.prompter,
  });
  // A dry run writes no value, so it reads none (no prompt, stdin left alone).
  const read: Record<string, string> = {};
  for (const key of secretFlags.toRead)
    read[key] = flags.dryRun ? '' : await io.secretInput!.read(key);
  const extra = {
    alert,
    ...(cutover !== undefined && { cutover }),
    ...(flags.secret !== undefined && {
      secrets: Object.fromEntries(
        secretFlags.order.map((key) => [key, read[key] ?? secretFlags.given[key]!]),
      ),
    }),
  };
  const manifest = manifestFromAnswers(answers, SVC_VERSION, extra);
  const files = renderProject(manifest, projectFiles(manifest), secretValuesOf(answers, extra));
  const record = newRecordFiles(manifest, SVC_VERSION); // for svc update: scaffold/record.ts
  const paint = palette(colorEnabled(io.out));

  if (flags.dryRun) {
    io.out.write(
      `${paint.bold(`Would write ${files.length} files to ${shownDir}/`)} (dry run, nothing written):\n`,
    );
    io.out.write(describeFiles(dir, files).join('\n') + '\n');
    io.out.write(RECORD_NOTE + whereValuesGo(manifest));
    return;
  }
  // listr2 and inquirer load only when used: they are a third of svc's start-up time.
  const { runSteps } = await import('../ui/progress.js');
  await runSteps([
    {
      title: `Write ${files.length} files to ${shownDir}/`,
      run: () => writeProject(dir, [...files, ...record], state),
    },
  ]);
  io.out.write(`${paint.green('Created')} ${paint.bold(name)} in ${shownDir}/:\n`);
  io.out.write(describeFiles(dir, files).join('\n') + '\n');
  io.out.write(RECORD_NOTE + whereValuesGo(manifest));
  const svc = svcCommand(dir);
  io.out.write(
    `\nNext: cd ${shownDir} && ${svc} plan HOST\n` +
      `  or try it on a local test host (root): cd ${shownDir} && ${svc} sandbox up && ${svc} deploy sandbox --yes\n`,
  );
}

/**
 * Which --env/--secret keys went where (names only): svc.yaml is committed and ships in every
 * release, the secrets file is neither, and the user should know which is which.
 */
function whereValuesGo(manifest: Manifest): string {
  const plain = Object.keys(manifest.env);
  const secret = manifest.secrets ?? [];
  const lines = [
    ...(plain.length > 0
      ? [`Values in svc.yaml env: (committed, shipped in each release): ${plain.join(', ')}`]
      : []),
    ...(secret.length > 0
      ? [`Secrets in .svc/secrets/default (0600, git-ignored): ${secret.join(', ')}`]
      : []),
  ];
  return lines.length > 0 ? `\n${lines.join('\n')}\n` : '';
}

const EXAMPLES = `
Examples:
  $ svc new api-orders                      ask, then write ./api-orders/
  $ svc new api-orders --yes                take every default
  $ svc new www-shop --runtime static --port 8080 --yes
  $ svc new service-mailer --init openrc --no-monit --env QUEUE=mail --yes
  $ svc new api-orders --yes --secret DB_PASSWORD
                                            ask for its value (not shown)
  $ svc new api-orders --yes --dry-run      list the files, write nothing`;

export function newCommand(): Command {
  return new Command('new')
    .description(
      "scaffold a www-, api- or service- project whose config/ is laid over the host's /",
    )
    .argument('<name>', 'service name: www-NAME, api-NAME or service-NAME')
    .option('--description <text>', 'one line saying what the service does')
    .option('--port <port>', 'port it listens on (api-: 3000, www-: 8080)')
    .option('--health <path>', 'health check path', undefined)
    .addOption(
      new Option('--runtime <runtime>', 'www- only: static files or a node server').choices(
        RUNTIMES,
      ),
    )
    .addOption(new Option('--init <system>', 'init system on the hosts').choices(INIT_SYSTEMS))
    .option('--monit', 'add a monit check (default)')
    .option('--no-monit', 'no monit check')
    .option('--alert <email>', "where monit sends this service's alerts (svc.yaml alert:)")
    .option(
      '--cutover <how>',
      'switch (default for api- and node www-: nginx in front, two slots, a health-gated switch) or restart (in place)',
    )
    .option('--user <user>', 'Linux user the service runs as (default: NAME)')
    .option(
      '--env <KEY=VALUE>',
      'environment variable (svc.yaml env:, or secrets: when the key looks secret; a value on ' +
        'the command line is visible to other local users: use --secret KEY for secrets); repeat for more',
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option(
      '--secret <KEY[=VALUE]>',
      'a secret: KEY in svc.yaml secrets:, its value in .svc/secrets/default (0600); KEY alone ' +
        'reads the value from a hidden prompt, or from stdin when not a terminal (KEY=VALUE is ' +
        "visible to other local users in ps and stays in your shell's history); repeat for more",
      (value: string, previous: string[] = []) => [...previous, value],
    )
    .option('--dir <dir>', 'where to write the project (default: ./NAME)')
    .option('-y, --yes', 'take the defaults for everything not given as a flag')
    .option('--force', 'write into a non-empty directory, replacing files of the same name')
    .option('--dry-run', 'list every file and its mode; write nothing')
    .addHelpText('after', EXAMPLES)
    .action(async (name: string, flags: NewFlags) => {
      const interactive = process.stdin.isTTY === true && process.stdout.isTTY === true;
      await runNew(name, flags, {
        cwd: process.cwd(),
        out: process.stdout,
        prompter: interactive ? (await import('../ui/inquirer.js')).terminalPrompter() : undefined,
        secretInput: (await import('../ui/secret-input.js')).processSecretInput(),
      });
    });
}
