// Playbooks: YAML lists of typed steps (docs/PLAYBOOKS.md). Parsed and validated here; string
// values stay EJS templates until expansion renders them for one host.
import { parseDocument } from 'yaml';
import { z } from 'zod';
import { SvcError } from './errors.js';
import { didYouMean } from './suggest.js';

const err = (message: string) => ({ error: message });
const text = z.string(err('must be a string'));
const mode = z
  .string(err('must be an octal mode in quotes, e.g. "0755"'))
  .regex(/^0?[0-7]{3,4}$/, err('must be an octal mode in quotes, e.g. "0755"'));

const STEP_SCHEMAS = {
  user: z.strictObject({ name: text, home: text }),
  dir: z.strictObject({
    path: text,
    mode: mode.optional(),
    owner: text.optional(),
    group: text.optional(),
  }),
  link: z.strictObject({ path: text, target: text }),
  release: z.strictObject({
    keep: z
      .number(err('must be a whole number from 2 to 100'))
      .int()
      .min(2, err('must be a whole number from 2 to 100'))
      .max(100, err('must be a whole number from 2 to 100')),
  }),
  overlay: z.strictObject({ from: z.literal('config', err('must be config')) }),
  service: z.strictObject({}),
  monit: z.strictObject({}),
  scripts: z.strictObject({}),
  health: z.strictObject({
    timeout: z
      .number(err('must be a number of seconds from 1 to 600'))
      .int()
      .min(1)
      .max(600, err('must be a number of seconds from 1 to 600')),
  }),
} as const;

export type StepKind = keyof typeof STEP_SCHEMAS;
export type Step = {
  [K in StepKind]: { kind: K; args: z.infer<(typeof STEP_SCHEMAS)[K]> };
}[StepKind];
const STEP_KINDS = Object.keys(STEP_SCHEMAS) as StepKind[];

function parseStep(raw: unknown, where: string): Step {
  if (
    raw === null ||
    typeof raw !== 'object' ||
    Array.isArray(raw) ||
    Object.keys(raw).length !== 1
  ) {
    throw new SvcError(
      `${where}: a step is a mapping with exactly one key, the step type (${STEP_KINDS.join(', ')})`,
    );
  }
  const [kind, args] = Object.entries(raw)[0]!;
  if (!STEP_KINDS.includes(kind as StepKind)) {
    throw new SvcError(`${where}: unknown step ${kind}${didYouMean(kind, STEP_KINDS)}`);
  }
  const result = STEP_SCHEMAS[kind as StepKind].safeParse(args ?? {});
  if (!result.success) {
    const issue = result.error.issues[0]!;
    const field = issue.code === 'unrecognized_keys' ? issue.keys[0]! : issue.path.join('.');
    const message = issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message;
    throw new SvcError(`${where}.${kind}${field ? `.${field}` : ''}: ${message}`);
  }
  return { kind, args: result.data } as Step;
}

export function parsePlaybook(source: string, file: string): Step[] {
  const doc = parseDocument(source, { uniqueKeys: true, strict: true });
  if (doc.errors.length > 0)
    throw new SvcError(`${file}: ${doc.errors[0]!.message.split('\n')[0]}`);
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 50 });
  } catch {
    // yaml throws a bare ReferenceError for a billion-laughs document: name the file instead.
    throw new SvcError(`${file}: its YAML aliases expand too far (an alias bomb?)`);
  }
  if (!Array.isArray(data)) throw new SvcError(`${file}: a playbook is a list of steps`);
  return data.map((raw, index) => parseStep(raw, `${file}: ${index + 1}`));
}
