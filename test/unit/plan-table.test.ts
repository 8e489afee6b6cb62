// The planner case by case, as tables: each operation kind against each state the host reports,
// with the exact change, problem or warning it must give. Operations and facts are built here as
// plain data, so each case changes one thing.
import { describe, expect, it } from 'vitest';
import type { DirFact, HostFacts, PathFact } from '../../src/core/facts.js';
import type {
  DirOperation,
  FileOperation,
  LinkOperation,
  Operation,
  ReleaseOperation,
} from '../../src/core/operations.js';
import { initMismatch, planHost, summarize, type Change } from '../../src/core/plan.js';
import { sha256Hex } from '../../src/core/release.js';
import { facts } from '../helpers/plan-fixtures.js';

const bytes = (text: string) => new TextEncoder().encode(text);

const fileOp = (path: string, text: string, extra: Partial<FileOperation> = {}): FileOperation => ({
  kind: 'file',
  path,
  source: `config${path}`,
  content: bytes(text),
  sha256: sha256Hex(bytes(text)),
  mode: 0o644,
  owner: 'root',
  group: 'root',
  secret: false,
  ...extra,
});

const fileFact = (path: string, text: string, extra: Partial<PathFact> = {}): PathFact => ({
  path,
  type: 'file',
  mode: 0o644,
  owner: 'root',
  group: 'root',
  sha256: sha256Hex(bytes(text)),
  size: bytes(text).length,
  ...extra,
});

const dirOp = (path: string, extra: Partial<DirOperation> = {}): DirOperation => ({
  kind: 'dir',
  path,
  mode: 0o755,
  owner: 'root',
  group: 'root',
  ...extra,
});

const dirFact = (path: string, extra: Partial<PathFact> = {}): PathFact => ({
  path,
  type: 'dir',
  mode: 0o755,
  owner: 'root',
  group: 'root',
  ...extra,
});

const linkOp = (path: string, target: string, step?: string): LinkOperation => ({
  kind: 'link',
  path,
  target,
  ...(step !== undefined && { step }),
});

const releaseOp = (id: string, extra: Partial<ReleaseOperation> = {}): ReleaseOperation => ({
  kind: 'release',
  path: `/var/www/app/releases/${id}`,
  id,
  files: 3,
  bytes: 2048,
  keep: 2,
  ...extra,
});

const plan = (ops: Operation[], host: HostFacts, allowed: string[] = []) =>
  planHost('web1', ops, host, 'digest', allowed);

/** The plan's outcome in one value: changes (exact), problems, warnings, the in-place count. */
const outcome = (ops: Operation[], host: HostFacts, allowed: string[] = []) => {
  const result = plan(ops, host, allowed);
  return {
    changes: result.changes,
    problems: result.problems,
    warnings: result.warnings,
    unchanged: result.unchanged,
  };
};

const NOT_OURS = 'svc does not replace or follow what it did not make';

describe('a path that is not what the operation expects is a problem, never a change', () => {
  const kinds: [string, PathFact['type'], string][] = [
    ['a file', 'file', 'file'],
    ['a directory', 'dir', 'dir'],
    ['a symbolic link', 'link', 'link'],
    ['not a regular file', 'other', 'other'],
  ];
  const cases: [string, Operation, string, PathFact['type'][]][] = [
    ['dir', dirOp('/srv/app'), 'a directory', ['file', 'link', 'other']],
    ['link', linkOp('/srv/app', '/srv/x'), 'a symbolic link', ['file', 'dir', 'other']],
    // A config file whose host path is a link or directory: updating it would write through it.
    ['file', fileOp('/srv/app', 'x\n'), 'a file', ['dir', 'link', 'other']],
    [
      'release',
      { ...releaseOp('abc'), path: '/srv/app' },
      'a release directory',
      ['file', 'link', 'other'],
    ],
  ];
  for (const [kind, op, expected, types] of cases) {
    for (const type of types) {
      const said = kinds.find(([, t]) => t === type)![0];
      it(`${kind} operation, host has ${type}`, () => {
        const host = facts([{ path: '/srv/app', type, target: '/etc', mode: 0o644 }]);
        expect(outcome([op], host)).toStrictEqual({
          changes: [],
          problems: [`/srv/app on web1 is ${said}, expected ${expected}; ${NOT_OURS}`],
          warnings: [],
          unchanged: 0,
        });
      });
    }
  }
});

