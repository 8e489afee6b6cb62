// The env file compared key by key (review of issue 15, findings 7 and 6): the header names no
// environment, comments are no content, svc.yaml's values are diffed plainly, a secret is named
// and never shown, and what the host sends back (the real fact script, run by a real sh) holds no
// secret value and no hash that could be checked without the run's salt.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  envChangeLines,
  envChanges,
  envLineHash,
  type EnvKeyChange,
  type FoundEnvLine,
} from '../../src/core/env-diff.js';
import {
  ENV_PLAIN_MARK,
  ENV_SECRET_MARK,
  envFileLines,
  renderEnvFile,
  type EnvLine,
  type EnvironmentInput,
} from '../../src/core/env-file.js';
import { buildFactRequest } from '../../src/core/fact-request.js';
import { factScript, type FactRequest, type PathFact } from '../../src/core/facts.js';
import { parseFacts } from '../../src/core/facts-parse.js';
import type { Manifest } from '../../src/core/manifest.js';
import type { FileOperation } from '../../src/core/operations.js';
import { planHost } from '../../src/core/plan.js';
import { formatHostOutcome, planDocument } from '../../src/core/plan-format.js';
import { sha256Hex } from '../../src/core/release.js';
import { facts, manifest, operations } from '../helpers/plan-fixtures.js';

const SALT = 'c0ffee'.repeat(3);
const plain = (key: string, value: string): EnvLine => ({
  key,
  line: `${key}=${value}`,
  secret: false,
});
const secret = (key: string, value: string): EnvLine => ({
  key,
  line: `${key}=${value}`,
  secret: true,
});
const shown = (key: string, value: string): FoundEnvLine => ({ key, plain: `${key}=${value}` });
const hashed = (key: string, value: string, salt = SALT): FoundEnvLine => ({
  key,
  hash: envLineHash(salt, `${key}=${value}`),
});

describe('envChanges: key by key, a secret by name only', () => {
  const cases: [string, EnvLine[], FoundEnvLine[], EnvKeyChange[]][] = [
    [
      'nothing changed',
      [plain('A', '1'), secret('S', 'x')],
      [shown('A', '1'), hashed('S', 'x')],
      [],
    ],
    [
      'a plain value changed: both lines',
      [plain('A', '2')],
      [shown('A', '1')],
      [{ key: 'A', change: 'changed', before: ['A=1'], after: ['A=2'] }],
    ],
    [
      'a plain key added and one removed',
      [plain('B', 'new')],
      [shown('A', 'old')],
      [
        { key: 'B', change: 'added', after: ['B=new'] },
        { key: 'A', change: 'removed', before: ['A=old'] },
      ],
    ],
    [
      'a secret changed: its name, no value',
      [secret('S', 'y')],
      [hashed('S', 'x')],
      [{ key: 'S', change: 'changed', sensitive: true }],
    ],
    [
      'a secret added and one removed: names only',
      [secret('T', 'v')],
      [hashed('S', 'x')],
      [
        { key: 'T', change: 'added', sensitive: true },
        { key: 'S', change: 'removed', sensitive: true },
      ],
    ],
    [
      'a secret that became a plain value: the old one is not shown',
      [plain('S', 'public')],
      [hashed('S', 'x')],
      [{ key: 'S', change: 'changed', after: ['S=public'] }],
    ],
    [
      'a plain value that became a secret: neither is shown',
      [secret('A', 'hidden')],
      [shown('A', '1')],
      [{ key: 'A', change: 'changed', sensitive: true }],
    ],
    [
      'an unchanged secret hashed with another salt is a change (the salt must match)',
      [secret('S', 'x')],
      [hashed('S', 'x', 'other')],
      [{ key: 'S', change: 'changed', sensitive: true }],
    ],
    [
      'an older file with no marks: all hashed, the same values are no change',
      [plain('A', '1'), secret('S', 'x')],
      [hashed('A', '1'), hashed('S', 'x')],
      [],
    ],
    [
      'a key twice: compared as a list',
      [plain('P', '1'), plain('P', '2')],
      [shown('P', '1')],
      [{ key: 'P', change: 'changed', before: ['P=1'], after: ['P=1', 'P=2'] }],
    ],
  ];
  it.each(cases)('%s', (_, wanted, found, changes) => {
    expect(envChanges(wanted, found, SALT)).toStrictEqual(changes);
  });
});

