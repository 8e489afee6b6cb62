// svc.yaml: the manifest. `svc new` writes it from the wizard's answers, and every later command
// reads it. Errors name the file and the field: `svc.yaml: port: must be an integer between 1 and
// 65535`, one line per problem, all problems at once.
import { z } from 'zod';
import { checkServiceName, shownText, USER_PATTERN, type Kind } from './naming.js';
import { SANDBOX_GROUP } from './sandbox-inventory.js';
import { DEFAULT_ENVIRONMENT, qualifiedVariableClash } from './environment-name.js';
import { closest } from './suggest.js';
import { CUTOVERS, derivedSlotPorts } from './cutover.js';

export const INIT_SYSTEMS = ['systemd', 'openrc', 'upstart', 'monit'] as const;
export type InitSystem = (typeof INIT_SYSTEMS)[number];
export const RUNTIMES = ['node', 'static'] as const;
export type Runtime = (typeof RUNTIMES)[number];
export const MANIFEST_SCHEMA_VERSION = 1;
/** Where release commands run: the first host of the deploy only, or each host. */
export const RELEASE_ON = ['first', 'every'] as const;

const ENV_KEY = /^[A-Z_][A-Z0-9_]*$/;
/** Names a root shell sourcing the env file (OpenRC, the monit launcher) must not take. */
export const RESERVED_ENV_KEYS = [
  'IFS',
  'PATH',
  'ENV',
  'BASH_ENV',
  'PS4',
  'SHELLOPTS',
  'BASHOPTS',
  'GCONV_PATH',
  'LOCPATH',
  'RC_SVCNAME',
  'SVCNAME',
];
/** Reserved names, and the dynamic loader's LD_* family, which a root shell would obey. */
export function isReservedEnvKey(key: string): boolean {
  return RESERVED_ENV_KEYS.includes(key) || key.startsWith('LD_');
}
// Health paths go into monit, nginx and curl: a plain URL path keeps every format simple.
const HEALTH_PATH = /^\/[A-Za-z0-9._~/-]*$/;
/** An address monit's `alert` takes as is (it has no quoting for one): no spaces, quotes or #. */
const MAIL_ADDRESS = /^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;
// eslint-disable-next-line no-control-regex
const SINGLE_LINE = /^[^\u0000-\u001f\u007f-\u009f\u2028\u2029]*$/;
const OCTAL_MODE = /^0?[0-7]{3,4}$/;

const err = (message: string) => ({ error: message });
const portSchema = z
  .number(err('must be an integer between 1 and 65535'))
  .int(err('must be an integer between 1 and 65535'))
  .min(1, err('must be an integer between 1 and 65535'))
  .max(65535, err('must be an integer between 1 and 65535'));

const fileSchema = z.strictObject({
  mode: z
    .string(err('must be an octal mode in quotes, e.g. "0644"'))
    .regex(OCTAL_MODE, err('must be an octal mode in quotes, e.g. "0644"')),
  owner: z
    .string(err('must be a user name'))
    .regex(USER_PATTERN, err('must be a user name'))
    .optional(),
  group: z
    .string(err('must be a group name'))
    .regex(USER_PATTERN, err('must be a group name'))
    .optional(),
  secret: z.boolean(err('must be true or false')).optional(),
});

// The inventory: `hosts:` groups of hosts, each host with an address, optional user, port and
// vars for templates. Names are TARGETs (`svc plan web`), so they are unique across groups and
// never the sandbox's (`sandbox`, sbx-N).
const INVENTORY_NAME = /^[a-z0-9][a-z0-9._-]*$/;
const VAR_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const HOST_NAME_LABELS = /^[A-Za-z0-9_]([A-Za-z0-9_-]*)(\.[A-Za-z0-9_][A-Za-z0-9_-]*)*\.?$/;
const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

/** A DNS name (or ~/.ssh/config alias), an IPv4 literal or an IPv6 literal without brackets. */
export function isHostAddress(text: string): boolean {
  if (text.includes(':')) {
    if (!/^[0-9A-Fa-f:.]+$/.test(text)) return false;
    try {
      new URL(`ssh://[${text}]/`);
      return true;
    } catch {
      return false;
    }
  }
  if (/^[\d.]+$/.test(text)) return IPV4.test(text);
  return text.length <= 253 && HOST_NAME_LABELS.test(text);
}

