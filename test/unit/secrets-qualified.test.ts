// Issue 15, review finding 1: a plain $KEY exported for one environment must never reach another.
// Tables with exact outputs: the qualified spelling (KEY__ENV), a project whose names would make
// that spelling ambiguous (refused in svc.yaml), which variable a run reads (the plain KEY only
// when the run deploys one environment; exported for several it is one line), the edge's
// lookUpSecrets against a real directory, and the plan's line naming each key's source.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  qualifiedSecretVariable,
  qualifiedVariableClash,
} from '../../src/core/environment-name.js';
import { validateManifest, type Manifest } from '../../src/core/manifest.js';
import { formatHostOutcome, planDocument, type HostOutcome } from '../../src/core/plan-format.js';
import { groupOutcomes } from '../../src/core/plan-groups.js';
import { missingSecretLine, secretFromEnvironment } from '../../src/core/secrets.js';
import { lookUpSecrets, resolveEnvironments } from '../../src/project/secrets.js';
import { manifest } from '../helpers/plan-fixtures.js';

const plain = { green: String, yellow: String, red: String, bold: String, dim: String };

describe('the qualified spelling KEY__ENV', () => {
  it.each([
    ['DB_PASSWORD', 'production', 'DB_PASSWORD__PRODUCTION'],
    ['DB_PASSWORD', 'default', 'DB_PASSWORD__DEFAULT'],
    ['K', 'eu-west.2', 'K__EU_WEST_2'],
    ['_X', 'a_b', '_X__A_B'],
  ])('%s in %s is $%s', (key, environment, variable) => {
    expect(qualifiedSecretVariable(key, environment)).toBe(variable);
  });

  it.each<[string[], string[], string | undefined]>([
    [['DB_PASSWORD', 'STRIPE_KEY'], ['staging', 'production'], undefined],
    [[], ['eu-west', 'eu_west'], undefined],
    [
      ['K'],
      ['eu-west', 'eu_west'],
      '$K__EU_WEST would hold both K of eu-west and K of eu_west; rename a key or a group so that each variable means one thing',
    ],
    [
      ['K'],
      ['a.b', 'a-b'],
      '$K__A_B would hold both K of a.b and K of a-b; rename a key or a group so that each variable means one thing',
    ],
    [
      ['A', 'A__B'],
      ['c', 'b__c'],
      '$A__B__C would hold both A__B of c and A of b__c; rename a key or a group so that each variable means one thing',
    ],
    [
      ['A', 'A__PROD'],
      ['prod'],
      '$A__PROD would hold both A__PROD and A of prod; rename a key or a group so that each variable means one thing',
    ],
    [
      ['A', 'A__DEFAULT'],
      [],
      '$A__DEFAULT would hold both A__DEFAULT and A of default; rename a key or a group so that each variable means one thing',
    ],
  ])('keys %j, groups %j', (keys, groups, line) => {
    expect(qualifiedVariableClash(keys, groups)).toBe(line);
  });

  it.each<[Record<string, unknown>, string[]]>([
    [{ secrets: ['K'], hosts: { 'eu-west': group('10.0.0.1'), staging: group('10.0.0.2') } }, []],
    [
      { secrets: ['K'], hosts: { 'eu-west': group('10.0.0.1'), eu_west: group('10.0.0.2') } },
      [
        'secrets: $K__EU_WEST would hold both K of eu-west and K of eu_west; rename a key or a group so that each variable means one thing',
      ],
    ],
    // A bad key is its own problem; no clash is looked for among bad names.
    [
      { secrets: ['k', 'K'], hosts: { 'eu-west': group('10.0.0.1'), eu_west: group('10.0.0.2') } },
      ['secrets.0: k must be an upper-case variable name (A-Z, 0-9, _)'],
    ],
  ])('svc.yaml %j', (over, lines) => {
    const result = validateManifest({ ...manifest, ...over });
    expect(result.ok ? [] : result.problems.map((p) => `${p.path}: ${p.message}`)).toEqual(lines);
  });
});

function group(address: string) {
  return { hosts: { [`h-${address.replaceAll('.', '-')}`]: { address } } };
}