describe('envChangeLines: what the plan prints', () => {
  const cases: [string, EnvKeyChange[], string[]][] = [
    [
      'a plain change, as a diff would',
      [{ key: 'A', change: 'changed', before: ['A=1'], after: ['A=2'] }],
      ['-A=1', '+A=2'],
    ],
    [
      'a plain change whose old value the host did not send',
      [{ key: 'A', change: 'changed', after: ['A=2'] }],
      ['-A (previous value not shown)', '+A=2'],
    ],
    [
      'secrets: named, never valued',
      [
        { key: 'S', change: 'changed', sensitive: true },
        { key: 'T', change: 'added', sensitive: true },
        { key: 'U', change: 'removed', sensitive: true },
      ],
      [
        '~ S (sensitive value changed)',
        '+ T (sensitive value added)',
        '- U (sensitive value removed)',
      ],
    ],
    ['a plain key removed', [{ key: 'A', change: 'removed', before: ['A=1'] }], ['-A=1']],
  ];
  it.each(cases)('%s', (_, changes, lines) => {
    expect(envChangeLines(changes)).toStrictEqual(lines);
  });
});

describe('the rendered env file', () => {
  const environment = (name: string): EnvironmentInput => ({
    name,
    env: { LOG_LEVEL: 'info' },
    secrets: [{ key: 'DB_PASSWORD', value: 'pw' }],
  });
  it('names no environment: the same values as default and as a group are the same bytes', () => {
    const m = { name: 'api-orders', port: 3000 } as Manifest;
    expect(renderEnvFile(m, environment('default'))).toBe(
      renderEnvFile(m, environment('production')),
    );
  });
  it.each<[string, Partial<Manifest>, string[]]>([
    [
      'plain values, then the secrets, each part marked',
      { port: 3000 },
      [
        ENV_PLAIN_MARK,
        'PORT=3000',
        'NODE_ENV=production',
        'LOG_LEVEL=info',
        ENV_SECRET_MARK,
        'DB_PASSWORD=pw',
      ],
    ],
    [
      'behind nginx: HOST and PORT after the secrets, marked plain again',
      { port: 8080, appPort: 18080 },
      [
        ENV_PLAIN_MARK,
        'NODE_ENV=production',
        'LOG_LEVEL=info',
        ENV_SECRET_MARK,
        'DB_PASSWORD=pw',
        ENV_PLAIN_MARK,
        'HOST=127.0.0.1',
        'PORT=18080',
      ],
    ],
  ])('%s', (_, over, body) => {
    const text = renderEnvFile({ name: 'api-orders', ...over } as Manifest, environment('x'));
    expect(text.split('\n').slice(3, -1)).toStrictEqual(body);
  });
});

// The fact script on a real sh: what the host sends for the env file.
let root: string;
afterAll(() => {
  if (root !== undefined) rmSync(root, { recursive: true, force: true });
});
beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), 'svc-env-diff-'));
});

const INIT_DETECTION = /^comm=\n[\s\S]*?^else init=none; fi\n/m;
function gather(request: FactRequest): string {
  const text = factScript(request).replace(INIT_DETECTION, 'init=none\n');
  return execFileSync('sh', ['-s'], { input: text, encoding: 'utf8' });
}
function request(path: string, envKeys: string[], salt = SALT): FactRequest {
  return {
    service: 'api-orders',
    loginUser: userInfo().username,
    paths: [{ path, envKeys }],
    users: [],
    groups: [],
    recordsFile: join(root, 'records', 'installed.json'),
    recordsRoot: join(root, 'records'),
    releasesDir: join(root, 'releases'),
    pidfile: join(root, 'pid'),
    salt,
  };
}