/** A record whose invalid keys report the key's own rule, not the record's. */
const keyedRecord = <V extends z.ZodType>(key: z.ZodString, value: V, message: string) =>
  z.record(key, value, {
    error: (issue) =>
      issue.code === 'invalid_key' ? (issue.issues?.[0]?.message ?? message) : message,
  });
const inventoryName = (what: string) =>
  z
    .string()
    .regex(
      INVENTORY_NAME,
      err(
        `must be a ${what} name: lowercase letters, digits, . _ and -, starting with a letter or digit`,
      ),
    );
// One line per value: the env file is read line by line (systemd, sh, svc's own comparison).
const envSchema = z.record(
  z.string(),
  z
    .string(err('must be a string (quote numbers and booleans)'))
    .refine(
      (value) => !/[\n\r\0]/.test(value),
      err(
        'must be one line: the env file holds one line per value (no line break, carriage return or NUL)',
      ),
    ),
);
const varsSchema = keyedRecord(
  z
    .string()
    .regex(VAR_NAME, err('must be a name of letters, digits and _, not starting with a digit')),
  z.union([z.string(), z.number(), z.boolean()], err('must be a string, a number or true/false')),
  'must be a mapping of names to values',
);
const inventoryHostSchema = z.strictObject(
  {
    address: z
      .string(err('must be a host name or an IP address'))
      .refine(isHostAddress, err('must be a host name or an IP address')),
    user: z
      .string(err('must be a user name'))
      .regex(
        USER_PATTERN,
        err(
          'must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or -',
        ),
      )
      .optional(),
    port: portSchema.optional(),
    vars: varsSchema.optional(),
  },
  err('must be a mapping with address: and optionally user:, port:, vars:'),
);
const inventoryGroupSchema = z.strictObject(
  {
    vars: varsSchema.optional(),
    /** This environment's values over svc.yaml's env: (docs: Secrets and environments). */
    env: envSchema.optional(),
    hosts: keyedRecord(
      inventoryName('host').refine(
        (name) => !/^sbx-\d+$/.test(name),
        err("is reserved: sbx-N are the sandbox's hosts"),
      ),
      inventoryHostSchema,
      'must be a mapping of host names to hosts',
    ),
  },
  err('must be a mapping with hosts: and optionally vars:, env:'),
);
const inventorySchema = keyedRecord(
  inventoryName('group')
    .refine(
      (name) => name !== SANDBOX_GROUP,
      err(`is reserved: ${SANDBOX_GROUP} is the group of the sandbox's hosts`),
    )
    .refine(
      (name) => name !== DEFAULT_ENVIRONMENT,
      err(`is reserved: ${DEFAULT_ENVIRONMENT} is the environment of hosts outside any group`),
    ),
  inventoryGroupSchema,
  'must be a mapping of group names to groups',
).superRefine((groups, ctx) => {
  // Names are TARGETs: one name, one meaning.
  const groupOf = new Map<string, string>();
  for (const [group, { hosts }] of Object.entries(groups)) {
    for (const host of Object.keys(hosts)) {
      const path = [group, 'hosts', host];
      const first = groupOf.get(host);
      if (first !== undefined)
        ctx.addIssue({ code: 'custom', path, message: `is already a host of group ${first}` });
      else if (Object.hasOwn(groups, host))
        ctx.addIssue({ code: 'custom', path, message: 'is also the name of a group' });
      groupOf.set(host, first ?? group);
    }
  }
});

/** A program and its arguments (command:, install:): words of one line each, none empty. */
const argvSchema = (notAList: string) =>
  z
    .array(
      z
        .string(err('must be a string'))
        .min(1, err('must not be empty'))
        .regex(SINGLE_LINE, err('must not contain control characters')),
      err(notAList),
    )
    .min(1, err('must name a program'));