describe('directories', () => {
  const cases: [string, DirOperation, PathFact | undefined, Change | 'unchanged'][] = [
    [
      'absent: created',
      dirOp('/srv/app', { mode: 0o700 }),
      undefined,
      {
        action: 'create',
        kind: 'dir',
        target: '/srv/app',
        reasons: ['absent'],
        detail: '0700 root:root',
      },
    ],
    ['as wanted: in place', dirOp('/srv/app'), dirFact('/srv/app'), 'unchanged'],
    [
      'mode differs',
      dirOp('/srv/app', { mode: 0o750 }),
      dirFact('/srv/app', { mode: 0o7 }),
      {
        action: 'update',
        kind: 'dir',
        target: '/srv/app',
        reasons: ['mode 0007 -> 0750'],
        detail: '0750 root:root',
      },
    ],
    [
      'mode not reported',
      dirOp('/srv/app'),
      dirFact('/srv/app', { mode: undefined }),
      {
        action: 'update',
        kind: 'dir',
        target: '/srv/app',
        reasons: ['mode 0000 -> 0755'],
        detail: '0755 root:root',
      },
    ],
    [
      'owner differs',
      dirOp('/srv/app'),
      dirFact('/srv/app', { owner: 'www' }),
      {
        action: 'update',
        kind: 'dir',
        target: '/srv/app',
        reasons: ['owner www:root -> root:root'],
        detail: '0755 root:root',
      },
    ],
    [
      'group differs',
      dirOp('/srv/app'),
      dirFact('/srv/app', { group: 'www' }),
      {
        action: 'update',
        kind: 'dir',
        target: '/srv/app',
        reasons: ['owner root:www -> root:root'],
        detail: '0755 root:root',
      },
    ],
    [
      'ensureOnly: drift is left alone',
      dirOp('/srv/app', { ensureOnly: true }),
      dirFact('/srv/app', { mode: 0o700, owner: 'www', group: 'www' }),
      'unchanged',
    ],
    [
      '~/ is the login home',
      dirOp('~/service'),
      undefined,
      {
        action: 'create',
        kind: 'dir',
        target: '/home/deploy/service',
        reasons: ['absent'],
        detail: '0755 root:root',
      },
    ],
  ];
  it.each(cases)('%s', (_, op, fact, want) => {
    const result = outcome([op], facts(fact ? [fact] : []));
    expect(result).toStrictEqual({
      changes: want === 'unchanged' ? [] : [want],
      problems: [],
      warnings: [],
      unchanged: want === 'unchanged' ? 1 : 0,
    });
  });

  it('a playbook step on a sensitive path is gated; svc own steps are not', () => {
    const gated = outcome([dirOp('/etc/sudoers.d', { step: 'deploy.yaml: 1.dir' })], facts());
    expect(gated.changes).toEqual([]);
    expect(gated.problems).toEqual([
      '/etc/sudoers.d on web1 is a sensitive directory (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d',
    ]);
    const own = outcome([dirOp('/etc/sudoers.d')], facts());
    expect(own.problems).toEqual([]);
    expect(own.changes.map((change) => change.target)).toEqual(['/etc/sudoers.d']);
  });
});

describe('links', () => {
  const cases: [string, LinkOperation, PathFact | undefined, Change | 'unchanged'][] = [
    [
      'absent: created',
      linkOp('/srv/current', 'releases/a'),
      undefined,
      {
        action: 'create',
        kind: 'link',
        target: '/srv/current',
        reasons: ['absent'],
        detail: '-> releases/a',
      },
    ],
    [
      'same target: in place',
      linkOp('/srv/current', 'releases/a'),
      { path: '/srv/current', type: 'link', target: 'releases/a' },
      'unchanged',
    ],
    [
      'other target: updated',
      linkOp('/srv/current', 'releases/b'),
      { path: '/srv/current', type: 'link', target: 'releases/a' },
      {
        action: 'update',
        kind: 'link',
        target: '/srv/current',
        reasons: ['points to releases/a'],
        detail: '-> releases/b',
      },
    ],
    [
      '~/ is the login home',
      linkOp('~/service/app', '/srv/current'),
      { path: '/home/deploy/service/app', type: 'link', target: '/srv/current' },
      'unchanged',
    ],
  ];
  it.each(cases)('%s', (_, op, fact, want) => {
    expect(outcome([op], facts(fact ? [fact] : []))).toStrictEqual({
      changes: want === 'unchanged' ? [] : [want],
      problems: [],
      warnings: [],
      unchanged: want === 'unchanged' ? 1 : 0,
    });
  });

  it('a playbook step on a sensitive path is gated; svc own steps are not', () => {
    const step = outcome([linkOp('/etc/cron.d/app', '/srv/x', 'deploy.yaml: 2.link')], facts());
    expect(step.changes).toEqual([]);
    expect(step.problems).toEqual([
      '/etc/cron.d/app on web1 is a sensitive link (/etc/cron.*/**); svc writes it only with --allow-path /etc/cron.d/app',
    ]);
    const own = outcome([linkOp('/etc/cron.d/app', '/srv/x')], facts());
    expect(own.problems).toEqual([]);
  });
});

