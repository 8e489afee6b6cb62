// Environments and secrets in svc.yaml, as tables with the exact lines: secrets: and group env:
// validation (a key in two places names both), which environment a host is deployed as, the
// refusals of a machine reached as two environments or by an address the inventory lists, and
// the env file svc renders (and that no template ever sees a secret).
import { describe, expect, it } from 'vitest';
import { renderEnvFile } from '../../src/core/env-file.js';
import {
  checkEnvironments,
  environmentOf,
  environmentValues,
  usesEnvironments,
} from '../../src/core/environments.js';
import { SvcError } from '../../src/core/errors.js';
import { expandPlaybook } from '../../src/core/expand.js';
import { validateManifest, type Manifest } from '../../src/core/manifest.js';
import { parsePlaybook } from '../../src/core/playbook.js';
import { resolveTarget, type TargetContext } from '../../src/core/targets.js';
import { CONFIG, PLAYBOOK, file, manifest } from '../helpers/plan-fixtures.js';

const base = { ...manifest } as Record<string, unknown>;
const problems = (over: Record<string, unknown>): string[] => {
  const result = validateManifest({ ...base, ...over });
  return result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`);
};
const group = (env?: Record<string, string>, address = '10.0.0.1') => ({
  hosts: { [`h-${address}`]: { address } },
  ...(env && { env }),
});

describe('svc.yaml secrets:, secretsCommand: and group env:', () => {
  it.each<[Record<string, unknown>, string[]]>([
    [{ secrets: ['DB_PASSWORD', 'STRIPE_KEY'] }, []],
    [{ secrets: [] }, []],
    [
      { secrets: ['db_password'] },
      ['secrets.0: db_password must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
    [{ secrets: ['A', 'PATH'] }, ['secrets.1: PATH is reserved: the init script sets it']],
    [{ secrets: ['LD_PRELOAD'] }, ['secrets.0: LD_PRELOAD is reserved: the init script sets it']],
    [{ secrets: ['A', 'B', 'A'] }, ['secrets.2: A is listed twice']],
    [
      { env: { DB_PASSWORD: 'x' }, secrets: ['DB_PASSWORD'] },
      [
        'secrets.0: DB_PASSWORD is both in env: and in secrets:; a key is a value or a secret, not both',
      ],
    ],
    [
      { secrets: ['TOKEN'], hosts: { staging: group({ TOKEN: 'x' }) } },
      [
        'secrets.0: TOKEN is both in hosts.staging.env: and in secrets:; a key is a value or a secret, not both',
      ],
    ],
    [{ secrets: 'A' }, ['secrets: must be a list of variable names']],
    [{ secrets: [1] }, ['secrets.0: must be a variable name']],
    [{ secrets: ['A'], secretsCommand: 'pass show {env}/{key}' }, []],
    [
      { secretsCommand: 'pass show {key}' },
      ['secretsCommand: has no secrets: to resolve (list the keys in secrets:)'],
    ],
    [{ secrets: ['A'], secretsCommand: '' }, ['secretsCommand: must not be empty']],
    [
      { secrets: ['A'], secretsCommand: 'a\nb' },
      ['secretsCommand: must be a single line without control characters'],
    ],
    [
      { secrets: ['A'], secretsCommand: 'x'.repeat(1001) },
      ['secretsCommand: must be at most 1000 characters'],
    ],
    [{ hosts: { staging: group({ LOG_LEVEL: 'debug' }) } }, []],
    [
      { hosts: { staging: group({ log: 'x' }) } },
      ['hosts.staging.env.log: must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
    [
      { hosts: { staging: group({ IFS: 'x' }) } },
      ['hosts.staging.env.IFS: is reserved: the init script sets it'],
    ],
    [
      { hosts: { staging: group({ N: 1 as unknown as string }) } },
      ['hosts.staging.env.N: must be a string (quote numbers and booleans)'],
    ],
    [
      { hosts: { default: group() } },
      ['hosts.default: is reserved: default is the environment of hosts outside any group'],
    ],
  ])('%j -> %j', (over, lines) => {
    expect(problems(over)).toEqual(lines);
  });
});

const withGroups: Manifest = {
  ...manifest,
  env: { LOG_LEVEL: 'info', REGION: 'eu' },
  secrets: ['DB_PASSWORD'],
  hosts: {
    staging: group({ LOG_LEVEL: 'debug' }, '10.0.0.1'),
    production: { hosts: { web1: { address: '10.0.0.2' }, web2: { address: '10.0.0.3' } } },
    // web1's address on another port: another machine (another sshd), until a TARGET's :port
    // makes them one.
    shared: { hosts: { 'h-10.0.0.2': { address: '10.0.0.2', port: 2222 } } },
  },
};
const ctx = (m: Manifest): TargetContext => ({
  inventory: m.hosts,
  sandbox: {
    version: 1,
    net: '10.231',
    knownHostsFile: '/k',
    hosts: [
      {
        name: 'sbx-1',
        kind: 'light',
        address: '10.231.1.1',
        port: 22,
        user: 'root',
        users: ['root'],
        keyFile: '/id',
        netns: 'n',
        pid: 1,
        pids: [1],
      },
    ],
  },
  sshConfig: (host) => ({ hostName: host.toLowerCase(), identityFiles: [] }),
  defaultUser: 'me',
});
const refusal = (target: string, m: Manifest = withGroups): string => {
  try {
    checkEnvironments(target, m, ctx(m), resolveTarget(target, ctx(m)));
    return 'accepted';
  } catch (error) {
    expect(error).toBeInstanceOf(SvcError);
    return (error as Error).message;
  }
};

describe('the environment a host is deployed as', () => {
  it.each<[string, string[]]>([
    ['staging', ['staging']],
    ['production', ['production', 'production']],
    ['web2', ['production']],
    ['staging,web2', ['staging', 'production']],
    ['sandbox', ['default']],
    ['10.9.9.9', ['default']],
    ['deploy@other.example', ['default']],
  ])('%s -> %j', (target, environments) => {
    expect(resolveTarget(target, ctx(withGroups)).map(environmentOf)).toEqual(environments);
  });

  it.each([
    ['staging', 'accepted'],
    ['production', 'accepted'],
    ['web1', 'accepted'],
    ['shared', 'accepted'],
    ['staging,production', 'accepted'],
    ['10.9.9.9', 'accepted'],
    ['sandbox', 'accepted'],
    [
      '10.0.0.3',
      'target "10.0.0.3": 10.0.0.3 is web2 of group production in svc.yaml; deploy it by that name so it gets production\'s environment',
    ],
    [
      'root@10.0.0.1:22',
      'target "root@10.0.0.1:22": 10.0.0.1 is h-10.0.0.1 of group staging in svc.yaml; deploy it by that name so it gets staging\'s environment',
    ],
    ['production,shared', 'accepted'],
    ['web1,h-10.0.0.2', 'accepted'],
    [
      'web1:2222,shared',
      'target "web1:2222,shared": 10.0.0.2:2222 is reached as production and shared; a host is deployed as one environment at a time',
    ],
    [
      'h-10.0.0.2:22,web1',
      'target "h-10.0.0.2:22,web1": 10.0.0.2:22 is reached as shared and production; a host is deployed as one environment at a time',
    ],
  ])('%s: %s', (target, line) => {
    expect(refusal(target)).toBe(line);
  });

  it('refuses nothing in a project without secrets: or group env: (as before environments)', () => {
    const plain: Manifest = {
      ...withGroups,
      secrets: undefined,
      hosts: { ...withGroups.hosts, staging: group(undefined, '10.0.0.1') },
    };
    expect(usesEnvironments(plain)).toBe(false);
    expect(refusal('web1:2222,shared', plain)).toBe('accepted');
    expect(refusal('10.0.0.3', plain)).toBe('accepted');
    expect(usesEnvironments({ ...plain, secrets: ['A'] })).toBe(true);
    expect(usesEnvironments({ ...plain, secrets: [] })).toBe(false);
    expect(usesEnvironments(withGroups)).toBe(true);
  });

  it.each<[string, Record<string, string>]>([
    ['staging', { LOG_LEVEL: 'debug', REGION: 'eu' }],
    ['production', { LOG_LEVEL: 'info', REGION: 'eu' }],
    ['default', { LOG_LEVEL: 'info', REGION: 'eu' }],
  ])('%s has the values %j', (name, env) => {
    expect(environmentValues(withGroups, name)).toEqual(env);
  });
});

describe('the env file svc renders', () => {
  const environment = {
    name: 'staging',
    env: { LOG_LEVEL: 'debug', GREETING: 'a "b" $c' },
    secrets: [{ key: 'DB_PASSWORD', value: 's3 cr$t' }],
  };
  it.each<[Partial<Manifest>, string[]]>([
    [
      { port: 3000 },
      [
        'PORT=3000',
        'NODE_ENV=production',
        'LOG_LEVEL=debug',
        'GREETING="a \\"b\\" \\$c"',
        'DB_PASSWORD="s3 cr\\$t"',
      ],
    ],
    [
      { port: undefined },
      [
        'NODE_ENV=production',
        'LOG_LEVEL=debug',
        'GREETING="a \\"b\\" \\$c"',
        'DB_PASSWORD="s3 cr\\$t"',
      ],
    ],
    [
      { port: 8080, appPort: 18080 },
      [
        'NODE_ENV=production',
        'LOG_LEVEL=debug',
        'GREETING="a \\"b\\" \\$c"',
        'DB_PASSWORD="s3 cr\\$t"',
        'HOST=127.0.0.1',
        'PORT=18080',
      ],
    ],
  ])('%j', (over, lines) => {
    const text = renderEnvFile({ name: 'api-orders', ...over } as Manifest, environment);
    expect(text.split('\n').filter((line) => line !== '' && !line.startsWith('#'))).toEqual(lines);
    expect(text).toMatch(
      /^# \/etc\/default\/api-orders: the environment of api-orders, written by svc\.\n/,
    );
    expect(text.endsWith('\n')).toBe(true);
  });

  it('keeps NODE_ENV when the environment sets it', () => {
    const text = renderEnvFile({ name: 'api-orders' } as Manifest, {
      ...environment,
      env: { NODE_ENV: 'staging' },
    });
    expect(text).not.toContain('NODE_ENV=production');
    expect(text).toContain('NODE_ENV=staging');
  });
});

describe('expand: the env file operation', () => {
  const steps = parsePlaybook(PLAYBOOK, 'deploy.yaml');
  const expand = (m: Manifest, config = CONFIG.filter((f) => !f.path.includes('default'))) =>
    expandPlaybook(steps, {
      manifest: m,
      host: { name: 'h', login: 'root', vars: {} },
      config: [
        ...config,
        file('etc/app.conf.ejs', 'env=<%- it.environment %> <%- JSON.stringify(it.env) %>'),
      ],
      release: { id: 'r1', files: 0, bytes: 0 },
      playbookFile: 'deploy.yaml',
      environment: {
        name: 'staging',
        env: { LOG_LEVEL: 'debug' },
        secrets: [{ key: 'DB_PASSWORD', value: 'unique-secret' }],
      },
    });
  const text = (op: unknown) => new TextDecoder().decode((op as { content: Uint8Array }).content);

  it('is root:root 0600, secret, a service input, and the only operation with the value', () => {
    const ops = expand({ ...manifest, secrets: ['DB_PASSWORD'] });
    const env = ops.find((op) => op.kind === 'file' && op.path === '/etc/default/api-orders');
    expect(env).toMatchObject({
      mode: 0o600,
      owner: 'root',
      group: 'root',
      secret: true,
      source: 'svc (env file: staging)',
    });
    expect(text(env)).toContain('DB_PASSWORD=unique-secret');
    const service = ops.find((op) => op.kind === 'service') as { dependsOn: string[] };
    expect(service.dependsOn).toContain('/etc/default/api-orders');
    const others = ops.filter(
      (op) =>
        op !== env &&
        JSON.stringify(op, (_, v: unknown) =>
          v instanceof Uint8Array ? new TextDecoder().decode(v) : v,
        ).includes('unique-secret'),
    );
    expect(others).toEqual([]);
    const conf = ops.find((op) => op.kind === 'file' && op.path === '/etc/app.conf');
    expect(text(conf)).toBe('env=staging [["LOG_LEVEL","debug"]]');
  });

  it('a config/ env file of its own is used as is, unless secrets: or group env: need svc to write it', () => {
    const own = CONFIG.filter((f) => f.path.includes('default'));
    expect(own.length).toBe(1);
    const ops = expand({ ...manifest }, CONFIG);
    const env = ops.filter((op) => op.kind === 'file' && op.path === '/etc/default/api-orders');
    expect(env.map((op) => (op as { source: string }).source)).toEqual([`config/${own[0]!.path}`]);
    expect(() => expand({ ...manifest, secrets: ['DB_PASSWORD'] }, CONFIG)).toThrow(
      `config/${own[0]!.path}: svc writes /etc/default/api-orders itself from svc.yaml env:, the group's env: and secrets: (secrets: is set); move its values to svc.yaml and delete it`,
    );
    expect(() => expand({ ...manifest, hosts: { staging: group({ A: 'b' }) } }, CONFIG)).toThrow(
      '(hosts.staging.env: is set)',
    );
  });

  it('a static site gets none', () => {
    const ops = expand({ ...manifest, init: undefined, runtime: 'static', command: undefined });
    expect(ops.filter((op) => op.kind === 'file' && op.path.startsWith('/etc/default'))).toEqual(
      [],
    );
  });
});