const manifestSchema = z.strictObject({
  schema: z.literal(MANIFEST_SCHEMA_VERSION, err(`must be ${MANIFEST_SCHEMA_VERSION}`)),
  name: z.string(err('must be a string')),
  description: z
    .string(err('must be a string'))
    .max(200, err('must be at most 200 characters'))
    .regex(SINGLE_LINE, err('must be a single line without control characters')),
  port: portSchema.optional(),
  /**
   * A node www- site: the loopback-only port its process listens on, behind nginx on `port`.
   * `svc new` writes it (appPortFor); a node www- svc.yaml without it is a site from before the
   * front, its process still listening on `port` itself.
   */
  appPort: portSchema.optional(),
  /**
   * How a deploy replaces the running release: restart it in place (the default), or switch
   * nginx on `port` from one slot to the other (core/cutover.ts).
   */
  cutover: z.enum(CUTOVERS, err(`must be one of ${CUTOVERS.join(', ')}`)).optional(),
  /** cutover: switch: how long requests in flight on the old slot may take before it is stopped. */
  drainTimeout: z
    .number(err('must be a whole number of seconds between 1 and 3600'))
    .int(err('must be a whole number of seconds between 1 and 3600'))
    .min(1, err('must be a whole number of seconds between 1 and 3600'))
    .max(3600, err('must be a whole number of seconds between 1 and 3600'))
    .optional(),
  /**
   * cutover: switch: the slot nginx leaves keeps running with the release it served (not drained
   * and stopped), so `svc rollback` to that release switches back without a start.
   */
  keepWarm: z.boolean(err('must be true or false')).optional(),
  /** cutover: switch: the two slots' loopback ports, when the derived ones (port+10000, ...) clash. */
  slotPorts: z
    .tuple([portSchema, portSchema], err('must be two ports, e.g. [13000, 23000]'))
    .optional(),
  health: z
    .string(err('must be a URL path such as /ok'))
    .max(200, err('must be at most 200 characters'))
    .regex(HEALTH_PATH, err('must be a URL path such as /ok (letters, digits, . _ ~ - /)'))
    .optional(),
  runtime: z.enum(RUNTIMES, err(`must be one of ${RUNTIMES.join(', ')}`)),
  init: z.enum(INIT_SYSTEMS, err(`must be one of ${INIT_SYSTEMS.join(', ')}`)).optional(),
  monit: z.boolean(err('must be true or false')),
  /** Where monit sends this check's alerts (the host's monitrc sets the mail server). */
  alert: z
    .string(err('must be an email address such as ops@example.com'))
    .max(254, err('must be at most 254 characters'))
    .regex(MAIL_ADDRESS, err('must be an email address such as ops@example.com'))
    .optional(),
  user: z
    .string(err('must be a string'))
    .regex(
      USER_PATTERN,
      err(
        'must be a Linux user name: lowercase letters, digits, _ and -, at most 32 characters, not starting with a digit or -',
      ),
    ),
  command: argvSchema('must be a list of strings').optional(),
  /** Run in a new release before it goes live, e.g. [npm, ci, --omit=dev]. */
  install: argvSchema('must be a list of strings, e.g. [npm, ci, --omit=dev]').optional(),
  /**
   * Release commands (migrations): run in a new release, as the service user with the service's
   * environment, before any traffic moves (core/release-commands.ts).
   */
  release: z
    .strictObject(
      {
        run: z
          .array(
            z
              .array(
                z
                  .string(err('must be a string'))
                  .refine((word) => !word.includes('\0'), err('must not contain a NUL byte')),
                err('must be a command: a list of words, e.g. [node, migrate.js]'),
              )
              .min(1, err('must name a program'))
              .refine(
                (argv) => argv[0] !== '',
                err('must name a program (its first word is empty)'),
              ),
            err('must be a list of commands, each a list of words, e.g. [[node, migrate.js]]'),
          )
          .min(1, err('must list at least one command')),
        on: z.enum(RELEASE_ON, err(`must be one of ${RELEASE_ON.join(', ')}`)).optional(),
        timeout: z
          .number(err('must be a whole number of seconds between 1 and 86400'))
          .int(err('must be a whole number of seconds between 1 and 86400'))
          .min(1, err('must be a whole number of seconds between 1 and 86400'))
          .max(86400, err('must be a whole number of seconds between 1 and 86400'))
          .optional(),
      },
      err('must be a mapping with run: and optionally on:, timeout:'),
    )
    .optional(),
  stopTimeout: z
    .number(err('must be a whole number of seconds between 1 and 3600'))
    .int(err('must be a whole number of seconds between 1 and 3600'))
    .min(1, err('must be a whole number of seconds between 1 and 3600'))
    .max(3600, err('must be a whole number of seconds between 1 and 3600')),
  env: envSchema,
  /** Keys whose values are resolved on the deployer at plan/deploy time, never written here. */
  secrets: z
    .array(z.string(err('must be a variable name')), err('must be a list of variable names'))
    .optional(),
  /** Run once per secret not found earlier: `pass show svc/{env}/{key}`; stdout is the value. */
  secretsCommand: z
    .string(err('must be a command line'))
    .min(1, err('must not be empty'))
    .max(1000, err('must be at most 1000 characters'))
    .regex(SINGLE_LINE, err('must be a single line without control characters'))
    .optional(),
  files: z.record(z.string(), fileSchema),
  generator: z.strictObject({ svc: z.string(err('must be a string')) }),
  hosts: inventorySchema.optional(),
});