describe('files', () => {
  const BIG = 256 * 1024;
  const fileCases: [string, FileOperation, PathFact | undefined, Partial<HostFacts>, Change][] = [
    [
      'absent: created, diffed from /dev/null, with its size',
      fileOp('/srv/app.conf', 'a\nb\n', { mode: 0o600 }),
      undefined,
      {},
      {
        action: 'create',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['from config/srv/app.conf'],
        detail: '0600 root:root',
        size: 4,
        diff: '--- /dev/null\n+++ /srv/app.conf\n@@ -0,0 +1,2 @@\n+a\n+b',
      },
    ],
    [
      "absent secret: created, never diffed, no size (it tells a value's length)",
      fileOp('/srv/app.env', 'TOKEN=x\n', { secret: true }),
      undefined,
      {},
      {
        action: 'create',
        kind: 'file',
        target: '/srv/app.env',
        reasons: ['from config/srv/app.env'],
        detail: '0644 root:root',
        sensitive: true,
      },
    ],
    [
      'content changed: a diff with three lines of context',
      fileOp('/srv/app.conf', '1\n2\n3\n4\n5\nsix\n7\n8\n9\n10\n'),
      fileFact('/srv/app.conf', '1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n', {
        content: bytes('1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n'),
      }),
      { installed: ['/srv/app.conf'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '--- /srv/app.conf\n+++ /srv/app.conf\n@@ -3,7 +3,7 @@\n 3\n 4\n 5\n-6\n+six\n 7\n 8\n 9',
      },
    ],
    [
      'content and mode changed: both said',
      fileOp('/srv/app.conf', 'new\n', { mode: 0o640 }),
      fileFact('/srv/app.conf', 'old\n', { content: bytes('old\n') }),
      { installed: ['/srv/app.conf'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['content changed', 'mode 0644 -> 0640'],
        detail: '0640 root:root',
        diff: '--- /srv/app.conf\n+++ /srv/app.conf\n@@ -1,1 +1,1 @@\n-old\n+new',
      },
    ],
    [
      'only the owner changed: no diff at all',
      fileOp('/srv/app.conf', 'same\n'),
      fileFact('/srv/app.conf', 'same\n', { owner: 'www' }),
      { installed: ['/srv/app.conf'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['owner www:root -> root:root'],
        detail: '0644 root:root',
      },
    ],
    [
      'secret content changed: said, never shown',
      fileOp('/srv/app.env', 'TOKEN=new\n', { secret: true }),
      fileFact('/srv/app.env', 'TOKEN=old\n', { content: bytes('TOKEN=old\n') }),
      { installed: ['/srv/app.env'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.env',
        reasons: ['content changed'],
        detail: '0644 root:root',
        sensitive: true,
      },
    ],
    [
      'the host did not send the old content',
      fileOp('/srv/app.conf', 'new\n'),
      fileFact('/srv/app.conf', 'old\n'),
      { installed: ['/srv/app.conf'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '(content differs; the host did not send it)',
      },
    ],
    [
      'an empty old file (no size reported, no content): diffed from /dev/null',
      fileOp('/srv/app.conf', 'new\n'),
      fileFact('/srv/app.conf', '', { size: undefined }),
      { installed: ['/srv/app.conf'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '--- /dev/null\n+++ /srv/app.conf\n@@ -0,0 +1,1 @@\n+new',
      },
    ],
    [
      'new content with a NUL byte: binary',
      fileOp('/srv/app.bin', 'a\0b'),
      fileFact('/srv/app.bin', 'ab', { content: bytes('ab') }),
      { installed: ['/srv/app.bin'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.bin',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '(binary content differs)',
      },
    ],
    [
      'old content not UTF-8: binary',
      fileOp('/srv/app.bin', 'ab'),
      fileFact('/srv/app.bin', 'x', { content: new Uint8Array([0xff, 0xfe]), size: 2 }),
      { installed: ['/srv/app.bin'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.bin',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '(binary content differs)',
      },
    ],
    [
      'new content larger than the diff limit: compared by hash only',
      fileOp('/srv/big', 'x'.repeat(BIG + 1)),
      fileFact('/srv/big', 'y', { content: bytes('y') }),
      { installed: ['/srv/big'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/big',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '(larger than 256 KiB: compared by sha256 only)',
      },
    ],
    [
      'old content larger than the diff limit: compared by hash only',
      fileOp('/srv/big', 'y'),
      fileFact('/srv/big', 'x', { size: BIG + 1 }),
      { installed: ['/srv/big'] },
      {
        action: 'update',
        kind: 'file',
        target: '/srv/big',
        reasons: ['content changed'],
        detail: '0644 root:root',
        diff: '(larger than 256 KiB: compared by sha256 only)',
      },
    ],
    [
      'svc did not create it: overwritten only with --adopt',
      fileOp('/srv/app.conf', 'same\n', { mode: 0o600 }),
      fileFact('/srv/app.conf', 'same\n'),
      {},
      {
        action: 'update',
        kind: 'file',
        target: '/srv/app.conf',
        reasons: ['mode 0644 -> 0600'],
        detail: '0600 root:root',
        warnings: ['not created by svc: deploy overwrites it only with --adopt'],
      },
    ],
  ];
  it.each(fileCases)('%s', (_, op, fact, overrides, want) => {
    const result = outcome([op], facts(fact ? [fact] : [], overrides));
    // jsdiff puts a separator line above an update's (same-name) header: not what is pinned here.
    for (const change of result.changes)
      if (change.diff !== undefined) change.diff = change.diff.replace(/^=+\n/, '');
    expect(result).toStrictEqual({
      changes: [want],
      problems: [],
      warnings: [],
      unchanged: 0,
    });
  });

  it('at exactly the diff limit, the content is still diffed', () => {
    const text = 'x'.repeat(BIG - 1) + '\n';
    const result = plan(
      [fileOp('/srv/big', text)],
      facts(
        [fileFact('/srv/big', text.replace('x', 'y'), { content: bytes(text.replace('x', 'y')) })],
        {
          installed: ['/srv/big'],
        },
      ),
    );
    expect(result.changes[0]!.diff!.split('\n').slice(1, 4)).toEqual([
      '--- /srv/big',
      '+++ /srv/big',
      '@@ -1,1 +1,1 @@',
    ]);
  });

  it('a file as it should be is in place', () => {
    const text = 'same\n';
    expect(
      outcome([fileOp('/srv/app.conf', text)], facts([fileFact('/srv/app.conf', text)])),
    ).toStrictEqual({ changes: [], problems: [], warnings: [], unchanged: 1 });
  });

  const refusals: [string, FileOperation, Partial<HostFacts>, string][] = [
    [
      "another service's file",
      fileOp('/srv/app.conf', 'x\n'),
      { claimed: new Map([['/srv/app.conf', 'other']]) },
      "/srv/app.conf on web1 is installed by service other; svc does not take another service's files",
    ],
    [
      "svc's records directory itself",
      fileOp('/var/lib/svc', 'x\n'),
      {},
      "config/var/lib/svc: /var/lib/svc is svc's own state (records, locks); config/ can never write there",
    ],
    [
      'inside a directory the service user owns',
      fileOp('/var/log/app/seed', 'x\n'),
      {},
      'config/var/log/app/seed: /var/log/app belongs to the service user; svc (root) does not write into it: ship the file in the release, or let the service create it',
    ],
    [
      'a sensitive path from config/',
      fileOp('/etc/sudoers.d/app', 'x\n'),
      {},
      '/etc/sudoers.d/app on web1 is a sensitive file (/etc/sudoers.d/**); svc writes it only with --allow-path /etc/sudoers.d/app',
    ],
  ];
  const serviceUser: Operation[] = [
    { kind: 'user', name: 'app', home: '/var/db/app' },
    dirOp('/var/log/app', { owner: 'app', group: 'app' }),
    dirOp('/var/log/root-owned', { owner: 'root', group: 'root' }),
  ];
  it.each(refusals)('refuses %s', (_, op, overrides, problem) => {
    const result = plan([...serviceUser, op], facts([], overrides));
    expect(result.problems).toEqual([problem]);
    expect(result.changes.map((change) => change.target)).not.toContain(op.path);
  });

  const allowedOnes: [string, FileOperation][] = [
    [
      'svc own file in its state (not from config/)',
      fileOp('/var/lib/svc/x', 'x\n', { source: 'svc (x script)' }),
    ],
    [
      'svc own file on a sensitive path',
      fileOp('/etc/sudoers.d/app', 'x\n', { source: 'svc (x script)' }),
    ],
    ['a directory that only shares the prefix of the user one', fileOp('/var/log/app2/x', 'x\n')],
    ['a root-owned directory made in the same plan', fileOp('/var/log/root-owned/x', 'x\n')],
    ["a path beside svc's state", fileOp('/var/lib/svc2/x', 'x\n')],
  ];
  it.each(allowedOnes)('writes %s', (_, op) => {
    const result = plan([...serviceUser, op], facts());
    expect(result.problems).toEqual([]);
    expect(result.changes.map((change) => `${change.action} ${change.target}`)).toContain(
      `create ${op.path}`,
    );
  });

  it('a sensitive path named by --allow-path is written, with a warning', () => {
    const result = plan([fileOp('/etc/sudoers.d/app', 'x\n')], facts(), ['/etc/sudoers.d/app']);
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      '/etc/sudoers.d/app is a sensitive file (/etc/sudoers.d/**), written because of --allow-path',
    ]);
    expect(result.changes.map((change) => change.target)).toEqual(['/etc/sudoers.d/app']);
  });
});

describe('services, monit and nginx', () => {
  const svc = (init: 'systemd' | 'openrc' | 'upstart' | 'monit', dependsOn: string[] = []) =>
    ({ kind: 'service', name: 'app', init, dependsOn }) as const;
  const mismatches: [string, Operation, Partial<HostFacts>, string][] = [
    [
      'openrc on a systemd host',
      svc('openrc'),
      { init: 'systemd' },
      'svc.yaml says init: openrc, but web1 runs systemd: deploy to a host that runs openrc, or use init: systemd or monit (svc.yaml and config/, as svc new --init systemd makes them)',
    ],
    [
      'upstart on a host without an init system',
      svc('upstart'),
      { init: 'none' },
      'svc.yaml says init: upstart, but web1 runs no upstart (no init system svc knows): deploy to a host that runs upstart, or use init: monit (svc.yaml and config/, as svc new --init monit makes them)',
    ],
    [
      'systemd on an openrc host',
      svc('systemd'),
      { init: 'openrc' },
      'svc.yaml says init: systemd, but web1 runs openrc: deploy to a host that runs systemd (a sandbox one: svc sandbox up --systemd), or use init: openrc or monit (svc.yaml and config/, as svc new --init openrc makes them)',
    ],
    [
      'monit on a host without monit nor init system',
      svc('monit'),
      { init: 'none', monit: { installed: false, running: false } },
      'svc.yaml says init: monit, but monit is not installed on web1: install monit there',
    ],
    [
      'monit on an upstart host without monit',
      svc('monit'),
      { init: 'upstart', monit: { installed: false, running: false } },
      'svc.yaml says init: monit, but monit is not installed on web1: install monit there, or use init: upstart (svc.yaml and config/, as svc new --init upstart makes them)',
    ],
  ];
  it.each(mismatches)('refuses %s', (_, op, overrides, problem) => {
    expect(outcome([op], facts([], overrides))).toStrictEqual({
      changes: [],
      problems: [problem],
      warnings: [],
      unchanged: 0,
    });
  });

  const running = { service: { active: true, pid: 7 } };
  const services: [string, Operation[], Partial<HostFacts>, string[], number][] = [
    [
      'monit-run, monit installed, any init: started',
      [svc('monit')],
      { init: 'none' },
      ['start service app: not running'],
      0,
    ],
    [
      'openrc on openrc, stopped: started',
      [svc('openrc')],
      { init: 'openrc' },
      ['start service app: not running'],
      0,
    ],
    [
      'running, nothing it depends on changed: in place',
      [svc('systemd', ['/srv/a'])],
      running,
      [],
      1,
    ],
    [
      'running, a file it depends on changed: restarted, naming each changed path',
      [
        fileOp('/srv/a', 'a'),
        fileOp('/srv/b', 'b'),
        svc('systemd', ['/srv/a', '/srv/c', '/srv/b']),
      ],
      { ...running, paths: new Map([['/srv/c', fileFact('/srv/c', 'c')]]) },
      [
        'create file /srv/a: from config/srv/a',
        'create file /srv/b: from config/srv/b',
        'restart service app: /srv/a changed; /srv/b changed',
      ],
      0,
    ],
    [
      'a user that exists is in place; a missing one is created',
      [
        { kind: 'user', name: 'app', home: '/var/db/app' },
        { kind: 'user', name: 'new', home: '/var/db/new' },
      ],
      {
        users: new Map([
          ['app', { name: 'app', uid: 1, gid: 1, home: '/var/db/app', shell: '/bin/false' }],
          ['new', undefined],
        ]),
      },
      ['create user new: absent'],
      1,
    ],
    [
      'nginx: reloaded when the site or release changed',
      [
        fileOp('/srv/site.conf', 's'),
        { kind: 'nginx', site: 'site', dependsOn: ['/srv/x', '/srv/site.conf'] },
      ],
      {},
      [
        'create file /srv/site.conf: from config/srv/site.conf',
        'reload nginx site: /srv/site.conf changed',
      ],
      0,
    ],
    [
      'nginx: in place when nothing changed',
      [{ kind: 'nginx', site: 'site', dependsOn: ['/srv/x'] }],
      {},
      [],
      1,
    ],
    [
      'monit check unchanged: in place',
      [{ kind: 'monit', name: 'app', check: '/etc/monit/conf.d/app' }],
      {},
      [],
      1,
    ],
    ['a health operation plans nothing', [{ kind: 'health', timeoutSeconds: 5 }], {}, [], 0],
  ];
  it.each(services)('%s', (_, ops, overrides, changes, unchanged) => {
    const result = plan(ops, facts([], overrides));
    expect(result.problems).toEqual([]);
    expect(
      result.changes.map((c) => `${c.action} ${c.kind} ${c.target}: ${c.reasons.join('; ')}`),
    ).toEqual(changes);
    expect(result.unchanged).toBe(unchanged);
  });

  it('a new user is a system user without a login shell', () => {
    const result = plan([{ kind: 'user', name: 'new', home: '/var/db/new' }], facts());
    expect(result.changes).toStrictEqual([
      {
        action: 'create',
        kind: 'user',
        target: 'new',
        reasons: ['absent'],
        detail: 'system user, home /var/db/new, no login shell',
      },
    ]);
  });

  const check = '/etc/monit/conf.d/app';
  const monitOp: Operation = { kind: 'monit', name: 'app', check };
  const checkFile = fileOp(check, 'check process app\n', { source: 'svc (monit check)' });
  it.each([
    ['running: reloaded', { installed: true, running: true }, undefined],
    [
      'not running: reloaded, with a warning',
      { installed: true, running: false },
      ['monit is not running on this host'],
    ],
  ] as const)('monit check changed, monit %s', (_, monit, warnings) => {
    const result = plan([checkFile, monitOp], facts([], { monit }));
    expect(result.changes[1]).toStrictEqual({
      action: 'reload',
      kind: 'monit',
      target: 'app',
      reasons: [`${check} changed`],
      ...(warnings && { warnings: [...warnings] }),
    });
  });

  it('refuses monit checks where monit is not installed', () => {
    expect(
      outcome([monitOp], facts([], { monit: { installed: false, running: false } })),
    ).toStrictEqual({
      changes: [],
      problems: ['svc.yaml says monit: true, but monit is not installed on web1'],
      warnings: [],
      unchanged: 0,
    });
  });

  it('counts starts and reloads as (re)starts', () => {
    const change = (action: Change['action']): Change => ({
      action,
      kind: 'service',
      target: 'x',
      reasons: [],
    });
    expect(
      summarize(
        [
          'create',
          'create',
          'update',
          'delete',
          'delete',
          'delete',
          'start',
          'reload',
          'restart',
        ].map((a) => change(a as Change['action'])),
      ),
    ).toEqual({ create: 2, update: 1, delete: 3, restart: 3 });
    expect(summarize([])).toEqual({ create: 0, update: 0, delete: 0, restart: 0 });
  });

  it.each([
    [
      'systemd',
      'none',
      'svc.yaml says init: systemd, but h runs no systemd (no init system svc knows): deploy to a host that runs systemd (a sandbox one: svc sandbox up --systemd), or use init: monit (svc.yaml and config/, as svc new --init monit makes them)',
    ],
    [
      'openrc',
      'upstart',
      'svc.yaml says init: openrc, but h runs upstart: deploy to a host that runs openrc, or use init: upstart or monit (svc.yaml and config/, as svc new --init upstart makes them)',
    ],
  ])('initMismatch(%s on %s)', (wanted, found, line) => {
    expect(initMismatch(wanted, 'h', found)).toBe(line);
  });
});

describe('the release', () => {
  const history = (...entries: [string, 'good' | 'bad'][]) =>
    entries.map(([id, status]) => ({ id, status, at: `at-${id}` }));
  const cases: [string, ReleaseOperation, Partial<HostFacts>, string[], string[]][] = [
    [
      'new: created, its size in KiB',
      releaseOp('new', { bytes: 10 * 1024 }),
      {},
      ['create release /var/www/app/releases/new: new release (3 files, 10 KiB)'],
      [],
    ],
    [
      'a tiny one counts as 1 KiB',
      releaseOp('new', { bytes: 0 }),
      {},
      ['create release /var/www/app/releases/new: new release (3 files, 1 KiB)'],
      [],
    ],
    [
      'KiB rounded to nearest',
      releaseOp('new', { bytes: 1536 }),
      {},
      ['create release /var/www/app/releases/new: new release (3 files, 2 KiB)'],
      [],
    ],
    [
      'KiB rounded down',
      releaseOp('new', { bytes: 2559 }),
      {},
      ['create release /var/www/app/releases/new: new release (3 files, 2 KiB)'],
      [],
    ],
    [
      'with install commands',
      releaseOp('new', { install: ['npm', 'ci', '--omit=dev'] }),
      {},
      [
        'create release /var/www/app/releases/new: new release (3 files, 2 KiB; then npm ci --omit=dev)',
      ],
      [],
    ],
    [
      'present: in place',
      releaseOp('new'),
      { paths: new Map([['/var/www/app/releases/new', dirFact('/var/www/app/releases/new')]]) },
      [],
      [],
    ],
    [
      'once failed its health check: a warning',
      releaseOp('new'),
      { history: history(['new', 'good'], ['old', 'bad'], ['new', 'bad']) },
      ['create release /var/www/app/releases/new: new release (3 files, 2 KiB)'],
      ['release new failed its health check on web1 at at-new'],
    ],
    [
      'another release failed: no warning',
      releaseOp('new'),
      { history: history(['old', 'bad'], ['new', 'good']) },
      ['create release /var/www/app/releases/new: new release (3 files, 2 KiB)'],
      [],
    ],
  ];
  it.each(cases)('%s', (_, op, overrides, changes, warnings) => {
    const result = plan([op], facts([], overrides));
    expect(result.problems).toEqual([]);
    expect(
      result.changes.map(
        (c) => `${c.action} ${c.kind} ${c.target}: ${c.reasons.join('; ')} (${c.detail})`,
      ),
    ).toEqual(changes);
    expect(result.warnings).toEqual(warnings);
  });
});

describe('pruning old releases', () => {
  const current = (id: string): PathFact => ({
    path: '/var/www/app/current',
    type: 'link',
    target: `releases/${id}`,
  });
  const history = (...entries: [string, 'good' | 'bad'][]) =>
    entries.map(([id, status]) => ({ id, status, at: 'then' }));
  const cases: [string, ReleaseOperation | undefined, Partial<HostFacts>, PathFact[], string[]][] =
    [
      [
        'oldest first beyond keep; without history, by name',
        releaseOp('new'),
        { releases: ['c', 'b', 'a'] },
        [],
        ['a', 'b'],
      ],
      [
        'never the current one, even when oldest',
        releaseOp('new'),
        { releases: ['c', 'b', 'a'] },
        [current('a')],
        ['b', 'c'],
      ],
      [
        'never the live one, the last healthy one before the new; the rest oldest first',
        releaseOp('new'),
        { releases: ['a', 'b', 'c', 'd'], history: history(['a', 'good'], ['b', 'good']) },
        [current('b')],
        ['c', 'd', 'a'],
      ],
      [
        'a bad one goes and does not count; the live one stays, also beyond keep',
        releaseOp('new', { keep: 1 }),
        {
          releases: ['a', 'b', 'c'],
          history: history(['a', 'good'], ['b', 'bad'], ['c', 'good']),
        },
        [current('c')],
        ['a', 'b'],
      ],
      [
        'the one being deployed is counted once when already present',
        releaseOp('new'),
        { releases: ['a', 'new', 'b'] },
        [],
        ['a'],
      ],
      [
        'history decides the age: a redeployed release is as new as its last deploy',
        releaseOp('new'),
        { releases: ['a', 'b'], history: history(['a', 'good'], ['b', 'good'], ['a', 'good']) },
        [],
        ['b'],
      ],
      [
        'releases svc has no history of are older than any it has',
        releaseOp('new', { keep: 3 }),
        {
          releases: ['x', 'y', 'z', 'a'],
          history: history(['x', 'good'], ['y', 'good'], ['z', 'good']),
        },
        [],
        ['a', 'x'],
      ],
      [
        'nothing beyond keep: nothing deleted',
        releaseOp('new', { keep: 3 }),
        { releases: ['a', 'b'] },
        [],
        [],
      ],
      [
        'no release operation: nothing deleted',
        undefined,
        { releases: ['a', 'b', 'c', 'd'] },
        [],
        [],
      ],
    ];
  it.each(cases)('%s', (_, op, overrides, paths, deleted) => {
    const result = plan(op ? [op] : [], facts(paths, overrides));
    expect(result.problems).toEqual([]);
    const deletions = result.changes.filter((change) => change.action === 'delete');
    const bad = new Set(
      (overrides.history ?? []).filter((entry) => entry.status === 'bad').map((entry) => entry.id),
    );
    expect(deletions).toStrictEqual(
      deleted.map((id) => ({
        action: 'delete',
        kind: 'release',
        target: `/var/www/app/releases/${id}`,
        reasons: [
          bad.has(id)
            ? 'it failed its health check (a bad release does not count toward keep)'
            : `keeping the last ${op?.keep} releases`,
        ],
      })),
    );
  });

  it('`current` written as the absolute path still names the live release', () => {
    const absolute: PathFact = {
      path: '/var/www/app/current',
      type: 'link',
      target: '/var/www/app/releases/a',
    };
    const result = plan([releaseOp('new')], facts([absolute], { releases: ['a', 'b', 'c'] }));
    expect(result.changes.map((change) => change.target)).toEqual([
      '/var/www/app/releases/new',
      '/var/www/app/releases/b',
      '/var/www/app/releases/c',
    ]);
  });

  it("a rollback's release is looked up in the release list, not asked as a path", () => {
    const pinned = releaseOp('a', { pinned: true });
    expect(plan([pinned], facts([], { releases: ['a'] })).problems).toEqual([]);
    expect(plan([pinned], facts([], { releases: ['a'] })).changes).toEqual([]);
    expect(plan([pinned], facts([], { releases: ['b'] })).problems).toEqual([
      'release a is not on web1',
    ]);
  });
});

describe('directories this plan makes count for what root writes below them', () => {
  const dirRecord = (
    path: string,
    mode: number,
    owner: string,
    uid: number,
    group = 'root',
    gid = 0,
  ): DirFact => ({
    path,
    mode,
    uid,
    gid,
    owner,
    group,
  });
  const rootChain = [dirRecord('/', 0o755, 'root', 0), dirRecord('/srv', 0o755, 'root', 0)];
  const hostWith = (paths: PathFact[], dirs: DirFact[], overrides: Partial<HostFacts> = {}) =>
    facts(paths, {
      users: new Map([
        ['www-data', { name: 'www-data', uid: 33, gid: 33, home: '/var/www', shell: '/bin/false' }],
      ]),
      groups: new Map([['staff', 50]]),
      dirs: new Map([...rootChain, ...dirs].map((dir) => [dir.path, dir])),
      ...overrides,
    });
  const page = fileOp('/srv/site/index.html', '<p>hi</p>\n');
  const OWNED = (what: string) =>
    `/srv/site on web1 is owned by www-data (${what}), and root would write below it (/srv/site/index.html): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)`;
  const www = dirRecord('/srv/site', 0o755, 'www-data', 33, 'www-data', 33);
  const cases: [
    string,
    DirOperation,
    PathFact[],
    DirFact[],
    Partial<HostFacts>,
    string[],
    string[],
  ][] = [
    ['made root:root: root writes below it', dirOp('/srv/site'), [], [], {}, [], []],
    [
      'made for www-data: root does not write below it',
      dirOp('/srv/site', { owner: 'www-data', group: 'www-data' }),
      [],
      [],
      { groups: new Map([['www-data', 33]]) },
      [OWNED('0755 www-data:www-data')],
      [],
    ],
    [
      'made for a user the host does not know: not trusted',
      dirOp('/srv/site', { owner: 'nobody2', group: 'root' }),
      [],
      [],
      {},
      [
        "/srv/site on web1 is owned by nobody2 (0755 nobody2:root), and root would write below it (/srv/site/index.html): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
      ],
      [],
    ],
    [
      'made root:root group-writable: root is uid and gid 0 even where the facts do not list root',
      dirOp('/srv/site', { mode: 0o775 }),
      [],
      [],
      {},
      [],
      [],
    ],
    [
      'made writable by group staff: refused',
      dirOp('/srv/site', { mode: 0o775, group: 'staff' }),
      [],
      [],
      {},
      [
        "/srv/site on web1 is writable by group staff (0775 root:staff), and root would write below it (/srv/site/index.html): another user could plant a link there; make it root's alone (chown root:root, chmod go-w) or accept it with --allow-path /srv/site",
      ],
      [],
    ],
    [
      'made writable by a group the host does not know: refused',
      dirOp('/srv/site', { mode: 0o775, group: 'ghosts' }),
      [],
      [],
      {},
      [
        "/srv/site on web1 is writable by group ghosts (0775 root:ghosts), and root would write below it (/srv/site/index.html): another user could plant a link there; make it root's alone (chown root:root, chmod go-w) or accept it with --allow-path /srv/site",
      ],
      [],
    ],
    [
      'handed back to root by this plan: root writes below it',
      dirOp('/srv/site'),
      [dirFact('/srv/site', { owner: 'www-data', group: 'www-data' })],
      [www],
      {},
      [],
      [],
    ],
    [
      'left to www-data (unchanged): root does not write below it',
      dirOp('/srv/site', { owner: 'www-data', group: 'www-data' }),
      [dirFact('/srv/site', { owner: 'www-data', group: 'www-data' })],
      [www],
      {},
      [OWNED('0755 www-data:www-data')],
      [],
    ],
    [
      'only ensured: the owner the host reports stays',
      dirOp('/srv/site', { ensureOnly: true }),
      [dirFact('/srv/site', { owner: 'www-data', group: 'www-data' })],
      [www],
      {},
      [OWNED('0755 www-data:www-data')],
      [],
    ],
    [
      'only ensured and created, yet the host reports a directory there: the host wins',
      dirOp('/srv/site', { ensureOnly: true }),
      [],
      [www],
      {},
      [OWNED('0755 www-data:www-data')],
      [],
    ],
    [
      'keyed by where the host resolves it',
      dirOp('/srv/site', { owner: 'www-data', group: 'root' }),
      [],
      [dirRecord('/data', 0o755, 'root', 0)],
      {
        resolved: new Map([
          ['/srv/site', '/data/site'],
          ['/srv/site/index.html', '/data/site/index.html'],
        ]),
      },
      [
        "/data/site on web1 is owned by www-data (0755 www-data:root), and root would write below it (/srv/site/index.html): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)",
      ],
      [],
    ],
  ];
  it.each(cases)('%s', (_, dir, paths, dirs, overrides, problems, warnings) => {
    const result = plan([dir, page], hostWith(paths, dirs, overrides));
    expect(result.problems).toEqual(problems);
    expect(result.warnings).toEqual(warnings);
  });

  it('a group-writable one named by --allow-path is written below, with a warning', () => {
    const result = plan(
      [dirOp('/srv/site', { mode: 0o775, group: 'staff' }), page],
      hostWith([], []),
      ['/srv/site'],
    );
    expect(result.problems).toEqual([]);
    expect(result.warnings).toEqual([
      '/srv/site is writable by group staff (0775 root:staff); root writes below it (/srv/site/index.html) because of --allow-path',
    ]);
  });

  const tmp = dirRecord('/tmp', 0o1777, 'root', 0);
  const STICKY = (path: string) =>
    `/tmp on web1 is writable by every user (sticky) (1777 root:root), and root would write below it (${path}): another user could plant a link there; make it root's alone (chown root:root, chmod go-w)`;
  it.each([
    ['a directory', dirOp('/tmp/d')],
    ['a link', linkOp('/tmp/l', '/srv/x')],
    ['a file', fileOp('/tmp/f', 'x\n')],
    ['a release', { ...releaseOp('r1'), path: '/tmp/r1' }],
  ] as [string, Operation & { path: string }][])(
    '%s created below a directory anyone can write is refused',
    (_, op) => {
      const result = plan([op], facts([], { dirs: new Map([['/tmp', tmp]]) }));
      expect(result.problems).toEqual([STICKY(op.path)]);
    },
  );

  it("a diff read below a directory that is not root's alone is never shown", () => {
    const old = '<p>old</p>\n';
    const host = hostWith(
      [
        dirFact('/srv/site', { owner: 'www-data', group: 'www-data' }),
        fileFact('/srv/site/index.html', old, { content: bytes(old) }),
        fileFact('/srv/site/app.env', old, { content: bytes(old) }),
        fileFact('/srv/ok.html', old, { content: bytes(old) }),
      ],
      [www],
      { installed: ['/srv/site/index.html', '/srv/site/app.env', '/srv/ok.html'] },
    );
    const result = plan(
      [
        dirOp('/srv/site', { owner: 'www-data', group: 'www-data' }),
        dirOp('/srv/site/sub'),
        page,
        fileOp('/srv/site/app.env', 'SECRET=1\n', { secret: true }),
        fileOp('/srv/ok.html', '<p>hi</p>\n'),
      ],
      host,
    );
    const byTarget = Object.fromEntries(result.changes.map((change) => [change.target, change]));
    expect(byTarget['/srv/site/index.html']!.diff).toBe(
      "(not shown: a directory on its way is not root's alone)",
    );
    expect(byTarget['/srv/site/sub']).toStrictEqual({
      action: 'create',
      kind: 'dir',
      target: '/srv/site/sub',
      reasons: ['absent'],
      detail: '0755 root:root',
    });
    expect(byTarget['/srv/site/app.env']!.diff).toBeUndefined();
    expect(byTarget['/srv/site/app.env']!.sensitive).toBe(true);
    expect(byTarget['/srv/ok.html']!.diff).toContain('-<p>old</p>\n+<p>hi</p>');
  });
});

describe('whose own files are not sensitive, and links this plan makes', () => {
  const svcFile = (path: string) => fileOp(path, 'x\n');
  it.each([
    [
      "the service's own unit",
      [
        { kind: 'service', name: 'app', init: 'systemd', dependsOn: [] },
        svcFile('/etc/systemd/system/app.service'),
      ],
      [],
    ],
    [
      "a static site's own monit check (no service: the check's name)",
      [
        { kind: 'monit', name: 'site', check: '/etc/monit/conf.d/site' },
        svcFile('/etc/monit/conf.d/site'),
      ],
      [],
    ],
    [
      "another service's unit",
      [
        { kind: 'service', name: 'app', init: 'systemd', dependsOn: [] },
        svcFile('/etc/systemd/system/other.service'),
      ],
      [
        '/etc/systemd/system/other.service on web1 is a sensitive file (/etc/systemd/**); svc writes it only with --allow-path /etc/systemd/system/other.service',
      ],
    ],
    [
      "another site's monit check",
      [
        { kind: 'monit', name: 'site', check: '/etc/monit/conf.d/site' },
        svcFile('/etc/monit/conf.d/other'),
      ],
      [
        '/etc/monit/conf.d/other on web1 is a sensitive file (/etc/monit/**); svc writes it only with --allow-path /etc/monit/conf.d/other',
      ],
    ],
    [
      'a file below a link this plan makes in the login home',
      [linkOp('~/service/app', '/srv/app'), svcFile('/home/deploy/service/app/x')],
      [
        '/home/deploy/service/app/x on web1 lies below /home/deploy/service/app, a link this plan makes; svc does not write through a link',
      ],
    ],
  ] as [string, Operation[], string[]][])('%s', (_, ops, problems) => {
    expect(plan(ops, facts()).problems).toEqual(problems);
  });
});