describe('which variable of svc.environment a run reads', () => {
  const SET = { DB_PASSWORD: 'plain', DB_PASSWORD__STAGING: 'stg', DB_PASSWORD__PRODUCTION: 'prd' };
  it.each<[Record<string, string>, string, string[], unknown]>([
    // One environment: its qualified name first, then the plain one.
    [SET, 'staging', ['staging'], { variable: 'DB_PASSWORD__STAGING', value: 'stg' }],
    [{ DB_PASSWORD: 'plain' }, 'staging', ['staging'], { variable: 'DB_PASSWORD', value: 'plain' }],
    [
      { DB_PASSWORD: 'plain', DB_PASSWORD__STAGING: '' },
      'staging',
      ['staging', 'staging'],
      { variable: 'DB_PASSWORD', value: 'plain' },
    ],
    [{ DB_PASSWORD__PRODUCTION: 'prd' }, 'staging', ['staging'], undefined],
    [{ DB_PASSWORD: '' }, 'staging', ['staging'], undefined],
    [
      { DB_PASSWORD__DEFAULT: 'sbx' },
      'default',
      ['default'],
      { variable: 'DB_PASSWORD__DEFAULT', value: 'sbx' },
    ],
    // Several: only the qualified names; a plain one set is refused, whatever else is.
    [
      { DB_PASSWORD__STAGING: 'stg', DB_PASSWORD__PRODUCTION: 'prd' },
      'production',
      ['staging', 'production'],
      { variable: 'DB_PASSWORD__PRODUCTION', value: 'prd' },
    ],
    [{ DB_PASSWORD__STAGING: 'stg' }, 'production', ['staging', 'production'], undefined],
    [{ DB_PASSWORD: '' }, 'production', ['staging', 'production'], undefined],
    [
      SET,
      'staging',
      ['staging', 'production'],
      {
        refusal:
          'secret DB_PASSWORD: $DB_PASSWORD is set, but this run deploys several environments (staging, production) and it would go to each; set DB_PASSWORD__STAGING, DB_PASSWORD__PRODUCTION instead and unset DB_PASSWORD',
      },
    ],
    [
      { DB_PASSWORD: 'plain' },
      'default',
      ['production', 'default'],
      {
        refusal:
          'secret DB_PASSWORD: $DB_PASSWORD is set, but this run deploys several environments (production, default) and it would go to each; set DB_PASSWORD__PRODUCTION, DB_PASSWORD__DEFAULT instead and unset DB_PASSWORD',
      },
    ],
  ])('%j, %s of %j', (env, environment, deployed, expected) => {
    expect(secretFromEnvironment('DB_PASSWORD', environment, deployed, env)).toEqual(expected);
  });

  it.each<[string[] | undefined, string]>([
    [
      undefined,
      "secret K (staging): not found: not in svc's environment ($K), no file F, no secretsCommand in svc.yaml",
    ],
    [
      ['K__STAGING', 'K'],
      "secret K (staging): not found: not in svc's environment ($K__STAGING or $K), no file F, no secretsCommand in svc.yaml",
    ],
  ])('a missing key names the variables read: %j', (variables, line) => {
    expect(
      missingSecretLine('K', 'staging', { path: 'F', state: 'missing' }, false, variables),
    ).toBe(line);
  });
});

describe('lookUpSecrets on a project directory (no file, no command)', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'svc-qualified-'));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const project: Manifest = { ...manifest, secrets: ['DB_PASSWORD'] };

  it.each<[Record<string, string>, string, string[], string]>([
    [{ DB_PASSWORD: 'p' }, 'production', ['production'], 'environment $DB_PASSWORD'],
    [
      { DB_PASSWORD: 'p', DB_PASSWORD__PRODUCTION: 'q' },
      'production',
      ['production'],
      'environment $DB_PASSWORD__PRODUCTION',
    ],
    [
      { DB_PASSWORD__STAGING: 's', DB_PASSWORD__PRODUCTION: 'q' },
      'staging',
      ['staging', 'production'],
      'environment $DB_PASSWORD__STAGING',
    ],
    [
      { DB_PASSWORD: 'p' },
      'staging',
      ['staging', 'production'],
      'secret DB_PASSWORD: $DB_PASSWORD is set, but this run deploys several environments (staging, production) and it would go to each; set DB_PASSWORD__STAGING, DB_PASSWORD__PRODUCTION instead and unset DB_PASSWORD',
    ],
    [
      { DB_PASSWORD__PRODUCTION: 'q' },
      'staging',
      ['staging', 'production'],
      "secret DB_PASSWORD (staging): not found: not in svc's environment ($DB_PASSWORD__STAGING), no file .svc/secrets/staging, no secretsCommand in svc.yaml",
    ],
    [
      {},
      'staging',
      ['staging'],
      "secret DB_PASSWORD (staging): not found: not in svc's environment ($DB_PASSWORD__STAGING or $DB_PASSWORD), no file .svc/secrets/staging, no secretsCommand in svc.yaml",
    ],
  ])('%j, %s of %j', async (env, environment, deployed, expected) => {
    const { resolved, problems } = await lookUpSecrets(dir, project, environment, env, deployed);
    const got = [
      ...resolved.map((secret) => `${secret.source} ${secret.where}`),
      ...problems.map((problem) => problem.line),
    ];
    expect(got).toEqual([expected]);
  });

  it('resolveEnvironments: each environment its own value and source; a refusal said once', async () => {
    const environments = await resolveEnvironments(dir, project, ['staging', 'production'], {
      DB_PASSWORD__STAGING: 'stg-value',
      DB_PASSWORD__PRODUCTION: 'prd-value',
    });
    expect([...environments.values()]).toEqual([
      {
        name: 'staging',
        env: {},
        secrets: [{ key: 'DB_PASSWORD', value: 'stg-value' }],
        sources: [{ key: 'DB_PASSWORD', source: 'environment', from: '$DB_PASSWORD__STAGING' }],
      },
      {
        name: 'production',
        env: {},
        secrets: [{ key: 'DB_PASSWORD', value: 'prd-value' }],
        sources: [{ key: 'DB_PASSWORD', source: 'environment', from: '$DB_PASSWORD__PRODUCTION' }],
      },
    ]);
    await expect(
      resolveEnvironments(dir, project, ['staging', 'production', 'staging'], {
        DB_PASSWORD: 'prd-value',
      }),
    ).rejects.toThrow(
      /^secret DB_PASSWORD: \$DB_PASSWORD is set, but this run deploys several environments \(staging, production\) and it would go to each; set DB_PASSWORD__STAGING, DB_PASSWORD__PRODUCTION instead and unset DB_PASSWORD$/,
    );
  });

  describe('resolveEnvironments for a rollback (unresolvedAllowed)', () => {
    const MISSING =
      "secret DB_PASSWORD (production): not found: not in svc's environment ($DB_PASSWORD__PRODUCTION or $DB_PASSWORD), no file .svc/secrets/production, no secretsCommand in svc.yaml";

    it('a key that does not resolve is carried on its environment, not thrown', async () => {
      const environments = await resolveEnvironments(
        dir,
        project,
        ['production'],
        {},
        {
          unresolvedAllowed: true,
        },
      );
      expect([...environments.values()]).toEqual([
        {
          name: 'production',
          env: {},
          secrets: [],
          sources: [],
          unresolved: [{ key: 'DB_PASSWORD', line: MISSING }],
        },
      ]);
    });

    it('a deploy (the default) still refuses it before any host is contacted', async () => {
      await expect(resolveEnvironments(dir, project, ['production'], {})).rejects.toThrow(MISSING);
    });

    it('resolved keys carry no unresolved list', async () => {
      const environments = await resolveEnvironments(
        dir,
        project,
        ['production'],
        { DB_PASSWORD__PRODUCTION: 'prd-value' },
        { unresolvedAllowed: true },
      );
      expect(environments.get('production')).not.toHaveProperty('unresolved');
    });
  });
});