export type Manifest = z.infer<typeof manifestSchema>;
export type FileMeta = z.infer<typeof fileSchema>;
export type InventoryGroup = z.infer<typeof inventoryGroupSchema>;
export type InventoryHost = z.infer<typeof inventoryHostSchema>;
/** One problem: `keys` locate the field (for sorting by position, and shown), `path` joins them. */
export type ManifestProblem = { path: string; keys: string[]; message: string };

/** Field-level rules that depend on more than one field, e.g. the kind decides whether a port exists. */
function crossFieldProblems(manifest: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (path: string, message: string, keys = [path]) =>
    problems.push({ path, keys, message });
  const name = checkServiceName(manifest.name);
  if (!name.ok) {
    add('name', `must be valid: ${name.problem}`);
    return problems;
  }
  const kind: Kind = name.kind;
  const servesHttp = kind !== 'service';
  if (servesHttp && manifest.port === undefined) add('port', `is required for a ${kind}- service`);
  if (servesHttp && manifest.health === undefined)
    add('health', `is required for a ${kind}- service`);
  if (!servesHttp && manifest.port !== undefined) add('port', 'a service- worker has no port');
  if (!servesHttp && manifest.health !== undefined)
    add('health', 'a service- worker has no health URL; it is checked by pidfile');
  if (kind !== 'www' && manifest.runtime !== 'node')
    add('runtime', `must be node for a ${kind}- service`);
  const runsProcess = manifest.runtime === 'node';
  if (runsProcess && manifest.init === undefined)
    add('init', 'is required for a service that runs a process');
  if (runsProcess && manifest.command === undefined)
    add('command', 'is required for a service that runs a process');
  if (!runsProcess && manifest.init !== undefined)
    add('init', 'a static site runs no process of its own (nginx serves it)');
  if (manifest.appPort !== undefined) {
    if (kind !== 'www' || manifest.runtime !== 'node')
      add('appPort', 'only a node www- site has one: its process behind nginx');
    else if (manifest.appPort === manifest.port)
      add('appPort', 'must differ from port: nginx listens on port and proxies to appPort');
  }
  problems.push(...cutoverProblems(manifest, kind));
  if (manifest.alert !== undefined && !manifest.monit)
    add('alert', 'monit sends the alerts: it needs monit: true');
  if (manifest.init === 'monit' && !manifest.monit) {
    add('monit', 'must be true when init is monit: the monit check is what starts the service');
  }
  if (manifest.command !== undefined && !manifest.command[0]!.startsWith('/')) {
    add('command.0', 'must be an absolute path, e.g. /usr/bin/node', ['command', '0']);
  }
  problems.push(...environmentProblems(manifest));
  for (const path of Object.keys(manifest.files)) {
    if (!path.startsWith('/') || path.split('/').some((part) => part === '..' || part === '.')) {
      add(`files.${path}`, 'must be an absolute host path without . or .. components', [
        'files',
        path,
      ]);
    }
  }
  return problems;
}

