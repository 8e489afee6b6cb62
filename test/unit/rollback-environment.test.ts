// A rollback's environment (review of issue 15, finding 10): the release's own svc.yaml decides
// env:, the group's env: and which secrets; values of secrets come from this run's resolution, and
// only for keys this checkout names. The listing script reads each release's svc.yaml on a real sh.
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { EnvironmentInput } from '../../src/core/env-file.js';
import { hostLayout } from '../../src/core/layout.js';
import {
  parseReleaseManifests,
  releaseManifestsScript,
  rollbackEnvironment,
  type RollbackEnvironment,
} from '../../src/core/rollback-environment.js';

const bytes = (text: string) => new TextEncoder().encode(text);
const ID = 'aaaaaaaaaaaa';
const yaml = (extra: string) =>
  bytes(
    `schema: 1
name: api-orders
description: Orders
port: 3000
health: /ok
runtime: node
init: systemd
monit: false
user: api-orders
command: [/usr/bin/node, server.js]
stopTimeout: 30
files: {}
generator: { svc: 0.1.0 }
${extra}`,
  );

const CURRENT: EnvironmentInput = {
  name: 'production',
  env: { X: '2', LOG_LEVEL: 'info' },
  secrets: [
    { key: 'DB_PASSWORD', value: 'now-pw' },
    { key: 'STRIPE_KEY', value: 'now-sk' },
  ],
};

