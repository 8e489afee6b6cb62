// Release commands (svc.yaml `release:`), the pure parts as tables: svc.yaml's rules (exact
// lines), when a host's deploy runs them, which env file they get, the plan's line, what svc says
// when one fails, and what the first host's release phase makes before the deploy.
import { describe, expect, it } from 'vitest';
import { formatProblems, validateManifest, type Manifest } from '../../src/core/manifest.js';
import type { Change, HostPlan } from '../../src/core/plan.js';
import {
  DEFAULT_RELEASE_TIMEOUT,
  makesReleaseLive,
  releaseCommandsOf,
  releaseEnvFile,
  releaseFailure,
  releasePlan,
  releasePlanLine,
  releaseSeconds,
  shownCommand,
  type ReleaseCommands,
} from '../../src/core/release-commands.js';
import { planAfterPhase, preparedChanges } from '../../src/core/release-phase.js';
import { manifest, operations } from '../helpers/plan-fixtures.js';

const CURRENT = '/var/www/api-orders/current';
const ENV = '/etc/default/api-orders';

function problems(release: unknown): string[] {
  const result = validateManifest({ ...manifest, release });
  return result.ok ? [] : formatProblems('svc.yaml', result.problems);
}

describe('svc.yaml release:', () => {
  it.each<[string, unknown, string[]]>([
    ['a list of commands', { run: [['node', 'migrate.js']] }, []],
    [
      'every field',
      {
        run: [
          ['node', 'a.js'],
          ['sh', '-c', 'x && y'],
        ],
        on: 'every',
        timeout: 86400,
      },
      [],
    ],
    ['words may be empty or hold anything but NUL', { run: [['x', '', "'$(a)\n"]] }, []],
    [
      'a string for run',
      { run: 'node migrate.js' },
      [
        'svc.yaml: release.run: must be a list of commands, each a list of words, e.g. [[node, migrate.js]]',
      ],
    ],
    [
      'a command as one string',
      { run: ['node migrate.js'] },
      ['svc.yaml: release.run.0: must be a command: a list of words, e.g. [node, migrate.js]'],
    ],
    ['no commands', { run: [] }, ['svc.yaml: release.run: must list at least one command']],
    ['an empty command', { run: [[]] }, ['svc.yaml: release.run.0: must name a program']],
    [
      'an empty program',
      { run: [['', 'x']] },
      ['svc.yaml: release.run.0: must name a program (its first word is empty)'],
    ],
    [
      'a NUL in a word',
      { run: [['node', 'a\0b']] },
      ['svc.yaml: release.run.0.1: must not contain a NUL byte'],
    ],
    [
      'a number as a word',
      { run: [['sleep', 5]] },
      ['svc.yaml: release.run.0.1: must be a string'],
    ],
    [
      'an unknown on:',
      { run: [['x']], on: 'all' },
      ['svc.yaml: release.on: must be one of first, every'],
    ],
    [
      'a timeout of 0',
      { run: [['x']], timeout: 0 },
      ['svc.yaml: release.timeout: must be a whole number of seconds between 1 and 86400'],
    ],
    [
      'a timeout too long',
      { run: [['x']], timeout: 86401 },
      ['svc.yaml: release.timeout: must be a whole number of seconds between 1 and 86400'],
    ],
    [
      'a fractional timeout',
      { run: [['x']], timeout: 1.5 },
      ['svc.yaml: release.timeout: must be a whole number of seconds between 1 and 86400'],
    ],
    ['no run:', { on: 'first' }, ['svc.yaml: release.run: is required']],
    [
      'a misspelt key',
      { run: [['x']], once: true },
      ['svc.yaml: release.once: unknown key (did you mean on?)'],
    ],
    [
      'a list instead of a mapping',
      [['node', 'x']],
      ['svc.yaml: release: must be a mapping with run: and optionally on:, timeout:'],
    ],
  ])('%s', (_name, release, expected) => {
    expect(problems(release)).toEqual(expected);
  });

  it.each<[string, Manifest['release'], ReleaseCommands | undefined]>([
    ['none', undefined, undefined],
    [
      'defaults: the first host, 600 s',
      { run: [['a']] },
      { run: [['a']], on: 'first', timeout: DEFAULT_RELEASE_TIMEOUT },
    ],
    [
      'as written',
      { run: [['a'], ['b']], on: 'every', timeout: 7 },
      { run: [['a'], ['b']], on: 'every', timeout: 7 },
    ],
  ])('release: %s', (_name, release, expected) => {
    expect(releaseCommandsOf({ release })).toEqual(expected);
    if (expected) expect(DEFAULT_RELEASE_TIMEOUT).toBe(600);
  });

  it('gives the SSH command time for every command, its kill and a margin', () => {
    expect(releaseSeconds({ run: [['a'], ['b']], on: 'every', timeout: 10 })).toBe(34);
    expect(releaseSeconds({ run: [['a']], on: 'first', timeout: 600 })).toBe(607);
  });
});