/** cutover:, drainTimeout: and slotPorts: belong together, and the slots' ports may not clash. */
function cutoverProblems(manifest: Manifest, kind: Kind): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (keys: string[], message: string) =>
    problems.push({ path: keys.join('.'), keys, message });
  const switching = manifest.cutover === 'switch';
  if (!switching) {
    if (manifest.drainTimeout !== undefined)
      add(['drainTimeout'], 'only cutover: switch drains a slot; it needs cutover: switch');
    if (manifest.slotPorts !== undefined)
      add(['slotPorts'], 'only cutover: switch has slots; it needs cutover: switch');
    if (manifest.keepWarm !== undefined)
      add(['keepWarm'], 'only cutover: switch has a slot to keep warm; it needs cutover: switch');
    return problems;
  }
  if (kind === 'service' || manifest.runtime !== 'node' || manifest.port === undefined) {
    add(
      ['cutover'],
      'switch needs a process that answers HTTP on a port (api-, or a node www- site); use restart',
    );
    return problems;
  }
  const [a, b] = manifest.slotPorts ?? derivedSlotPorts(manifest.port);
  if (manifest.appPort !== undefined)
    add(
      ['appPort'],
      `is not used with cutover: switch (the process listens on its slots' ports, ${a} and ${b}); remove it`,
    );
  if (manifest.slotPorts !== undefined) {
    if (a === b) add(['slotPorts'], 'must be two different ports');
    if (a === manifest.port || b === manifest.port)
      add(['slotPorts'], `must differ from port (${manifest.port}): nginx listens there`);
  }
  // Each slot's unit sets HOST and PORT (Environment=), and its EnvironmentFile= would win over
  // them: from a group's env: or a secret too, HOST would open the slot beside nginx and PORT
  // would put both slots on one port.
  for (const key of ['PORT', 'HOST']) {
    if (Object.hasOwn(manifest.env, key))
      add(['env', key], 'is set by svc for each slot under cutover: switch; remove it from env:');
    for (const [group, { env }] of Object.entries(manifest.hosts ?? {}))
      if (env !== undefined && Object.hasOwn(env, key))
        add(
          ['hosts', group, 'env', key],
          `is set by svc for each slot under cutover: switch; remove it from hosts.${group}.env:`,
        );
    const index = (manifest.secrets ?? []).indexOf(key);
    if (index !== -1)
      add(
        ['secrets', String(index)],
        `${key} is set by svc for each slot under cutover: switch; remove it from secrets:`,
      );
  }
  return problems;
}

/** env:, each group's env: and secrets: name variables of one env file: each key once. */
function environmentProblems(manifest: Manifest): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const add = (keys: string[], message: string) =>
    problems.push({ path: keys.join('.'), keys, message });
  const keyProblem = (key: string) =>
    !ENV_KEY.test(key)
      ? 'must be an upper-case variable name (A-Z, 0-9, _)'
      : isReservedEnvKey(key)
        ? 'is reserved: the init script sets it'
        : undefined;
  const envKeys = (keys: string[], env: Record<string, string>) => {
    for (const key of Object.keys(env)) {
      const problem = keyProblem(key);
      if (problem !== undefined) add([...keys, key], problem);
    }
  };
  envKeys(['env'], manifest.env);
  for (const [group, { env }] of Object.entries(manifest.hosts ?? {}))
    if (env !== undefined) envKeys(['hosts', group, 'env'], env);
  const secrets = manifest.secrets ?? [];
  secrets.forEach((key, index) => {
    const keys = ['secrets', String(index)];
    const problem = keyProblem(key);
    if (problem !== undefined) add(keys, `${shownText(key, 64)} ${problem}`);
    else if (secrets.indexOf(key) !== index) add(keys, `${key} is listed twice`);
    else if (Object.hasOwn(manifest.env, key))
      add(keys, `${key} is both in env: and in secrets:; a key is a value or a secret, not both`);
    else {
      for (const [group, { env }] of Object.entries(manifest.hosts ?? {}))
        if (env !== undefined && Object.hasOwn(env, key))
          add(
            keys,
            `${key} is both in hosts.${group}.env: and in secrets:; a key is a value or a secret, not both`,
          );
    }
  });
  // Only when every key is well-formed: a bad key is its own problem above.
  if (problems.length === 0) {
    const clash = qualifiedVariableClash(secrets, Object.keys(manifest.hosts ?? {}));
    if (clash !== undefined) add(['secrets'], clash);
  }
  if (secrets.length > 0 && manifest.runtime === 'static')
    add(['secrets'], 'a static site runs no process of its own: nothing would read them');
  if (manifest.secretsCommand !== undefined && secrets.length === 0)
    add(['secretsCommand'], 'has no secrets: to resolve (list the keys in secrets:)');
  return problems;
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let current = data;
  for (const key of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[key];
  }
  return current;
}

function knownKeysAt(path: readonly PropertyKey[]): string[] {
  let shape: z.ZodType = manifestSchema;
  for (const key of path) {
    if (shape instanceof z.ZodObject) shape = shape.shape[key as string] as z.ZodType;
    else if (shape instanceof z.ZodRecord) shape = shape.valueType as z.ZodType;
    else return [];
    if (shape instanceof z.ZodOptional) shape = shape.unwrap() as z.ZodType;
  }
  return shape instanceof z.ZodObject ? Object.keys(shape.shape) : [];
}

