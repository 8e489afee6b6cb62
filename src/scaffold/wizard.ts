// `svc new`'s questions. Each answer comes from a flag, from --yes (the default), or from the
// prompter, in that order. Without a prompter (no terminal) and without --yes, it refuses before
// asking anything rather than hang on a prompt nobody can see.
import { SvcError } from '../core/errors.js';
import { fieldProblem, INIT_SYSTEMS, type InitSystem, type Runtime } from '../core/manifest.js';
import type { Kind } from '../core/naming.js';
import {
  DEFAULT_PORT,
  defaultDescription,
  parseEnvAssignment,
  QUESTION_FLAGS,
  questionsFor,
  type Answers,
  type GivenAnswers,
  type QuestionId,
} from './answers.js';
import type { Prompter } from './prompter.js';

export interface WizardContext {
  name: string;
  kind: Kind;
  given: GivenAnswers;
  /** Take the default for every question no flag answered. */
  yes: boolean;
  /** Absent when there is no terminal to ask on. */
  prompter?: Prompter;
}

const INIT_DESCRIPTIONS: Record<InitSystem, string> = {
  systemd: 'a systemd unit (most current distributions)',
  openrc: 'an OpenRC script in /etc/init.d (Alpine, Gentoo, Devuan)',
  upstart: 'an upstart job in /etc/init (older Ubuntu)',
  monit: 'monit alone starts and stops it through start-stop-daemon',
};

const asValidator = (field: 'description' | 'health' | 'user') => (value: string) => {
  const problem = fieldProblem(field, value);
  return problem === undefined ? true : problem;
};

function validatePort(value: string): true | string {
  const problem = fieldProblem('port', /^\d+$/.test(value) ? Number(value) : NaN);
  return problem === undefined ? true : problem;
}

async function askEnv(prompter: Prompter): Promise<Record<string, string>> {
  const env: Record<string, string> = {};
  for (;;) {
    const line = await prompter.input({
      message: 'Environment variable KEY=VALUE (empty to finish)',
      validate: (value) => {
        if (value === '') return true;
        const parsed = parseEnvAssignment(value);
        return typeof parsed === 'string' ? parsed : true;
      },
    });
    if (line === '') return env;
    const [key, value] = parseEnvAssignment(line) as [string, string];
    env[key] = value;
  }
}

interface Defaults {
  description: string;
  runtime: Runtime;
  port: number | undefined;
  health: string;
  init: InitSystem;
  monit: boolean;
  user: string;
  env: Record<string, string>;
}

function defaultsFor(name: string, kind: Kind): Defaults {
  return {
    description: defaultDescription(name, kind),
    runtime: kind === 'www' ? 'static' : 'node',
    port: DEFAULT_PORT[kind],
    health: '/ok',
    init: 'systemd',
    monit: true,
    user: name,
    env: {},
  };
}

async function ask(id: QuestionId, prompter: Prompter, defaults: Defaults): Promise<unknown> {
  switch (id) {
    case 'description':
      return prompter.input({
        message: 'Description',
        default: defaults.description,
        validate: asValidator('description'),
      });
    case 'runtime':
      return prompter.select<Runtime>({
        message: 'Runtime',
        choices: [
          { value: 'static', description: 'files in public/, served by nginx' },
          { value: 'node', description: 'a Node.js server' },
        ],
        default: defaults.runtime,
      });
    case 'port':
      return Number(
        await prompter.input({
          message: 'Port',
          default: String(defaults.port),
          validate: validatePort,
        }),
      );
    case 'health':
      return prompter.input({
        message: 'Health check path',
        default: defaults.health,
        validate: asValidator('health'),
      });
    case 'init':
      return prompter.select<InitSystem>({
        message: 'Init system',
        choices: INIT_SYSTEMS.map((value) => ({ value, description: INIT_DESCRIPTIONS[value] })),
        default: defaults.init,
      });
    case 'monit':
      return prompter.confirm({ message: 'Add a monit check?', default: defaults.monit });
    case 'user':
      return prompter.input({
        message: 'Service user',
        default: defaults.user,
        validate: asValidator('user'),
      });
    case 'env':
      return askEnv(prompter);
  }
}

/** Collects every answer for a new project; asks only what flags did not decide. */
export async function collectAnswers(ctx: WizardContext): Promise<Answers> {
  const defaults = defaultsFor(ctx.name, ctx.kind);
  const decided: Record<string, unknown> = { ...ctx.given };
  const open = (runtime: Runtime | undefined) =>
    questionsFor(ctx.kind, runtime).filter((id) => decided[id] === undefined);

  if (!ctx.yes && ctx.prompter === undefined) {
    const missing = open(ctx.given.runtime);
    if (missing.length > 0) {
      const flags = missing.map((id) => QUESTION_FLAGS[id]).join(', ');
      throw new SvcError(
        `no terminal to ask on: pass --yes to take the defaults, or answer with ${flags}`,
      );
    }
  }
  // The runtime decides which later questions exist, so the list is recomputed after each answer.
  for (let id = nextOpen(open, decided); id !== undefined; id = nextOpen(open, decided)) {
    decided[id] =
      ctx.yes || ctx.prompter === undefined ? defaults[id] : await ask(id, ctx.prompter, defaults);
    // Under init monit, monit is what starts the service: its check is not optional.
    if (decided.init === 'monit' && decided.monit === undefined) decided.monit = true;
  }
  return assembleAnswers(ctx.name, ctx.kind, decided as Partial<Defaults>);
}

function nextOpen(
  open: (runtime: Runtime | undefined) => QuestionId[],
  decided: Record<string, unknown>,
) {
  return open(decided.runtime as Runtime | undefined)[0];
}

function assembleAnswers(name: string, kind: Kind, decided: Partial<Defaults>): Answers {
  const runtime = decided.runtime ?? 'node';
  const answers: Answers = {
    name,
    kind,
    description: decided.description!,
    runtime: kind === 'www' ? runtime : 'node',
    monit: decided.monit!,
    user: decided.user!,
    env: decided.env ?? {},
  };
  if (kind !== 'service') {
    answers.port = decided.port;
    answers.health = decided.health;
  }
  if (answers.runtime === 'node') answers.init = decided.init;
  return answers;
}