const link = (target: string): Change => ({
  action: 'update',
  kind: 'link',
  target,
  reasons: [],
});
const change = (kind: Change['kind'], target: string, action = 'create'): Change =>
  ({ action, kind, target, reasons: [] }) as Change;

describe('when a deploy makes a release live', () => {
  const ops = operations();
  const pinned = ops.map((op) => (op.kind === 'release' ? { ...op, pinned: true as const } : op));
  it.each<[string, Change[], typeof ops, boolean]>([
    ['current moves', [link(CURRENT)], ops, true],
    ['current is made (a first deploy)', [{ ...link(CURRENT), action: 'create' }], ops, true],
    ['only a file changes', [change('file', ENV, 'update')], ops, false],
    ['another link moves', [link('/home/deploy/service/api-orders')], ops, false],
    ['a rollback moves current', [link(CURRENT)], pinned, false],
    ['no release step', [link(CURRENT)], ops.filter((op) => op.kind !== 'release'), false],
    ['nothing changes', [], ops, false],
  ])('%s', (_name, changes, operations_, expected) => {
    expect(makesReleaseLive('api-orders', changes, operations_)).toBe(expected);
  });
});

describe('the env file release commands get', () => {
  const installed = `"$(if [ -f ${ENV} ]; then printf %s ${ENV}; fi)"`;
  it.each<[string, Change[], string | undefined, string]>([
    [
      'this deploy writes it: the staged copy',
      [change('file', ENV)],
      '"$stage/env"',
      '"$stage/env"',
    ],
    ['this deploy changes it', [change('file', ENV, 'update')], '"$stage/o/1"', '"$stage/o/1"'],
    ['unchanged: the installed one, if any', [], undefined, installed],
    ['changed but not staged: the installed one', [change('file', ENV)], undefined, installed],
    ['this deploy deletes it: none', [change('file', ENV, 'delete')], '"$stage/env"', "''"],
    ['another file changes', [change('file', '/etc/x')], '"$stage/env"', installed],
  ])('%s', (_name, changes, staged, expected) => {
    expect(releaseEnvFile('api-orders', changes, staged)).toBe(expected);
  });
});

describe("the plan's line", () => {
  const first: ReleaseCommands = { run: [['a'], ['b']], on: 'first', timeout: 1 };
  const every: ReleaseCommands = { ...first, on: 'every' };
  it.each<[string, ReleaseCommands | undefined, [string, boolean][], string | undefined]>([
    ['no release:', undefined, [['h1', true]], undefined],
    [
      'no host makes a release live',
      first,
      [
        ['h1', false],
        ['h2', false],
      ],
      undefined,
    ],
    [
      'first: the first host that does',
      first,
      [
        ['h1', false],
        ['h2', true],
        ['h3', true],
      ],
      'release commands: 2, on the first host (h2)',
    ],
    [
      'every: each host that does',
      every,
      [
        ['h1', true],
        ['h2', false],
        ['h3', true],
      ],
      'release commands: 2, on each host before its own cutover (h1, h3)',
    ],
  ])('%s', (_name, commands, hosts, expected) => {
    const plan = releasePlan(
      commands,
      hosts.map(([host, due]) => ({ host, due })),
    );
    expect(plan && releasePlanLine(plan)).toBe(expected);
  });

  it('in svc plan --json: how many, where, on which hosts', () => {
    const hosts = [
      { host: 'h1', due: true },
      { host: 'h2', due: true },
    ];
    expect(releasePlan(first, hosts)).toEqual({ commands: 2, on: 'first', hosts: ['h1'] });
    expect(releasePlan(every, hosts)).toEqual({ commands: 2, on: 'every', hosts: ['h1', 'h2'] });
  });
});