describe('the fact script: env file lines', () => {
  const SECRET = 'hunter2-"$quoted\\value';
  const environment: EnvironmentInput = {
    name: 'production',
    env: { LOG_LEVEL: 'info', GREETING: 'a b' },
    secrets: [{ key: 'DB_PASSWORD', value: SECRET }],
  };
  const m = { name: 'api-orders', port: 3000 } as Manifest;

  it('sends svc.yaml values as they are, a secret only as a salted hash', () => {
    const path = join(root, 'env');
    writeFileSync(path, renderEnvFile(m, environment), { mode: 0o600 });
    const lines = envFileLines(m, environment);
    const ask = request(path, ['PORT', 'NODE_ENV', 'LOG_LEVEL', 'GREETING']);
    const output = gather(ask);
    expect(output).not.toContain('hunter2');
    // No hash of the secret's line but the salted one: the plain sha256 is not in what is sent
    // for the line (the P record's whole-file sha256 only goes into the salted digest).
    const line = lines.find((entry) => entry.secret)!.line;
    expect(output).not.toContain(sha256Hex(line));
    expect(parseFacts(output, ask, 'local').paths.get(path)!.envLines).toStrictEqual([
      { key: 'PORT', plain: 'PORT=3000' },
      { key: 'NODE_ENV', plain: 'NODE_ENV=production' },
      { key: 'LOG_LEVEL', plain: 'LOG_LEVEL=info' },
      { key: 'GREETING', plain: 'GREETING="a b"' },
      { key: 'DB_PASSWORD', hash: envLineHash(SALT, line) },
    ]);
    // Another run, another salt: another hash.
    const other = parseFacts(
      gather(request(path, ['PORT'], 'beef')),
      request(path, ['PORT'], 'beef'),
      'local',
    );
    expect(other.paths.get(path)!.envLines!.at(-1)).toStrictEqual({
      key: 'DB_PASSWORD',
      hash: envLineHash('beef', line),
    });
  });

  it.each<[string, string, string[], FoundEnvLine[]]>([
    [
      'a file without marks (an older svc): every line hashed',
      'A=1\nS=x\n',
      ['A', 'S'],
      [
        { key: 'A', hash: envLineHash(SALT, 'A=1') },
        { key: 'S', hash: envLineHash(SALT, 'S=x') },
      ],
    ],
    [
      'a key not asked for as plain: hashed, even in the plain part',
      `${ENV_PLAIN_MARK}\nA=1\nS=x\n`,
      ['A'],
      [
        { key: 'A', plain: 'A=1' },
        { key: 'S', hash: envLineHash(SALT, 'S=x') },
      ],
    ],
    [
      'a plain key in the secrets part (it was a secret): hashed',
      `${ENV_PLAIN_MARK}\nA=1\n${ENV_SECRET_MARK}\nS=x\n`,
      ['A', 'S'],
      [
        { key: 'A', plain: 'A=1' },
        { key: 'S', hash: envLineHash(SALT, 'S=x') },
      ],
    ],
    [
      'comments, blank lines and a last line without a newline',
      `# a comment\n\n${ENV_PLAIN_MARK}\nA=1\n  # indented is content\nB=2`,
      ['A', 'B'],
      [
        { key: 'A', plain: 'A=1' },
        { key: '  # indented is content', hash: envLineHash(SALT, '  # indented is content') },
        { key: 'B', plain: 'B=2' },
      ],
    ],
    [
      'a key that is no variable name, even if listed: hashed',
      `${ENV_PLAIN_MARK}\nA B=1\n`,
      ['A', 'B', 'A B'],
      [{ key: 'A B', hash: envLineHash(SALT, 'A B=1') }],
    ],
  ])('%s', (_, text, keys, expected) => {
    const path = join(root, 'case');
    writeFileSync(path, text, { mode: 0o600 });
    const ask = request(path, keys);
    expect(parseFacts(gather(ask), ask, 'local').paths.get(path)!.envLines).toStrictEqual(expected);
  });
});