describe('rollbackEnvironment', () => {
  const cases: [string, Uint8Array | undefined, RollbackEnvironment][] = [
    [
      "the release's env: and its group's env:, not this checkout's",
      yaml(
        'env: { X: "1" }\nsecrets: [DB_PASSWORD]\nhosts:\n  production:\n    env: { LOG_LEVEL: debug }\n    hosts: { web1: { address: 10.0.0.1 } }\n',
      ),
      {
        environment: {
          name: 'production',
          env: { X: '1', LOG_LEVEL: 'debug' },
          secrets: [{ key: 'DB_PASSWORD', value: 'now-pw' }],
        },
        warnings: [],
      },
    ],
    [
      "the release's secrets in its own order; one this checkout does not name is left out, said",
      yaml('env: {}\nsecrets: [STRIPE_KEY, AWS_SECRET_ACCESS_KEY, DB_PASSWORD]\n'),
      {
        environment: {
          name: 'production',
          env: {},
          secrets: [
            { key: 'STRIPE_KEY', value: 'now-sk' },
            { key: 'DB_PASSWORD', value: 'now-pw' },
          ],
        },
        warnings: [
          `release ${ID} names secret AWS_SECRET_ACCESS_KEY, which this checkout's svc.yaml secrets: does not: it is left out of the env file (svc sends a host only the secrets svc.yaml names)`,
        ],
      },
    ],
    [
      'a release without svc.yaml: this checkout, said',
      undefined,
      {
        environment: CURRENT,
        warnings: [
          `release ${ID} has no svc.yaml: its env file is rendered from this checkout's svc.yaml (production)`,
        ],
      },
    ],
    [
      'a svc.yaml svc cannot read: this checkout, said with the first problem',
      bytes('name: [\n'),
      {
        environment: CURRENT,
        warnings: [
          expect.stringMatching(
            /^release aaaaaaaaaaaa has a svc.yaml svc cannot read \(svc.yaml of release aaaaaaaaaaaa:/,
          ) as unknown as string,
        ],
      },
    ],
  ];
  it.each(cases)('%s', (_, release, expected) => {
    expect(rollbackEnvironment(ID, release, CURRENT)).toStrictEqual(expected);
  });

  it("keeps the sources of the secrets it sends, for the plan's line, and only those", () => {
    const withSources: EnvironmentInput = {
      ...CURRENT,
      sources: [
        { key: 'DB_PASSWORD', source: 'file', from: '.svc/secrets/production' },
        { key: 'STRIPE_KEY', source: 'command', from: 'secretsCommand' },
      ],
    };
    const result = rollbackEnvironment(ID, yaml('env: {}\nsecrets: [DB_PASSWORD]\n'), withSources);
    expect(result.environment.sources).toStrictEqual([
      { key: 'DB_PASSWORD', source: 'file', from: '.svc/secrets/production' },
    ]);
  });

  // A rollback resolves secrets without throwing (its release may not need them all): a key this
  // checkout names that did not resolve fails the host only when the release needs it.
  const LINE = "secret STRIPE_KEY (production): not found: not in svc's environment";
  const unresolvedCurrent: EnvironmentInput = {
    ...CURRENT,
    secrets: [{ key: 'DB_PASSWORD', value: 'now-pw' }],
    unresolved: [{ key: 'STRIPE_KEY', line: LINE }],
  };

  it('a secret not resolved that the release does not name: no problem', () => {
    const result = rollbackEnvironment(
      ID,
      yaml('env: {}\nsecrets: [DB_PASSWORD]\n'),
      unresolvedCurrent,
    );
    expect(result).toStrictEqual({
      environment: {
        name: 'production',
        env: {},
        secrets: [{ key: 'DB_PASSWORD', value: 'now-pw' }],
      },
      warnings: [],
    });
  });

  it('a secret not resolved that the release names: its line, and no warning about it', () => {
    const result = rollbackEnvironment(
      ID,
      yaml('env: {}\nsecrets: [DB_PASSWORD, STRIPE_KEY]\n'),
      unresolvedCurrent,
    );
    expect(result.unresolved).toStrictEqual([LINE]);
    expect(result.warnings).toStrictEqual([]);
  });

  it("a release without svc.yaml takes this checkout's environment: every unresolved key counts", () => {
    const result = rollbackEnvironment(ID, undefined, unresolvedCurrent);
    expect(result.unresolved).toStrictEqual([LINE]);
  });

  it('never takes secretsCommand from the release (it would run on this machine)', () => {
    const result = rollbackEnvironment(
      ID,
      yaml('env: {}\nsecrets: [DB_PASSWORD]\nsecretsCommand: sh -c "curl evil"\n'),
      CURRENT,
    );
    expect(result.environment).toStrictEqual({
      name: 'production',
      env: {},
      secrets: [{ key: 'DB_PASSWORD', value: 'now-pw' }],
    });
  });
});

describe('the release manifests script', () => {
  let root: string;
  const name = 'svc-rollback-env';
  const layout = hostLayout(name);
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), 'svc-rollback-env-'));
    const releases = `${root}${layout.releases}`;
    mkdirSync(`${releases}/aaaaaaaaaaaa`, { recursive: true });
    mkdirSync(`${releases}/bbbbbbbbbbbb`);
    mkdirSync(`${releases}/cccccccccccc`);
    mkdirSync(`${releases}/dddddddddddd`);
    writeFileSync(`${releases}/aaaaaaaaaaaa/svc.yaml`, 'env: { X: "1" }\n');
    writeFileSync(`${releases}/bbbbbbbbbbbb/svc.yaml`, 'a\tb\nc\n');
    // A link where svc.yaml should be is not followed, nor a release that is a link.
    writeFileSync(join(root, 'elsewhere'), 'secret: yes\n');
    symlinkSync(join(root, 'elsewhere'), `${releases}/cccccccccccc/svc.yaml`);
    symlinkSync(`${releases}/aaaaaaaaaaaa`, `${releases}/eeeeeeeeeeee`);
  });
  afterAll(() => {
    if (root !== undefined) rmSync(root, { recursive: true, force: true });
  });

  it('prints each release svc.yaml as it is; skips links and releases without one', () => {
    const script = releaseManifestsScript({ name }).replaceAll(
      layout.releases,
      `${root}${layout.releases}`,
    );
    const output = execFileSync('sh', ['-eu'], { input: script, encoding: 'utf8' });
    const found = parseReleaseManifests(output);
    expect([...found.keys()]).toStrictEqual(['aaaaaaaaaaaa', 'bbbbbbbbbbbb']);
    expect(new TextDecoder().decode(found.get('aaaaaaaaaaaa'))).toBe('env: { X: "1" }\n');
    expect(new TextDecoder().decode(found.get('bbbbbbbbbbbb'))).toBe('a\tb\nc\n');
  });

  it.each<[string, string, string[]]>([
    ['a record with a bad ID is not ours', 'Y\tnot-an-id\tYQ==\n', []],
    ['nor one with bad base64', 'Y\taaaaaaaaaaaa\t***\n', []],
    [
      'other records are ignored',
      'C\treleases/x\nX\taaaaaaaaaaaa\nY\taaaaaaaaaaaa\tYQ==\n',
      ['aaaaaaaaaaaa'],
    ],
  ])('%s', (_, output, ids) => {
    expect([...parseReleaseManifests(output).keys()]).toStrictEqual(ids);
  });
});