function schemaProblems(data: unknown, issues: readonly z.core.$ZodIssue[]): ManifestProblem[] {
  const problems: ManifestProblem[] = [];
  const missing = new Set(
    issues
      .filter((issue) => issue.path.length > 0 && valueAt(data, issue.path) === undefined)
      .map((issue) => issue.path.map(String).join('.')),
  );
  // A misspelt required key is one mistake: its "unknown key" line says the key is required, and
  // the key it was meant to be gets no "is required" line of its own.
  const explained = new Set<string>();
  for (const issue of issues) {
    const keys = issue.path.map(String);
    const path = keys.join('.');
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(issue.path);
      for (const key of issue.keys) {
        const meant = closest(key, known);
        const meantPath = path ? `${path}.${meant}` : meant;
        const required = meantPath !== undefined && missing.has(meantPath);
        if (required) explained.add(meantPath);
        const hint =
          meant === undefined
            ? ''
            : ` (did you mean ${meant}?${required ? ' it is required' : ''})`;
        problems.push({
          path: path ? `${path}.${key}` : key,
          keys: [...keys, key],
          message: `unknown key${hint}`,
        });
      }
    } else if (issue.path.length > 0 && valueAt(data, issue.path) === undefined) {
      problems.push({ path, keys, message: 'is required' });
    } else if (issue.code === 'invalid_value' && typeof valueAt(data, issue.path) === 'string') {
      const choices = issue.values.filter((value): value is string => typeof value === 'string');
      // Stricter than for keys: a value that is another real word (init: runit) is no typo.
      const given = valueAt(data, issue.path) as string;
      const meant = closest(given, choices, Math.max(1, Math.floor(given.length / 4)));
      const hint = meant === undefined ? '' : ` (did you mean ${meant}?)`;
      problems.push({ path, keys, message: `${issue.message}${hint}` });
    } else {
      problems.push({ path, keys, message: issue.message });
    }
  }
  return problems.filter(
    (problem) => !(problem.message === 'is required' && explained.has(problem.path)),
  );
}

export type ManifestResult =
  { ok: true; manifest: Manifest } | { ok: false; problems: ManifestProblem[] };

/** Validates already-parsed data (from YAML, or from the wizard's answers). */
export function validateManifest(data: unknown): ManifestResult {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) {
    return {
      ok: false,
      problems: [{ path: '', keys: [], message: 'must be a mapping of keys to values' }],
    };
  }
  const parsed = manifestSchema.safeParse(data);
  if (!parsed.success) return { ok: false, problems: schemaProblems(data, parsed.error.issues) };
  const problems = crossFieldProblems(parsed.data);
  return problems.length > 0 ? { ok: false, problems } : { ok: true, manifest: parsed.data };
}

/** One line per problem; a key that is not plain text is quoted, so no key can break the line. */
export function formatProblems(file: string, problems: readonly ManifestProblem[]): string[] {
  return problems.map(({ keys, message }) =>
    keys.length > 0
      ? `${file}: ${keys.map((key) => shownText(key, 64)).join('.')}: ${message}`
      : `${file}: ${message}`,
  );
}

/**
 * The app port `svc new` gives a node www- site: port + 10000 (8080 -> 18080), or port - 10000
 * when that would pass 65535. Only the default: svc.yaml's appPort is what counts.
 */
export function appPortFor(port: number): number {
  return port + 10000 <= 65535 ? port + 10000 : port - 10000;
}

/**
 * nginx in front of the process: a node www- site with appPort (its process on appPort, loopback
 * only), or any cutover: switch service (its slots on their loopback ports).
 */
export function hasFront(manifest: Pick<Manifest, 'appPort' | 'cutover'>): boolean {
  return manifest.appPort !== undefined || manifest.cutover === 'switch';
}

/** The port the service's own process answers on (its health), if it serves HTTP. */
export function processPort(manifest: Pick<Manifest, 'port' | 'appPort'>): number | undefined {
  return manifest.appPort ?? manifest.port;
}

export function kindOf(manifest: Pick<Manifest, 'name'>): Kind {
  return manifest.name.slice(0, manifest.name.indexOf('-')) as Kind;
}

type FieldName = keyof typeof manifestSchema.shape;

/** The problem with one field's value on its own, or undefined: shared by flags and prompts. */
export function fieldProblem(field: FieldName, value: unknown): string | undefined {
  const result = manifestSchema.shape[field].safeParse(value);
  return result.success ? undefined : (result.error.issues[0]?.message ?? 'is invalid');
}