describe('the planner and the plan: the env file', () => {
  const ENV = '/etc/default/api-orders';
  const m: Manifest = { ...manifest, env: { LOG_LEVEL: 'info' }, files: {} };
  function envOp(environment: EnvironmentInput): FileOperation {
    const op = operations([], m).find(
      (candidate): candidate is FileOperation =>
        candidate.kind === 'file' && candidate.path === ENV,
    );
    if (op === undefined) throw new Error('expand made no env file operation');
    const content = new TextEncoder().encode(renderEnvFile(m, environment));
    return {
      ...op,
      content,
      sha256: sha256Hex(content),
      envLines: envFileLines(m, environment),
    };
  }
  const env = (values: Record<string, string>, secrets: Record<string, string> = {}) => ({
    name: 'production',
    env: values,
    secrets: Object.entries(secrets).map(([key, value]) => ({ key, value })),
  });
  /** The host as the fact script reports it after a deploy of `before`, with another header. */
  function hostWith(before: EnvironmentInput, header = '# another header\n') {
    const text = header + renderEnvFile(m, before);
    const found: FoundEnvLine[] = envFileLines(m, before).map((line) =>
      line.secret
        ? { key: line.key, hash: envLineHash(SALT, line.line) }
        : { key: line.key, plain: line.line },
    );
    const fact: PathFact = {
      path: ENV,
      type: 'file',
      mode: 0o600,
      owner: 'root',
      group: 'root',
      size: text.length,
      sha256: sha256Hex(text),
      envLines: found,
    };
    return facts([fact], { salt: SALT, installed: [ENV] });
  }
  const plan = (op: FileOperation, host: ReturnType<typeof hostWith>) =>
    planHost('web1', [op], host, 'digest');

  it('the same values under another header (environment) change nothing', () => {
    const values = env({ LOG_LEVEL: 'info' }, { DB_PASSWORD: 'pw' });
    const result = plan(envOp(values), hostWith(values));
    expect(result.changes).toStrictEqual([]);
    expect(result.unchanged).toBe(1);
  });

  it('a plain change is diffed, a secret change named: text and JSON, no value, no size', () => {
    const before = env({ LOG_LEVEL: 'info' }, { DB_PASSWORD: 'old-pw', STRIPE_KEY: 'sk' });
    const after = env(
      { LOG_LEVEL: 'debug', NEW_ONE: 'x' },
      { DB_PASSWORD: 'new-pw', STRIPE_KEY: 'sk' },
    );
    const result = plan(envOp(after), hostWith(before));
    expect(result.changes).toHaveLength(1);
    const change = result.changes[0]!;
    expect(change).toMatchObject({
      action: 'update',
      reasons: ['content changed'],
      sensitive: true,
      env: [
        {
          key: 'LOG_LEVEL',
          change: 'changed',
          before: ['LOG_LEVEL=info'],
          after: ['LOG_LEVEL=debug'],
        },
        { key: 'NEW_ONE', change: 'added', after: ['NEW_ONE=x'] },
        { key: 'DB_PASSWORD', change: 'changed', sensitive: true },
      ],
    });
    expect(change.diff).toBeUndefined();
    expect(change.size).toBeUndefined();
    const id = { host: 'web1', address: '10.0.0.1', port: 22, user: 'deploy' };
    const paint = { green: String, yellow: String, red: String, bold: String, dim: String };
    const text = formatHostOutcome({ ...id, status: 'planned', plan: result }, paint);
    expect(text).toContain('      -LOG_LEVEL=info\n      +LOG_LEVEL=debug\n      +NEW_ONE=x\n');
    expect(text).toContain('      ~ DB_PASSWORD (sensitive value changed)\n');
    const json = JSON.stringify(
      planDocument('api-orders', [{ ...id, status: 'planned', plan: result }]),
    );
    for (const printed of [text, json]) {
      expect(printed).not.toContain('old-pw');
      expect(printed).not.toContain('new-pw');
      expect(printed).not.toContain('STRIPE_KEY');
    }
  });

  it('only a plain change: said plainly, nothing sensitive', () => {
    const before = env({ LOG_LEVEL: 'info' }, { DB_PASSWORD: 'pw' });
    const after = env({ LOG_LEVEL: 'debug' }, { DB_PASSWORD: 'pw' });
    const change = plan(envOp(after), hostWith(before)).changes[0]!;
    expect(change.sensitive).toBeUndefined();
    expect(change.env).toStrictEqual([
      {
        key: 'LOG_LEVEL',
        change: 'changed',
        before: ['LOG_LEVEL=info'],
        after: ['LOG_LEVEL=debug'],
      },
    ]);
  });

  it('a new env file: said to be new and sensitive, with no size', () => {
    const op = envOp(env({ LOG_LEVEL: 'info' }, { DB_PASSWORD: 'a-secret-of-some-length' }));
    const change = planHost('web1', [op], facts(), 'digest').changes[0]!;
    expect(change).toMatchObject({ action: 'create', sensitive: true });
    expect(change.size).toBeUndefined();
  });

  it('asks the host for svc.yaml keys as plain, never a secret key', () => {
    const op = envOp(env({ LOG_LEVEL: 'info' }, { DB_PASSWORD: 'pw' }));
    const ask = buildFactRequest(m, [op], 'deploy', false, SALT);
    expect(ask.paths).toStrictEqual([{ path: ENV, envKeys: ['PORT', 'NODE_ENV', 'LOG_LEVEL'] }]);
  });
});