describe("the plan names each secret's source, never its value", () => {
  const outcome = (
    host: string,
    environment?: {
      name: string;
      secrets: { key: string; source: 'environment' | 'file' | 'command'; from: string }[];
    },
  ): HostOutcome => ({
    host,
    address: '10.0.0.1',
    port: 22,
    user: 'deploy',
    status: 'planned',
    plan: {
      host,
      changes: [],
      unchanged: 3,
      problems: [],
      warnings: [],
      factsDigest: 'd',
      ...(environment && { environment }),
    },
  });
  // With changes, the secrets line heads them; without, it follows "no changes".
  const withChange = (given: HostOutcome): HostOutcome =>
    given.status === 'planned'
      ? {
          ...given,
          plan: {
            ...given.plan,
            changes: [
              {
                action: 'update',
                kind: 'file',
                target: '/etc/default/a',
                reasons: ['content changed'],
              },
            ],
          },
        }
      : given;
  const production = {
    name: 'production',
    secrets: [
      { key: 'DB_PASSWORD', source: 'environment' as const, from: '$DB_PASSWORD__PRODUCTION' },
      { key: 'STRIPE_KEY', source: 'file' as const, from: '.svc/secrets/production' },
      { key: 'API_TOKEN', source: 'command' as const, from: 'secretsCommand' },
    ],
  };

  it.each<[HostOutcome, string]>([
    [
      outcome('web1', production),
      'web1\n  no changes (3 in place)\n  secrets (production): DB_PASSWORD from $DB_PASSWORD__PRODUCTION, STRIPE_KEY from .svc/secrets/production, API_TOKEN from secretsCommand\n',
    ],
    [outcome('web1'), 'web1\n  no changes (3 in place)\n'],
    [
      withChange(outcome('web1', production)),
      'web1\n  secrets (production): DB_PASSWORD from $DB_PASSWORD__PRODUCTION, STRIPE_KEY from .svc/secrets/production, API_TOKEN from secretsCommand\n  ~ file     /etc/default/a\n      content changed\n  Plan: 0 to create, 1 to update, 0 to delete, 0 to (re)start or reload; 3 in place.\n',
    ],
  ])('text %#', (given, text) => {
    expect(formatHostOutcome(given, plain, {}, 'web1')).toBe(text);
  });

  it('JSON: hosts[].environment; hosts of two environments are not one group', () => {
    const doc = planDocument('api-orders', [outcome('web1', production), outcome('web2')]) as {
      hosts: Record<string, unknown>[];
    };
    expect(doc.hosts[0]!.environment).toEqual(production);
    expect(doc.hosts[1]).not.toHaveProperty('environment');
    const staging = { ...production, name: 'staging' };
    expect(
      groupOutcomes([
        outcome('a', production),
        outcome('b', staging),
        outcome('c', production),
      ]).map((g) => g.outcomes.map((o) => o.host)),
    ).toEqual([['a', 'c'], ['b']]);
  });
});