describe('what svc says when a release command fails', () => {
  const commands: ReleaseCommands = {
    run: [
      ['node', 'migrate.js'],
      ['sh', '-c', "echo 'a b'"],
    ],
    on: 'first',
    timeout: 30,
  };
  it.each<[string, string[], string, string]>([
    [
      'an exit status, with its last lines',
      ['1', 'status 3'],
      'one\ntwo\n',
      [
        'release command 1 of 2 (node migrate.js) exited with status 3; nothing was switched or restarted',
        '    its last output lines:',
        '      one',
        '      two',
      ].join('\n'),
    ],
    [
      'a timeout',
      ['2', 'timeout 30'],
      'waiting',
      [
        "release command 2 of 2 (sh -c 'echo '\\''a b'\\''') did not finish within 30 s and was stopped (its process group killed); nothing was switched or restarted",
        '    its last output lines:',
        '      waiting',
      ].join('\n'),
    ],
    [
      'no output',
      ['1', 'status 1'],
      '',
      [
        'release command 1 of 2 (node migrate.js) exited with status 1; nothing was switched or restarted',
        '    it printed nothing',
      ].join('\n'),
    ],
    [
      'control characters escaped',
      ['1', 'status 1'],
      'red \u001b[31mX\u0007\r\n',
      [
        'release command 1 of 2 (node migrate.js) exited with status 1; nothing was switched or restarted',
        '    its last output lines:',
        '      red \\x1b[31mX\\x07\\x0d',
      ].join('\n'),
    ],
    [
      'an index svc never sent, and no status',
      ['9', 'weird'],
      '',
      'a release command failed; nothing was switched or restarted\n    it printed nothing',
    ],
  ])('%s', (_name, fields, output, expected) => {
    expect(releaseFailure(fields, commands, output)).toBe(expected);
  });

  it('cuts a long line at 300 characters and a long command at 120', () => {
    const message = releaseFailure(['1', 'status 1'], commands, 'x'.repeat(400));
    expect(message.split('\n')[2]).toBe(`      ${'x'.repeat(300)}`);
    expect(shownCommand(['echo', 'y'.repeat(200)])).toBe(`echo ${'y'.repeat(115)}…`);
    expect(shownCommand(['printf', 'a\nb'])).toBe("printf 'a\\x0ab'");
  });
});

describe('what the release phase makes on the first host', () => {
  const plan = (changes: Change[]): HostPlan => ({
    host: 'h1',
    changes,
    unchanged: 0,
    problems: [],
    warnings: [],
    factsDigest: 'a'.repeat(64),
  });
  const first = [
    change('user', 'api-orders'),
    change('dir', '/var/www/api-orders'),
    change('release', '/var/www/api-orders/releases/abc'),
    { ...link(CURRENT), action: 'create' as const },
    change('file', ENV),
    change('dir', '/home/deploy/service'),
    change('service', 'api-orders', 'start'),
  ];
  it.each<[string, Change[], number[]]>([
    ['a first deploy: user, directories, release', first, [0, 1, 2]],
    [
      'a new release on a deployed host',
      [change('release', '/r/x'), link(CURRENT), change('release', '/r/old', 'delete')],
      [0],
    ],
    [
      'the release is there already: directories before current only',
      [change('dir', '/var/log/api-orders', 'update'), link(CURRENT), change('dir', '/x')],
      [0],
    ],
    [
      'a file planned before the release waits for the deploy',
      [change('file', '/etc/x'), change('dir', '/d'), change('release', '/r/x'), link(CURRENT)],
      [1, 2],
    ],
    ['nothing to make', [link(CURRENT)], []],
  ])('%s', (_name, changes, expected) => {
    expect(preparedChanges('api-orders', changes)).toEqual(expected);
  });

  it('leaves the rest of the plan, to be checked against the digest the phase sent', () => {
    const after = planAfterPhase(plan(first), [0, 1, 2], 'b'.repeat(64));
    expect(after.changes).toEqual(first.slice(3));
    expect(after.factsDigest).toBe('b'.repeat(64));
    expect(after.host).toBe('h1');
  });
});
